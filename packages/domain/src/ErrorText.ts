/**
 * The messages of the service's errors, from their fields: each error
 * class's `message` is one of these. They hold what the fields hold (sFOX's
 * scrubbed text, statuses, the request id) and never a key or a token.
 *
 * @since 0.3.0
 */

/**
 * The tail naming the answer's request id, when there is one: what sFOX
 * support asks for first.
 *
 * @since 0.3.0
 */
export const requestIdText = (requestId: string | undefined): string =>
  requestId === undefined ? "" : ` (request id ${requestId})`

/**
 * `InvalidUserId`: the preview of the input (never the input), where it
 * was in the list, and what is wrong.
 *
 * @since 0.3.0
 */
export const invalidUserId = (
  error: { readonly preview: string; readonly description: string; readonly index?: number | undefined }
): string => {
  const at = error.index === undefined ? "" : ` at index ${error.index}`
  return `Invalid user id ${error.preview}${at}: ${error.description}`
}

/**
 * `EmptyBatch`.
 *
 * @since 0.3.0
 */
export const emptyBatch = "createMany needs at least one user id"

/**
 * `Unauthorized`: a refused key, and where it went (`origin`, else "this
 * host").
 *
 * @since 0.3.0
 */
export const unauthorized = (
  error: {
    readonly status: number
    readonly description: string
    readonly requestId?: string | undefined
    readonly origin?: string | undefined
  }
): string =>
  `sFOX answered ${error.status}: ${error.description}; check the API key: that it is an sFOX Enterprise ` +
  `API key, and one issued for ${error.origin ?? "this host"}${requestIdText(error.requestId)}`

/**
 * `RateLimited`, `wait` being the wait asked for as the edition prints a
 * duration.
 *
 * @since 0.3.0
 */
export const rateLimited = (
  error: { readonly description: string; readonly requestId?: string | undefined },
  wait: string
): string => `sFOX rate limit hit; retry after ${wait}: ${error.description}${requestIdText(error.requestId)}`

/**
 * `HttpFailure`.
 *
 * @since 0.3.0
 */
export const httpFailure = (
  error: { readonly status: number; readonly description: string; readonly requestId?: string | undefined }
): string => `sFOX answered ${error.status}: ${error.description}${requestIdText(error.requestId)}`

/**
 * `TransportError`.
 *
 * @since 0.3.0
 */
export const transportError = (error: { readonly reason: string; readonly description: string }): string =>
  `${error.reason}: ${error.description}`

/**
 * `MalformedResponse`.
 *
 * @since 0.3.0
 */
export const malformedResponse = (
  error: { readonly status: number; readonly description: string; readonly requestId?: string | undefined }
): string => `Malformed sFOX answer (${error.status}): ${error.description}${requestIdText(error.requestId)}`

/**
 * `RateLimiterUnavailable`.
 *
 * @since 0.3.0
 */
export const rateLimiterUnavailable = (error: { readonly description: string }): string =>
  `The shared rate limiter is unavailable, no request was sent: ${error.description}`

/**
 * The `RateLimiterUnavailable` description of an in-process limiter whose
 * scope was closed.
 *
 * @since 0.3.0
 */
export const limiterClosed = "the rate limiter's scope was closed: no turn will come back"
