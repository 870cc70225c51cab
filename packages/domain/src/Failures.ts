/**
 * What the library decides from a failure's tag and a few of its fields
 * alone: whether the same request may succeed if sent again, the status of
 * the answer it is about, and OpenTelemetry's `error.type` for it.
 *
 * The shells' error classes are these shapes with more on them (messages,
 * `Duration`s, causes), so an edition's `UserTokenError` must be assignable
 * to `Failure`: a new error class does not compile until it is added here,
 * and so until it says whether it heals.
 *
 * @since 0.3.0
 */
import type { Reason } from "./TransportCode.js"

/**
 * Every failure of the service, as far as the decisions below read it.
 *
 * @since 0.3.0
 */
export type Failure =
  | { readonly _tag: "InvalidUserId" }
  | { readonly _tag: "EmptyBatch" }
  | { readonly _tag: "Unauthorized"; readonly status: number }
  | { readonly _tag: "RateLimited" }
  | { readonly _tag: "HttpFailure"; readonly status: number }
  | { readonly _tag: "TransportError"; readonly reason: Reason }
  | { readonly _tag: "MalformedResponse"; readonly status: number }
  | { readonly _tag: "RateLimiterUnavailable" }

/**
 * The failures a request can end with (everything but bad input).
 *
 * @since 0.3.0
 */
export type RequestFailure = Exclude<Failure, { readonly _tag: "InvalidUserId" | "EmptyBatch" }>

/**
 * Whether the same request could escape a transport failure: not one the
 * client refused to send (`Request`), nor a server certificate the client
 * refused (`Tls`: refused again), nor an answer over the size limit
 * (`TooLarge`: it would come, and download, again).
 *
 * @since 0.3.0
 */
export const isResendable = (reason: Reason): boolean =>
  reason !== "Request" && reason !== "Tls" && reason !== "TooLarge"

/**
 * Whether a failure may succeed if the same request is sent again: a 5xx, a
 * 408, a 429, or a transport failure that `isResendable` lets through.
 *
 * @since 0.3.0
 */
export const isTransient = (failure: Failure): boolean => {
  // Exhaustive: a new kind of failure does not compile until it says whether it heals.
  switch (failure._tag) {
    case "HttpFailure":
      return failure.status >= 500 || failure.status === 408
    case "RateLimited":
      return true
    case "TransportError":
      return isResendable(failure.reason)
    case "InvalidUserId":
    case "EmptyBatch":
    case "Unauthorized":
    case "MalformedResponse":
    case "RateLimiterUnavailable":
      return false
    default:
      return unreachable(failure)
  }
}

// A value branded as ours whose tag is none of ours: a bug, said loudly.
const unreachable = (failure: never): never => {
  throw new Error(`not a failure of sfox-effect: ${String((failure as { _tag?: unknown })._tag)}`)
}

/**
 * The status of the answer a failure is about, if there was one (a 429 for
 * `RateLimited`).
 *
 * @since 0.3.0
 */
export const statusOf = (failure: Failure): number | undefined =>
  failure._tag === "HttpFailure" || failure._tag === "Unauthorized" || failure._tag === "MalformedResponse"
    ? failure.status
    : failure._tag === "RateLimited"
    ? 429
    : undefined

/**
 * OpenTelemetry's `error.type`: the status code of a refusal (a 4xx or 5xx),
 * else a low-cardinality name for what went wrong (the failure's tag).
 *
 * @since 0.3.0
 */
export const errorType = (failure: Failure): string => {
  const status = statusOf(failure)
  return status !== undefined && status >= 400 ? String(status) : failure._tag
}
