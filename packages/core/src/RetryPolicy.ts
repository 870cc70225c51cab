/**
 * Retry policies for `UserTokenService`.
 *
 * A policy is any `Schedule` whose input is the failure of one attempt.
 * Whatever the policy, the service adds two rules of its own: a server's
 * `Retry-After` lengthens a delay (up to `maxRetryAfter`), and a failure that
 * cannot heal by waiting briefly (`Unauthorized`, bad input, a 429 whose hint
 * exceeds `maxRetryAfter`) is never retried.
 *
 * @since 0.1.0
 */
import * as Duration from "effect/Duration"
import { absurd } from "effect/Function"
import * as Schedule from "effect/Schedule"
import { isResendable, isTransient, retryAfterOf, type UserTokenError } from "./SfoxError.js"

/**
 * The default policy: transient failures only (5xx, 408, 429 within the cap,
 * transport errors and timeouts), exponential from 500 ms doubling, with
 * jitter, each delay capped at 5 s, at most 3 retries.
 *
 * @since 0.1.0
 * @category policies
 */
export const defaultRetry: Schedule.Schedule<unknown, unknown> = Schedule.exponential("500 millis", 2).pipe(
  Schedule.jittered,
  Schedule.modifyDelay((_, delay) => Duration.min(delay, Duration.seconds(5))),
  Schedule.intersect(Schedule.recurs(3)),
  Schedule.whileInput(isTransient)
)

/**
 * No retries at all.
 *
 * @since 0.1.0
 * @category policies
 */
export const noRetry: Schedule.Schedule<unknown, unknown> = Schedule.stop

/**
 * Whether the service may retry a failure at all, whatever the policy says.
 *
 * @since 0.1.0
 * @category guards
 */
export const isRetryable = (error: UserTokenError, maxRetryAfter: Duration.Duration): boolean => {
  switch (error._tag) {
    case "InvalidUserId":
    case "EmptyBatch":
    case "Unauthorized":
    // The shared budget's store is down: no request was sent, and a retry
    // would only wait out the deadline against it.
    case "RateLimiterUnavailable":
      return false
    case "RateLimited":
      return Duration.lessThanOrEqualTo(error.retryAfter, maxRetryAfter)
    case "TransportError":
      return isResendable(error)
    // A custom policy may choose to retry these.
    case "HttpFailure":
    case "MalformedResponse":
      return true
    default:
      return absurd(error)
  }
}

/**
 * Wraps a policy with the service's own rules: `Retry-After` lengthens the
 * policy's delay (never beyond `maxRetryAfter`), and failures that cannot
 * heal stop the retries.
 *
 * @since 0.1.0
 * @category combinators
 */
export const enforce = <Out, R>(
  policy: Schedule.Schedule<Out, UserTokenError, R>,
  maxRetryAfter: Duration.DurationInput
): Schedule.Schedule<Out, UserTokenError, R> => {
  const cap = Duration.decode(maxRetryAfter)
  return Schedule.intersect(policy, Schedule.identity<UserTokenError>()).pipe(
    Schedule.whileInput((error: UserTokenError) => isRetryable(error, cap)),
    Schedule.modifyDelay(([, error], delay) => {
      const hint = retryAfterOf(error)
      return hint === undefined ? delay : Duration.max(delay, Duration.min(hint, cap))
    }),
    Schedule.map(([out]) => out)
  )
}
