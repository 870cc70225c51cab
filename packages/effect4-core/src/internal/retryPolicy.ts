import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
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
      return Duration.isLessThanOrEqualTo(error.retryAfter, maxRetryAfter)
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

export const enforce = <Out, E, R>(
  policy: Schedule.Schedule<Out, UserTokenError, E, R>,
  maxRetryAfter: Duration.Input
): Schedule.Schedule<Out, UserTokenError, E, R> => {
  const cap = Duration.fromInputUnsafe(maxRetryAfter)
  // Effect 4's schedules see their input in every step's metadata: 3.x's
  // intersection with `Schedule.identity` to reach the failure is gone.
  return policy.pipe(
    Schedule.while(({ input }) => isRetryable(input, cap)),
    Schedule.modifyDelay(({ duration, input }) => {
      const hint = retryAfterOf(input)
      return Effect.succeed(hint === undefined ? duration : Duration.max(duration, Duration.min(hint, cap)))
    })
  )
}
