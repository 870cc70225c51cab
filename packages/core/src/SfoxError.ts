/**
 * The typed failures of `UserTokenService`.
 *
 * Every error is a `Schema.TaggedError`, so it can be matched with
 * `Effect.catchTag`, serialised, and compared. None of them ever holds the
 * API key or a token: texts taken from sFOX's answers are scrubbed first.
 *
 * @since 0.1.0
 */
import * as Duration from "effect/Duration"
import { absurd } from "effect/Function"
import * as Predicate from "effect/Predicate"
import * as Schema from "effect/Schema"

/**
 * The brand every `UserTokenError` carries, whatever its class: a guard that
 * no list of tags has to keep up with.
 *
 * @since 0.2.0
 * @category type ids
 */
export const TypeId: unique symbol = Symbol.for("@sfox-effect/core/UserTokenError")

/**
 * @since 0.2.0
 * @category type ids
 */
export type TypeId = typeof TypeId

const requestIdText = (requestId: string | undefined): string =>
  requestId === undefined ? "" : ` (request id ${requestId})`

/**
 * A user id that cannot be sent safely: not a string, empty, surrounded by
 * whitespace, holding control characters, a dot segment, or absurdly long.
 * No request is sent.
 *
 * @since 0.1.0
 * @category errors
 */
export class InvalidUserId extends Schema.TaggedError<InvalidUserId>("@sfox-effect/core/InvalidUserId")(
  "InvalidUserId",
  {
    /** A short, printable preview of the offending input. */
    userId: Schema.String,
    description: Schema.String,
    /** Position of the id in the `createMany` input, when it came from one. */
    index: Schema.optional(Schema.Number)
  }
) {
  /**
   * @since 0.2.0
   */
  readonly [TypeId]: TypeId = TypeId

  override get message(): string {
    const at = this.index === undefined ? "" : ` at index ${this.index}`
    return `Invalid user id ${this.userId}${at}: ${this.description}`
  }
}

/**
 * `createMany` was called with no ids. No request is sent.
 *
 * @since 0.1.0
 * @category errors
 */
export class EmptyBatch extends Schema.TaggedError<EmptyBatch>("@sfox-effect/core/EmptyBatch")("EmptyBatch", {}) {
  /**
   * @since 0.2.0
   */
  readonly [TypeId]: TypeId = TypeId

  override get message(): string {
    return "createMany needs at least one user id"
  }
}

/**
 * sFOX refused the API key (`401`) or the key may not act for that user
 * (`403`). Never retried: the same key would be refused again.
 *
 * @since 0.1.0
 * @category errors
 */
export class Unauthorized extends Schema.TaggedError<Unauthorized>("@sfox-effect/core/Unauthorized")(
  "Unauthorized",
  {
    status: Schema.Number,
    description: Schema.String,
    /**
     * The id the answer gave itself (`x-request-id` or a similar header),
     * when it had one: what sFOX support asks for first.
     */
    requestId: Schema.optional(Schema.String)
  }
) {
  /**
   * @since 0.2.0
   */
  readonly [TypeId]: TypeId = TypeId

  override get message(): string {
    return `sFOX answered ${this.status}: ${this.description}${requestIdText(this.requestId)}`
  }
}

/**
 * sFOX answered `429`. `retryAfter` is its `Retry-After` header when it sent
 * one, otherwise sFOX's documented lockout.
 *
 * @since 0.1.0
 * @category errors
 */
export class RateLimited extends Schema.TaggedError<RateLimited>("@sfox-effect/core/RateLimited")(
  "RateLimited",
  {
    retryAfter: Schema.DurationFromSelf,
    description: Schema.String,
    /**
     * The id the answer gave itself (`x-request-id` or a similar header),
     * when it had one: what sFOX support asks for first.
     */
    requestId: Schema.optional(Schema.String)
  }
) {
  /**
   * @since 0.2.0
   */
  readonly [TypeId]: TypeId = TypeId

  override get message(): string {
    return `sFOX rate limit hit; retry after ${Duration.format(this.retryAfter)}: ${this.description}${
      requestIdText(this.requestId)
    }`
  }
}

/**
 * Any other non-2xx answer: the status and sFOX's `error` text (or a short,
 * scrubbed excerpt of a body that has none).
 *
 * @since 0.1.0
 * @category errors
 */
export class HttpFailure extends Schema.TaggedError<HttpFailure>("@sfox-effect/core/HttpFailure")(
  "HttpFailure",
  {
    status: Schema.Number,
    description: Schema.String,
    /** The server's `Retry-After` hint, when it sent one. */
    retryAfter: Schema.optional(Schema.DurationFromSelf),
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
  /**
   * @since 0.2.0
   */
  readonly [TypeId]: TypeId = TypeId

  override get message(): string {
    return `sFOX answered ${this.status}: ${this.description}${requestIdText(this.requestId)}`
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
 * @since 0.1.0
 * @category errors
 */
export class TransportError extends Schema.TaggedError<TransportError>("@sfox-effect/core/TransportError")(
  "TransportError",
  {
    reason: Schema.Literal("Connect", "Tls", "Reset", "Timeout", "TooLarge", "Request", "Other"),
    description: Schema.String,
    cause: Schema.optional(Schema.Defect)
  }
) {
  /**
   * @since 0.2.0
   */
  readonly [TypeId]: TypeId = TypeId

  override get message(): string {
    return `${this.reason}: ${this.description}`
  }
}

/**
 * A 2xx answer that is not what sFOX documents: not JSON, the wrong shape,
 * or a batch answer that misses, adds or repeats a user. No token from such
 * an answer is ever handed out.
 *
 * @since 0.1.0
 * @category errors
 */
export class MalformedResponse extends Schema.TaggedError<MalformedResponse>(
  "@sfox-effect/core/MalformedResponse"
)("MalformedResponse", {
  status: Schema.Number,
  description: Schema.String,
  /**
   * The id the answer gave itself (`x-request-id` or a similar header),
   * when it had one: what sFOX support asks for first.
   */
  requestId: Schema.optional(Schema.String)
}) {
  /**
   * @since 0.2.0
   */
  readonly [TypeId]: TypeId = TypeId

  override get message(): string {
    return `Malformed sFOX answer (${this.status}): ${this.description}${requestIdText(this.requestId)}`
  }
}

/**
 * The shared rate limiter (`SfoxRateLimiter`, for example the Redis one of
 * `@sfox-effect/redis`) could not give a turn: its store could not be
 * reached, or answered slower than its bound. No request was sent, so sFOX
 * saw nothing. Not transient for the retry policy: waiting briefly does not
 * heal a store that is down, and retrying here would only hide that the
 * budget is no longer shared.
 *
 * @since 0.2.0
 * @category errors
 */
export class RateLimiterUnavailable extends Schema.TaggedError<RateLimiterUnavailable>(
  "@sfox-effect/core/RateLimiterUnavailable"
)("RateLimiterUnavailable", {
  description: Schema.String
}) {
  /**
   * @since 0.2.0
   */
  readonly [TypeId]: TypeId = TypeId

  override get message(): string {
    return `The shared rate limiter is unavailable, no request was sent: ${this.description}`
  }
}

/**
 * Every failure `UserTokenService` can produce, as a schema.
 *
 * @since 0.1.0
 * @category schemas
 */
export const UserTokenError = Schema.Union(
  InvalidUserId,
  EmptyBatch,
  Unauthorized,
  RateLimited,
  HttpFailure,
  TransportError,
  MalformedResponse,
  RateLimiterUnavailable
)

/**
 * Every failure `UserTokenService` can produce, as a type: match it with
 * `Effect.catchTag` or `Effect.catchTags`.
 *
 * @since 0.1.0
 * @category models
 */
export type UserTokenError = InvalidUserId | EmptyBatch | RequestFailure

/**
 * The failures a request can end with (everything but bad input).
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
 * @since 0.1.0
 * @category guards
 */
export const isUserTokenError = (u: unknown): u is UserTokenError => Predicate.hasProperty(u, TypeId)

/**
 * Whether a failure may succeed if the same request is sent again: a 5xx, a
 * 408, a 429, or a transport failure other than a local request error.
 * Usable as a `Schedule.whileInput` predicate when composing a retry policy.
 *
 * @example
 * ```ts
 * import { isTransient } from "@sfox-effect/core"
 * import { Schedule } from "effect"
 *
 * const retry = Schedule.spaced("1 second").pipe(
 *   Schedule.intersect(Schedule.recurs(5)),
 *   Schedule.whileInput(isTransient)
 * )
 * ```
 *
 * @since 0.1.0
 * @category guards
 */
export const isTransient = (u: unknown): boolean => {
  if (!isUserTokenError(u)) return false
  // Exhaustive: a new error class does not compile until it says whether it heals.
  switch (u._tag) {
    case "HttpFailure":
      return u.status >= 500 || u.status === 408
    case "RateLimited":
      return true
    case "TransportError":
      return isResendable(u)
    case "InvalidUserId":
    case "EmptyBatch":
    case "Unauthorized":
    case "MalformedResponse":
    case "RateLimiterUnavailable":
      return false
    default:
      return absurd(u)
  }
}

/**
 * Whether the same request could escape a transport failure: not one the
 * client refused to send (`Request`), nor a server certificate the client
 * refused (`Tls`: refused again), nor an answer over the size limit
 * (`TooLarge`: it would come, and download, again). The one home of this
 * rule, for `isTransient` and for `RetryPolicy.isRetryable`.
 *
 * @since 0.2.0
 * @category guards
 */
export const isResendable = (error: TransportError): boolean =>
  error.reason !== "Request" && error.reason !== "Tls" && error.reason !== "TooLarge"

/**
 * The wait a failure asks for before the next attempt (`Retry-After` on a
 * 429 or 5xx), if any.
 *
 * @since 0.1.0
 * @category getters
 */
export const retryAfterOf = (u: unknown): Duration.Duration | undefined => {
  if (!isUserTokenError(u)) return undefined
  if (u._tag === "RateLimited" || u._tag === "HttpFailure") return u.retryAfter
  return undefined
}
