/**
 * The token sFOX mints for one end user, and the wire schemas it is decoded
 * from.
 *
 * @since 0.1.0
 */
import { Wire } from "@sfox-effect/domain"
import * as DateTime from "effect/DateTime"
import * as Equal from "effect/Equal"
import * as Hash from "effect/Hash"
import * as Inspectable from "effect/Inspectable"
import * as ParseResult from "effect/ParseResult"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import { type RawFields, rawToken } from "./internal/userAuthToken.js"

const { isToken, notADateText, notATokenText, parseExpires } = Wire

/**
 * A user auth token: the secret `token` (a `Redacted`), the user it acts
 * for, and when it expires (24 h after minting).
 *
 * The secret is wrapped in its `Redacted` when first read, and `expires`
 * built when first read: a batch of 100,000 tokens that are handed on
 * without being looked at costs a tenth of the memory and time it would if
 * every token carried both objects from the start. Until then the secret
 * sits in a private field that no printing, `JSON.stringify` or inspection
 * reaches.
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
export class UserAuthToken implements Equal.Equal, Inspectable.Inspectable {
  /**
   * The user (sFOX's `partner_user_id`) the token acts for.
   *
   * @since 0.1.0
   */
  readonly userId: string
  /**
   * When the token expires, in milliseconds since the epoch.
   *
   * @since 0.1.0
   */
  readonly expiresAtMillis: number
  /** @internal */
  readonly #secret: string
  /** @internal */
  #token: Redacted.Redacted<string> | undefined
  /** @internal */
  #expires: DateTime.Utc | undefined

  constructor(
    fields: { readonly token: Redacted.Redacted<string>; readonly userId: string; readonly expires: DateTime.Utc }
  )
  // The decoder's faster form (`RawFields`, see internal/userAuthToken.ts) is
  // accepted here but not declared: it is no constructor for users.
  constructor(
    fields:
      | { readonly token: Redacted.Redacted<string>; readonly userId: string; readonly expires: DateTime.Utc }
      | RawFields
  ) {
    this.userId = fields.userId
    if (rawToken in fields) {
      this.#secret = fields[rawToken]
      this.expiresAtMillis = fields.expiresAtMillis
    } else {
      this.#token = fields.token
      this.#secret = Redacted.value(fields.token)
      this.#expires = fields.expires
      this.expiresAtMillis = DateTime.toEpochMillis(fields.expires)
    }
  }

  /** The secret, as a `Redacted`: read it with `Redacted.value`. */
  get token(): Redacted.Redacted<string> {
    return this.#token ??= Redacted.make(this.#secret)
  }

  /** When the token expires. */
  get expires(): DateTime.Utc {
    return this.#expires ??= DateTime.unsafeMake(this.expiresAtMillis)
  }

  /**
   * Whether the token is still valid at `now`, with `marginMillis` to spare.
   *
   * @since 0.1.0
   */
  isValidAt(now: DateTime.Utc, marginMillis = 0): boolean {
    return this.expiresAtMillis - marginMillis > DateTime.toEpochMillis(now)
  }

  /** @since 0.1.0 */
  [Equal.symbol](that: Equal.Equal): boolean {
    return that instanceof UserAuthToken && that.userId === this.userId && that.#secret === this.#secret &&
      that.expiresAtMillis === this.expiresAtMillis
  }

  /** @since 0.1.0 */
  [Hash.symbol](): number {
    return Hash.cached(this, Hash.combine(Hash.string(this.userId))(Hash.string(this.#secret)))
  }

  /** @since 0.1.0 */
  toJSON(): unknown {
    return {
      _id: "UserAuthToken",
      userId: this.userId,
      token: "<redacted>",
      expires: new Date(this.expiresAtMillis).toISOString()
    }
  }

  /** @since 0.1.0 */
  toString(): string {
    return Inspectable.format(this.toJSON())
  }

  /** @since 0.1.0 */
  [Inspectable.NodeInspectSymbol](): unknown {
    return this.toJSON()
  }
}

/**
 * The `UserAuthToken` class as a schema (a value already decoded), for
 * schemas of one's own that hold tokens.
 *
 * @example
 * ```ts
 * import { UserAuthTokenFromSelf } from "@sfox-effect/core"
 * import { Schema } from "effect"
 *
 * const Session = Schema.Struct({ sessionId: Schema.String, sfox: UserAuthTokenFromSelf })
 * ```
 *
 * @since 0.1.0
 * @category schemas
 */
export const UserAuthTokenFromSelf: Schema.Schema<UserAuthToken> = Schema.declare(
  (u: unknown): u is UserAuthToken => u instanceof UserAuthToken,
  {
    identifier: "UserAuthToken",
    description: "a user auth token",
    pretty: () => (token) => Inspectable.format(token.toJSON()),
    equivalence: () => (a, b) => Equal.equals(a, b)
  }
)

/**
 * One token object exactly as sFOX sends it, strings unchecked: for a fake
 * sFOX, or to read a body as it came.
 *
 * @example
 * ```ts
 * import { UserAuthTokenWire } from "@sfox-effect/core"
 * import { Schema } from "effect"
 *
 * const raw = Schema.decodeUnknownSync(UserAuthTokenWire)({
 *   token: "dGVzdC10b2tlbg",
 *   partner_user_id: "user-1",
 *   expires: "2024-05-14T19:22:09.901Z"
 * })
 * ```
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
 * One token object as sFOX sends it, as a type.
 *
 * @example
 * ```ts
 * import type { UserAuthTokenWire } from "@sfox-effect/core"
 *
 * const sample: UserAuthTokenWire = {
 *   token: "dGVzdC10b2tlbg",
 *   partner_user_id: "user-1",
 *   expires: "2022-02-08T03:28:56Z"
 * }
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export type UserAuthTokenWire = typeof UserAuthTokenWire.Type

// The messages are fixed texts: a failing value may be a token, and is never shown.
const BearerToken = Schema.String.pipe(
  Schema.filter(isToken, {
    message: () => notATokenText
  })
)

const ExpiresUtc = Schema.transformOrFail(Schema.String, Schema.DateTimeUtcFromSelf, {
  strict: true,
  decode: (expires, _, ast) => {
    const millis = parseExpires(expires)
    return millis === undefined
      ? ParseResult.fail(new ParseResult.Type(ast, expires, notADateText))
      : ParseResult.succeed(DateTime.unsafeMake(millis))
  },
  encode: (expires) => ParseResult.succeed(DateTime.formatIso(expires))
})

/**
 * Decodes one wire token object into a `UserAuthToken`.
 *
 * - `token` must be an RFC 6750 `b64token` (`[A-Za-z0-9-._~+/]+=*`) of at
 *   most 4096 characters: anything else (a space, CR/LF, an escape
 *   character) could not travel as `Authorization: Bearer <token>` unchanged.
 * - `partner_user_id` must be a non-empty string.
 * - `expires` must be ISO-8601 in UTC, `YYYY-MM-DDTHH:MM:SS`, optional
 *   fractional seconds, then `Z` or `+00:00` (`2024-05-14T19:22:09.901Z`,
 *   `2022-02-08T03:28:56Z`), and a real calendar date.
 *
 * `UserTokenService` also refuses a token whose `expires` is more than five
 * minutes (the allowed clock skew) before the moment the answer arrived.
 *
 * @example
 * ```ts
 * import { UserAuthTokenFromWire } from "@sfox-effect/core"
 * import { Schema } from "effect"
 *
 * const token = Schema.decodeUnknownSync(UserAuthTokenFromWire)({
 *   token: "dGVzdC10b2tlbg",
 *   partner_user_id: "user-1",
 *   expires: "2022-02-08T03:28:56Z"
 * })
 * token.userId // "user-1"; token.token is Redacted
 * ```
 *
 * @since 0.1.0
 * @category schemas
 */
export const UserAuthTokenFromWire: Schema.Schema<UserAuthToken, UserAuthTokenWire> = Schema.transform(
  Schema.Struct({
    token: Schema.Redacted(BearerToken),
    partner_user_id: Schema.NonEmptyString,
    expires: ExpiresUtc
  }),
  UserAuthTokenFromSelf,
  {
    strict: true,
    decode: (wire) => new UserAuthToken({ token: wire.token, userId: wire.partner_user_id, expires: wire.expires }),
    encode: (token) => ({ token: token.token, partner_user_id: token.userId, expires: token.expires })
  }
)

/**
 * The body of a `201` from `POST /v1/enterprise/user-tokens/{user_id}`.
 *
 * @example
 * ```ts
 * import { SingleTokenResponse } from "@sfox-effect/core"
 * import { HttpClientResponse } from "@effect/platform"
 *
 * // For a call of one's own to the endpoint; the service does this itself.
 * const readToken = HttpClientResponse.schemaBodyJson(SingleTokenResponse)
 * ```
 *
 * @since 0.1.0
 * @category schemas
 */
export const SingleTokenResponse = Schema.Struct({ data: UserAuthTokenFromWire })

/**
 * The body of a `201` from `POST /v1/enterprise/user-tokens`. The tokens
 * come in any order: match them by `userId`, never by position.
 *
 * @example
 * ```ts
 * import { BatchTokenResponse } from "@sfox-effect/core"
 * import { Schema } from "effect"
 *
 * const { data } = Schema.decodeUnknownSync(BatchTokenResponse)({
 *   data: [{ token: "dGVzdC10b2tlbg", partner_user_id: "user-1", expires: "2022-02-08T03:28:56Z" }]
 * })
 * const byUser = new Map(data.map((token) => [token.userId, token]))
 * ```
 *
 * @since 0.1.0
 * @category schemas
 */
export const BatchTokenResponse = Schema.Struct({ data: Schema.Array(UserAuthTokenFromWire) })
