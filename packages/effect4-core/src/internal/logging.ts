import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import type { RequestFailure } from "../SfoxError.js"
import { documentedLockout, errorType, statusOfFailure } from "./classify.js"
import { summaryOf } from "./telemetry.js"

/**
 * What the library tells the program's `Logger`, and at which level. Quiet
 * at the default `Info` level while things go well: a retry and a long wait
 * for a rate-limit turn are `Debug`; a batch split (sFOX refused some users)
 * is `Info`; a 429 is `Warning`, since the client-side limit exists so that
 * none comes. Messages hold counts, statuses and the failures' tags, never
 * sFOX's text: it names users ("user not found: <id>"), and no line may hold
 * a user id, a token or the key.
 */

const annotations = (failure: RequestFailure, attempt: number): Record<string, unknown> => {
  const status = statusOfFailure(failure)
  const base: Record<string, unknown> = { "sfox.attempt": attempt, "error.type": errorType(failure) }
  if (status !== undefined) base["http.response.status_code"] = status
  if (failure._tag === "TransportError") base["sfox.transport_reason"] = failure.reason
  return base
}

const isLockout = (failure: RequestFailure): boolean =>
  failure._tag === "RateLimited" && Duration.equals(failure.retryAfter, documentedLockout)

/** A failed attempt that will be sent again after `delayMillis`. */
export const retrying = (failure: RequestFailure, attempt: number, delayMillis: number): Effect.Effect<void> => {
  // Durations in seconds, as OpenTelemetry's.
  const fields = { ...annotations(failure, attempt), "sfox.retry_delay": delayMillis / 1000 }
  return failure._tag === "RateLimited"
    ? Effect.logWarning(`sFOX answered 429: waiting ${delayMillis} ms before attempt ${attempt + 1}`).pipe(
      Effect.annotateLogs(fields)
    )
    : Effect.logDebug(`sFOX request failed (${summaryOf(failure)}); attempt ${attempt + 1} in ${delayMillis} ms`).pipe(
      Effect.annotateLogs(fields)
    )
}

/** A 429 the call ends with: a lockout, or a wait longer than it may take. */
export const rateLimitedNotRetried = (failure: RequestFailure, attempt: number): Effect.Effect<void> => {
  if (failure._tag !== "RateLimited") return Effect.void
  const wait = Duration.format(failure.retryAfter)
  return Effect.logWarning(
    isLockout(failure)
      ? `sFOX locked this client out (429 with no Retry-After: its documented ${wait} lockout); not retried`
      : `sFOX answered 429 asking for ${wait}, beyond what the call may wait; not retried`
  ).pipe(Effect.annotateLogs(annotations(failure, attempt)))
}

/** sFOX refused a batch for some of its users: it is halved to find them. */
export const batchSplit = (size: number, failure: RequestFailure): Effect.Effect<void> =>
  Effect.logInfo(`sFOX refused a batch of ${size} users for some of them (${failure._tag}); halving it to find them`)
    .pipe(Effect.annotateLogs({ "sfox.batch_size": size, ...annotations(failure, 1) }))

/** Waits for a rate-limit turn at least this long are logged. */
export const longTurnWaitMillis = 1_000

/** A caller waited `millis` (at least `longTurnWaitMillis`) for its rate-limit turn. */
export const waitedForTurn = (millis: number): Effect.Effect<void> =>
  Effect.logDebug(`waited ${millis} ms for a rate-limit turn`).pipe(
    Effect.annotateLogs({ "sfox.rate_limit.wait": millis / 1000 })
  )
