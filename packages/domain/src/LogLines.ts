/**
 * What the library tells the program's logger, and at which level, as data:
 * the shell hands each `Line` to its logger. Quiet at the default `Info`
 * level while things go well: a retry and a long wait for a rate-limit turn
 * are `Debug`; a batch split (sFOX refused some users) is `Info`; a 429 is
 * `Warning`, since the client-side limit exists so that none comes. Messages
 * hold counts, statuses and the failures' tags, never sFOX's text: it names
 * users ("user not found: <id>"), and no line may hold a user id, a token or
 * the key.
 *
 * @since 0.3.0
 */
import { errorType, type RequestFailure, statusOf } from "./Failures.js"
import { documentedLockoutMillis } from "./Status.js"

/**
 * A log line: its level, its message, and its annotations (OpenTelemetry's
 * names where there is one; durations in seconds, as OpenTelemetry's).
 *
 * @since 0.3.0
 */
export interface Line {
  readonly level: "Debug" | "Info" | "Warning"
  readonly message: string
  readonly annotations: Readonly<Record<string, unknown>>
}

const annotations = (failure: RequestFailure, attempt: number): Record<string, unknown> => {
  const status = statusOf(failure)
  const base: Record<string, unknown> = { "sfox.attempt": attempt, "error.type": errorType(failure) }
  if (status !== undefined) base["http.response.status_code"] = status
  if (failure._tag === "TransportError") base["sfox.transport_reason"] = failure.reason
  return base
}

/**
 * A failed attempt that will be sent again after `delayMillis`; `summary`
 * names the failure as logs and spans show it (`HttpFailure 503`).
 *
 * @since 0.3.0
 */
export const retrying = (failure: RequestFailure, summary: string, attempt: number, delayMillis: number): Line => {
  const fields = { ...annotations(failure, attempt), "sfox.retry_delay": delayMillis / 1000 }
  return failure._tag === "RateLimited"
    ? {
      level: "Warning",
      message: `sFOX answered 429: waiting ${delayMillis} ms before attempt ${attempt + 1}`,
      annotations: fields
    }
    : {
      level: "Debug",
      message: `sFOX request failed (${summary}); attempt ${attempt + 1} in ${delayMillis} ms`,
      annotations: fields
    }
}

/**
 * A 429 the call ends with: a lockout (a wait of sFOX's documented lockout,
 * which is what a 429 without `Retry-After` asks for), or a wait longer than
 * the call may take. `wait` is the wait as the edition prints a duration.
 *
 * @since 0.3.0
 */
export const rateLimitedNotRetried = (
  failure: RequestFailure & { readonly _tag: "RateLimited" },
  attempt: number,
  retryAfterMillis: number,
  wait: string
): Line => ({
  level: "Warning",
  message: retryAfterMillis === documentedLockoutMillis
    ? `sFOX locked this client out (429 with no Retry-After: its documented ${wait} lockout); not retried`
    : `sFOX answered 429 asking for ${wait}, beyond what the call may wait; not retried`,
  annotations: annotations(failure, attempt)
})

/**
 * sFOX refused a batch of `size` users for some of them: it is halved to
 * find them.
 *
 * @since 0.3.0
 */
export const batchSplit = (size: number, failure: RequestFailure): Line => ({
  level: "Info",
  message: `sFOX refused a batch of ${size} users for some of them (${failure._tag}); halving it to find them`,
  annotations: { "sfox.batch_size": size, ...annotations(failure, 1) }
})

/**
 * Waits for a rate-limit turn at least this long are logged.
 *
 * @since 0.3.0
 */
export const longTurnWaitMillis = 1_000

/**
 * A caller waited `millis` (at least `longTurnWaitMillis`) for its rate-limit turn.
 *
 * @since 0.3.0
 */
export const waitedForTurn = (millis: number): Line => ({
  level: "Debug",
  message: `waited ${millis} ms for a rate-limit turn`,
  annotations: { "sfox.rate_limit.wait": millis / 1000 }
})
