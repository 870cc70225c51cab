import * as DateTime from "effect/DateTime"
import * as Redacted from "effect/Redacted"
import { UserAuthToken, type UserAuthTokenWire } from "../UserAuthToken.js"

/** The key of the raw token in `RawFields`: a symbol, so that no wire object can carry one. */
export const rawToken: unique symbol = Symbol.for("@sfox-effect/effect4-core/UserAuthToken/raw") as never

/**
 * What the service's decoder builds a token from: the secret as a plain
 * string and the expiry as millis, so that neither a `Redacted` nor a
 * `DateTime` is made unless someone reads them (the hot path of every mint).
 */
export interface RawFields {
  readonly [rawToken]: string
  readonly userId: string
  readonly expiresAtMillis: number
}

type FromRaw = new(fields: RawFields) => UserAuthToken

/**
 * A token from values already checked on the wire (the token's characters,
 * the date's shape): for the service's own decoder only.
 */
export const unsafeFromWire = (token: string, userId: string, expiresAtMillis: number): UserAuthToken =>
  // Read at call time: this module and UserAuthToken.ts import each other.
  new (UserAuthToken as unknown as FromRaw)({ [rawToken]: token, userId, expiresAtMillis })

/**
 * Encodes a token back to sFOX's wire shape, the secret included: only to
 * answer as sFOX would (the simulator).
 */
export const toWire = (token: UserAuthToken): UserAuthTokenWire => ({
  token: Redacted.value(token.token),
  partner_user_id: token.userId,
  expires: DateTime.formatIso(token.expires)
})
