/**
 * The token sFOX mints for one end user, and the wire schemas it is decoded
 * from.
 *
 * @since 0.1.0
 */
import * as DateTime from "effect/DateTime"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"

/**
 * A user auth token: the secret `token` (kept `Redacted`), the user it acts
 * for, and when it expires (24 h after minting).
 *
 * @example
 * ```ts
 * import { UserAuthToken } from "@sfox-effect/core"
 * import { DateTime, Redacted } from "effect"
 *
 * const header = (t: UserAuthToken) => `Bearer ${Redacted.value(t.token)}`
 * const remaining = (t: UserAuthToken, now: DateTime.Utc) => DateTime.distanceDuration(now, t.expires)
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export class UserAuthToken extends Schema.Class<UserAuthToken>("@sfox-effect/core/UserAuthToken")({
  token: Schema.RedactedFromSelf(Schema.String),
  userId: Schema.String,
  expires: Schema.DateTimeUtcFromSelf
}) {
  /**
   * Whether the token is still valid at `now`, with `margin` to spare.
   *
   * @since 0.1.0
   */
  isValidAt(now: DateTime.Utc, marginMillis = 0): boolean {
    return DateTime.toEpochMillis(this.expires) - marginMillis > DateTime.toEpochMillis(now)
  }
}

/**
 * One token object exactly as sFOX sends it.
 *
 * @since 0.1.0
 * @category schemas
 */
export const UserAuthTokenWire = Schema.Struct({
  token: Schema.String,
  partner_user_id: Schema.String,
  expires: Schema.String
})

/**
 * @since 0.1.0
 * @category models
 */
export type UserAuthTokenWire = typeof UserAuthTokenWire.Type

/**
 * Decodes one wire token object into a `UserAuthToken`. The token must be a
 * non-empty string; `expires` is ISO-8601 with or without milliseconds.
 *
 * @since 0.1.0
 * @category schemas
 */
export const UserAuthTokenFromWire: Schema.Schema<UserAuthToken, UserAuthTokenWire> = Schema.transform(
  Schema.Struct({
    token: Schema.Redacted(Schema.NonEmptyString),
    partner_user_id: Schema.NonEmptyString,
    expires: Schema.DateTimeUtc
  }),
  Schema.typeSchema(UserAuthToken),
  {
    strict: true,
    decode: (wire) =>
      new UserAuthToken({ token: wire.token, userId: wire.partner_user_id, expires: wire.expires }, true),
    encode: (token) => ({ token: token.token, partner_user_id: token.userId, expires: token.expires })
  }
)

/**
 * The body of a `201` from `POST /v1/enterprise/user-tokens/{user_id}`.
 *
 * @since 0.1.0
 * @category schemas
 */
export const SingleTokenResponse = Schema.Struct({ data: UserAuthTokenFromWire })

/**
 * The body of a `201` from `POST /v1/enterprise/user-tokens`.
 *
 * @since 0.1.0
 * @category schemas
 */
export const BatchTokenResponse = Schema.Struct({ data: Schema.Array(UserAuthTokenFromWire) })

/**
 * The body of a batch request: `{"data": [ids]}`.
 *
 * @since 0.1.0
 * @category schemas
 */
export const BatchTokenRequest = Schema.Struct({ data: Schema.NonEmptyArray(Schema.String) })

/**
 * sFOX's error body, `{"error": "reason"}`. Other keys are ignored.
 *
 * @since 0.1.0
 * @category schemas
 */
export const ErrorBody = Schema.Struct({ error: Schema.String })

/**
 * Encodes a token back to sFOX's wire shape (the secret included: use it
 * only to answer as sFOX would, as the simulator does).
 *
 * @since 0.1.0
 * @category encoding
 */
export const toWire = (token: UserAuthToken): UserAuthTokenWire => ({
  token: Redacted.value(token.token),
  partner_user_id: token.userId,
  expires: DateTime.formatIso(token.expires)
})
