/**
 * The typed failures of `UserTokenService`.
 *
 * Every error is a `Schema.TaggedError`, so it can be matched with
 * `Effect.catchTag`, serialised, and compared. None of them ever holds the
 * API key or a token: texts taken from sFOX's answers are scrubbed first.
 *
 * @since 0.1.0
 */
import { ErrorText, Printable } from "@sfox-effect/domain"
import * as Duration from "effect/Duration"
import * as Schema from "effect/Schema"
import * as Internal from "./internal/sfoxError.js"

/**
 * The brand every `UserTokenError` carries, whatever its class: a guard that
 * no list of tags has to keep up with.
 *
 * @example
 * ```ts
 * import { TypeId } from "@sfox-effect/effect4-core"
 *
 * const fromThisLibrary = (u: unknown): boolean => typeof u === "object" && u !== null && TypeId in u
 * ```
 *
 * @since 0.2.0
 * @category type ids
 */
export const TypeId: typeof Internal.TypeId = Internal.TypeId

/**
 * The type of `TypeId`.
 *
 * @example
 * ```ts
 * import { TypeId, type UserTokenError } from "@sfox-effect/effect4-core"
 *
 * // Every error class carries the brand as a property.
 * const brandOf = (error: UserTokenError): TypeId => error[TypeId]
 * ```
 *
 * @since 0.2.0
 * @category type ids
 */
export type TypeId = typeof TypeId

/**
 * A user id that cannot be sent safely: not a string, empty, surrounded by
 * whitespace, holding control characters, a dot segment, or absurdly long.
 * No request is sent.
 *
 * `preview` is a short printable rendering of the input, never the raw value
 * (it may hold anything): a string is shown quoted and escaped (`create("")`
 * gives the two characters `""`), a long one by its length and a
 * fingerprint, anything else by its type. `description` says what is wrong
 * with it, and `index` is its position when it came from `createMany`: use
 * it to find the input itself.
 *
 * @example
 * ```ts
 * import { UserTokenService } from "@sfox-effect/effect4-core"
 * import { Effect } from "effect"
 *
 * const mint = (userIds: ReadonlyArray<string>) =>
 *   Effect.flatMap(UserTokenService, (tokens) => tokens.createMany(userIds)).pipe(
 *     Effect.catchTag("InvalidUserId", (error) =>
 *       Effect.fail(`bad id ${error.preview} at ${error.index ?? "?"}: ${error.description}`))
 *   )
 * ```
 *
 * @since 0.1.0
 * @category errors
 */
export class InvalidUserId extends Schema.TaggedError<InvalidUserId>("@sfox-effect/effect4-core/InvalidUserId")(
  "InvalidUserId",
  {
    /**
     * A short, printable preview of the offending input (quoted, escaped),
     * never the input itself. Named `userId` in 0.1.0.
     *
     * @since 0.2.0
     */
    preview: Schema.String,
    description: Schema.String,
    /** Position of the id in the `createMany` input, when it came from one. */
    index: Schema.optional(Schema.Number)
  }
) {
  static {
    Internal.nameByTag(this, "InvalidUserId")
  }

  /**
   * @since 0.2.0
   */
  readonly [TypeId]: TypeId = TypeId

  override get message(): string {
    return ErrorText.invalidUserId(this)
  }
}

/**
 * `createMany` was called with no ids. No request is sent. It has no
 * fields: an empty list is often fine for the caller, who can recover with
 * an empty result.
 *
 * @example
 * ```ts
 * import { type UserAuthToken, UserTokenService } from "@sfox-effect/effect4-core"
 * import { Effect } from "effect"
 *
 * const mintAll = (userIds: ReadonlyArray<string>) =>
 *   Effect.flatMap(UserTokenService, (tokens) => tokens.createMany(userIds)).pipe(
 *     Effect.catchTag("EmptyBatch", () => Effect.succeed<ReadonlyArray<UserAuthToken>>([]))
 *   )
 * ```
 *
 * @since 0.1.0
 * @category errors
 */
export class EmptyBatch
  extends Schema.TaggedError<EmptyBatch>("@sfox-effect/effect4-core/EmptyBatch")("EmptyBatch", {})
{
  static {
    Internal.nameByTag(this, "EmptyBatch")
  }

  /**
   * @since 0.2.0
   */
  readonly [TypeId]: TypeId = TypeId

  override get message(): string {
    return ErrorText.emptyBatch
  }
}

/**
 * sFOX refused the API key (`401`) or the key may not act for that user
 * (`403`). Never retried: the same key would be refused again.
 *
 * `status` is `401` or `403`, `description` is sFOX's `error` text
 * (scrubbed of any secret), `requestId` the answer's request id if it had one.
 *
 * @example
 * ```ts
 * import { UserTokenService } from "@sfox-effect/effect4-core"
 * import { Effect } from "effect"
 *
 * const mint = Effect.flatMap(UserTokenService, (tokens) => tokens.create("user-1")).pipe(
 *   Effect.catchTag("Unauthorized", (error) =>
 *     // A 401 is our key: page someone. A 403 is this user: tell the caller.
 *     error.status === 401
 *       ? Effect.die(`sFOX refused the enterprise key (request ${error.requestId ?? "unknown"})`)
 *       : Effect.fail(`not allowed for this user: ${error.description}`))
 * )
 * ```
 *
 * @since 0.1.0
 * @category errors
 */
export class Unauthorized extends Schema.TaggedError<Unauthorized>("@sfox-effect/effect4-core/Unauthorized")(
  "Unauthorized",
  {
    status: Schema.Number,
    description: Schema.String,
    /**
     * The id the answer gave itself (`x-request-id` or a similar header),
     * when it had one: what sFOX support asks for first.
     */
    requestId: Schema.optional(Schema.String),
    /**
     * The origin the key was sent to (`baseUrl`'s, e.g. `https://api.sfox.com`):
     * a key is issued for one sFOX environment.
     *
     * @since 0.2.0
     */
    origin: Schema.optional(Schema.String)
  }
) {
  static {
    Internal.nameByTag(this, "Unauthorized")
  }

  /**
   * @since 0.2.0
   */
  readonly [TypeId]: TypeId = TypeId

  override get message(): string {
    return ErrorText.unauthorized(this)
  }
}

/**
 * sFOX answered `429`. `retryAfter` is its `Retry-After` header when it sent
 * one, otherwise sFOX's documented lockout. The service has already
 * retried within its `maxRetryAfter`: this reaches the caller when the wait
 * is longer, or the retries ran out. `description` is sFOX's text,
 * `requestId` the answer's request id.
 *
 * @example
 * ```ts
 * import { UserTokenService } from "@sfox-effect/effect4-core"
 * import { Duration, Effect } from "effect"
 *
 * // Tell the client when to come back instead of holding its request open.
 * const mint = Effect.flatMap(UserTokenService, (tokens) => tokens.create("user-1")).pipe(
 *   Effect.catchTag("RateLimited", (error) =>
 *     Effect.fail({ status: 503, retryAfterSeconds: Math.ceil(Duration.toSeconds(error.retryAfter)) }))
 * )
 * ```
 *
 * @since 0.1.0
 * @category errors
 */
export class RateLimited extends Schema.TaggedError<RateLimited>("@sfox-effect/effect4-core/RateLimited")(
  "RateLimited",
  {
    retryAfter: Schema.Duration,
    description: Schema.String,
    /**
     * The id the answer gave itself (`x-request-id` or a similar header),
     * when it had one: what sFOX support asks for first.
     */
    requestId: Schema.optional(Schema.String)
  }
) {
  static {
    Internal.nameByTag(this, "RateLimited")
  }

  /**
   * @since 0.2.0
   */
  readonly [TypeId]: TypeId = TypeId

  override get message(): string {
    return ErrorText.rateLimited(this, Duration.format(this.retryAfter))
  }
}

/**
 * Any other non-2xx answer: the status and sFOX's `error` text (or a short,
 * scrubbed excerpt of a body that has none).
 *
 * `retryAfter` is the server's hint if it sent one; `userIds` names the
 * users sFOX refused when `createMany` split a refused batch to find them;
 * `requestId` is the answer's request id, for sFOX support.
 *
 * @example
 * ```ts
 * import { UserTokenService } from "@sfox-effect/effect4-core"
 * import { Effect } from "effect"
 *
 * const mint = (userIds: ReadonlyArray<string>) =>
 *   Effect.flatMap(UserTokenService, (tokens) => tokens.createMany(userIds)).pipe(
 *     Effect.catchTag("HttpFailure", (error) =>
 *       Effect.fail(
 *         error.status === 404 && error.userIds !== undefined
 *           ? `unknown to sFOX: ${error.userIds.join(", ")}`
 *           : `sFOX answered ${error.status}: ${error.description} (request ${error.requestId ?? "unknown"})`
 *       ))
 *   )
 * ```
 *
 * @since 0.1.0
 * @category errors
 */
export class HttpFailure extends Schema.TaggedError<HttpFailure>("@sfox-effect/effect4-core/HttpFailure")(
  "HttpFailure",
  {
    status: Schema.Number,
    description: Schema.String,
    /** The server's `Retry-After` hint, when it sent one. */
    retryAfter: Schema.optional(Schema.Duration),
    /**
     * The users sFOX refused, when `createMany` could tell them apart by
     * splitting a refused batch (see `UserTokenService.createMany`).
     */
    userIds: Schema.optional(Schema.Array(Schema.String)),
    /**
     * The id the answer gave itself (`x-request-id` or a similar header),
     * when it had one: what sFOX support asks for first.
     */
    requestId: Schema.optional(Schema.String)
  }
) {
  static {
    Internal.nameByTag(this, "HttpFailure")
  }

  /**
   * @since 0.2.0
   */
  readonly [TypeId]: TypeId = TypeId

  override get message(): string {
    return ErrorText.httpFailure(this)
  }
}

/**
 * The request never produced a complete answer.
 *
 * - `Connect`: the host could not be reached.
 * - `Tls`: the client refused the server's certificate (expired, not yet
 *   valid, self-signed, unknown issuer, another host's). Never retried: the
 *   same certificate would be refused again.
 * - `Reset`: the connection dropped before the whole answer arrived.
 * - `Timeout`: an attempt, or the whole call, ran past its time.
 * - `TooLarge`: the answer (its body, or its headers: undici's `UND_ERR_HEADERS_OVERFLOW`)
 *   was bigger than the client accepts. Never retried: it would come as big again.
 * - `Request`: the request could not be sent at all (a local error: never transient).
 * - `Other`: any other transport failure.
 *
 * `description` is a short text for logs; `cause` is the underlying error,
 * when there is one.
 *
 * @example
 * ```ts
 * import { UserTokenService } from "@sfox-effect/effect4-core"
 * import { Effect } from "effect"
 *
 * const mint = Effect.flatMap(UserTokenService, (tokens) => tokens.create("user-1")).pipe(
 *   Effect.catchTag("TransportError", (error) =>
 *     // Retries are spent by now: a certificate problem needs a human, the rest a later try.
 *     error.reason === "Tls" ? Effect.die(error) : Effect.fail(`sFOX unreachable: ${error.description}`))
 * )
 * ```
 *
 * @since 0.1.0
 * @category errors
 */
export class TransportError extends Schema.TaggedError<TransportError>("@sfox-effect/effect4-core/TransportError")(
  "TransportError",
  {
    reason: Schema.Literals(["Connect", "Tls", "Reset", "Timeout", "TooLarge", "Request", "Other"]),
    description: Schema.String,
    cause: Schema.optional(Schema.Defect())
  }
) {
  static {
    Internal.nameByTag(this, "TransportError")
  }

  /**
   * @since 0.2.0
   */
  readonly [TypeId]: TypeId = TypeId

  override get message(): string {
    return ErrorText.transportError(this)
  }
}

/**
 * A 2xx answer that is not what sFOX documents: not JSON, the wrong shape,
 * or a batch answer that misses, adds or repeats a user. No token from such
 * an answer is ever handed out.
 *
 * `status` is the 2xx status of that answer, `description` what did not
 * match (never the body's secrets), `requestId` the answer's request id.
 *
 * @example
 * ```ts
 * import { UserTokenService } from "@sfox-effect/effect4-core"
 * import { Effect } from "effect"
 *
 * const mint = Effect.flatMap(UserTokenService, (tokens) => tokens.create("user-1")).pipe(
 *   Effect.tapErrorTag("MalformedResponse", (error) =>
 *     Effect.logError("sFOX's answer did not decode", error.description, error.requestId ?? "no request id"))
 * )
 * ```
 *
 * @since 0.1.0
 * @category errors
 */
export class MalformedResponse extends Schema.TaggedError<MalformedResponse>(
  "@sfox-effect/effect4-core/MalformedResponse"
)("MalformedResponse", {
  status: Schema.Number,
  description: Schema.String,
  /**
   * The id the answer gave itself (`x-request-id` or a similar header),
   * when it had one: what sFOX support asks for first.
   */
  requestId: Schema.optional(Schema.String)
}) {
  static {
    Internal.nameByTag(this, "MalformedResponse")
  }

  /**
   * @since 0.2.0
   */
  readonly [TypeId]: TypeId = TypeId

  override get message(): string {
    return ErrorText.malformedResponse(this)
  }
}

/**
 * The shared rate limiter (`SfoxRateLimiter`, for example the Redis one of
 * `@sfox-effect/redis`) could not give a turn: its store could not be
 * reached, or answered slower than its bound, or the limiter's scope was
 * closed while the caller waited (or before it asked). No request was sent,
 * so sFOX saw nothing. Not transient for the retry policy: waiting briefly
 * does not heal a store that is down, and retrying here would only hide that
 * the budget is no longer shared.
 *
 * `description` says why (a connection refused, a slow answer), with any
 * password of the store's URL scrubbed.
 *
 * @example
 * ```ts
 * import { UserTokenService } from "@sfox-effect/effect4-core"
 * import { Effect } from "effect"
 *
 * const mint = Effect.flatMap(UserTokenService, (tokens) => tokens.create("user-1")).pipe(
 *   Effect.catchTag("RateLimiterUnavailable", (error) =>
 *     Effect.fail({ status: 503, reason: `rate limiter down: ${error.description}` }))
 * )
 * ```
 *
 * @since 0.2.0
 * @category errors
 */
export class RateLimiterUnavailable extends Schema.TaggedError<RateLimiterUnavailable>(
  "@sfox-effect/effect4-core/RateLimiterUnavailable"
)("RateLimiterUnavailable", {
  description: Schema.String
}) {
  static {
    Internal.nameByTag(this, "RateLimiterUnavailable")
  }

  /**
   * @since 0.2.0
   */
  readonly [TypeId]: TypeId = TypeId

  override get message(): string {
    return ErrorText.rateLimiterUnavailable(this)
  }
}

/**
 * Every failure `UserTokenService` can produce, as a schema: to send one
 * across a worker or RPC boundary and get the same class back.
 *
 * @example
 * ```ts
 * import { EmptyBatch, UserTokenError } from "@sfox-effect/effect4-core"
 * import { Schema } from "effect"
 *
 * const json = Schema.encodeSync(UserTokenError)(new EmptyBatch())
 * const back = Schema.decodeUnknownSync(UserTokenError)(json) // an EmptyBatch again
 * ```
 *
 * @since 0.1.0
 * @category schemas
 */
export const UserTokenError = Schema.Union([
  InvalidUserId,
  EmptyBatch,
  Unauthorized,
  RateLimited,
  HttpFailure,
  TransportError,
  MalformedResponse,
  RateLimiterUnavailable
])

/**
 * Every failure `UserTokenService` can produce, as a type: match it with
 * `Effect.catchTag` or `Effect.catchTags`.
 *
 * @example
 * ```ts
 * import type { UserTokenError } from "@sfox-effect/effect4-core"
 *
 * const httpStatusFor = (error: UserTokenError): number => {
 *   switch (error._tag) {
 *     case "InvalidUserId":
 *     case "EmptyBatch":
 *       return 400
 *     case "RateLimited":
 *       return 429
 *     default:
 *       return 502
 *   }
 * }
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export type UserTokenError = InvalidUserId | EmptyBatch | RequestFailure

/**
 * The failures a request can end with (everything but bad input).
 *
 * @example
 * ```ts
 * import type { RequestFailure } from "@sfox-effect/effect4-core"
 *
 * // Most failures of a request name the answer, for sFOX support.
 * const requestIdOf = (error: RequestFailure): string | undefined =>
 *   "requestId" in error ? error.requestId : undefined
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export type RequestFailure =
  | Unauthorized
  | RateLimited
  | HttpFailure
  | TransportError
  | MalformedResponse
  | RateLimiterUnavailable

/**
 * Whether a value is one of the `UserTokenError` classes.
 *
 * @example
 * ```ts
 * import { isUserTokenError } from "@sfox-effect/effect4-core"
 *
 * // In a generic error handler: ours carry a tag and a message without secrets.
 * const describe = (u: unknown): string => isUserTokenError(u) ? `${u._tag}: ${u.message}` : "unexpected error"
 * ```
 *
 * @since 0.1.0
 * @category guards
 */
export const isUserTokenError: (u: unknown) => u is UserTokenError = Internal.isUserTokenError

/**
 * Whether a failure may succeed if the same request is sent again: a 5xx, a
 * 408, a 429, or a transport failure other than a local request error.
 * Usable as a `Schedule.while` condition on the input when composing a retry
 * policy.
 *
 * @example
 * ```ts
 * import { isTransient } from "@sfox-effect/effect4-core"
 * import { Schedule } from "effect"
 *
 * const retry = Schedule.spaced("1 second").pipe(
 *   Schedule.upTo({ times: 5 }),
 *   Schedule.while(({ input }) => isTransient(input))
 * )
 * ```
 *
 * @since 0.1.0
 * @category guards
 */
export const isTransient: (u: unknown) => boolean = Internal.isTransient

/**
 * Whether the same request could escape a transport failure: not one the
 * client refused to send (`Request`), nor a server certificate the client
 * refused (`Tls`: refused again), nor an answer over the size limit
 * (`TooLarge`: it would come, and download, again). The one home of this
 * rule, for `isTransient` and for `RetryPolicy.isRetryable`.
 *
 * @example
 * ```ts
 * import { isResendable, TransportError } from "@sfox-effect/effect4-core"
 *
 * isResendable(new TransportError({ reason: "Reset", description: "socket hang up" })) // true
 * isResendable(new TransportError({ reason: "Tls", description: "certificate has expired" })) // false
 * ```
 *
 * @since 0.2.0
 * @category guards
 */
export const isResendable: (error: TransportError) => boolean = Internal.isResendable

/**
 * The wait a failure asks for before the next attempt (`Retry-After` on a
 * 429 or 5xx), if any.
 *
 * @example
 * ```ts
 * import { retryAfterOf, UserTokenService } from "@sfox-effect/effect4-core"
 * import { Duration, Effect } from "effect"
 *
 * const mint = Effect.flatMap(UserTokenService, (tokens) => tokens.create("user-1")).pipe(
 *   Effect.tapError((error) => Effect.logWarning("sFOX asks to wait", Duration.format(retryAfterOf(error) ?? Duration.zero)))
 * )
 * ```
 *
 * @since 0.1.0
 * @category getters
 */
export const retryAfterOf: (u: unknown) => Duration.Duration | undefined = Internal.retryAfterOf

/**
 * `text` with every character that prints nothing or acts on what prints it
 * (controls such as ESC and BEL, bidi overrides and isolates, zero-width and
 * other format characters, lone surrogates, unassigned code points) written
 * as `\uXXXX` escapes; printable text, non-ASCII letters included, is left
 * as it is. Every excerpt of sFOX's text in an error has gone through it:
 * use it on anything else from outside (a user id) before a terminal or a
 * log shows it.
 *
 * @example
 * ```ts
 * import { printable } from "@sfox-effect/effect4-core"
 *
 * printable("user \u202egnp.exe") // "user \\u202egnp.exe"
 * ```
 *
 * @since 0.2.0
 * @category formatting
 */
export const printable: (text: string) => string = Printable.printable
