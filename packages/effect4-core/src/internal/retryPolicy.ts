import * as Duration from "effect/Duration"
import { absurd } from "effect/Function"
import * as Schedule from "effect/Schedule"
import type { UserTokenError } from "../SfoxError.js"
import { isResendable, retryAfterOf } from "./sfoxError.js"

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
