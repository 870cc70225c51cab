/**
 * Retry policies for `UserTokenService`.
 *
 * A policy is any `Schedule` whose input is the failure of one attempt (in
 * Effect 4's `Schedule<Output, Input, Error, Env>`, its `Input`).
 * Whatever the policy, the service adds two rules of its own: a server's
 * `Retry-After` lengthens a delay (up to `maxRetryAfter`), and a failure that
 * cannot heal by waiting briefly (`Unauthorized`, bad input, a 429 whose hint
 * exceeds `maxRetryAfter`) is never retried.
 *
 * @since 0.1.0
 */
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Schedule from "effect/Schedule"
import * as Internal from "./internal/retryPolicy.js"
import { isTransient, type UserTokenError } from "./SfoxError.js"

const maxDefaultDelay = Duration.seconds(5)

/**
 * The default policy: transient failures only (5xx, 408, 429 within the cap,
 * transport errors and timeouts), exponential from 500 ms doubling, with
 * jitter, each delay capped at 5 s, at most 3 retries.
 *
 * @example
 * ```ts
 * import { defaultRetry, UserTokenService } from "@sfox-effect/effect4-core"
 * import { Redacted, Schedule } from "effect"
 *
 * // The default, but give up once 20 s have passed in retries.
 * const Tokens = UserTokenService.layer({
 *   apiKey: Redacted.make("my-enterprise-key"),
 *   retry: defaultRetry.pipe(Schedule.upTo({ duration: "20 seconds" }))
 * })
 * ```
 *
 * @since 0.1.0
 * @category policies
 */
export const defaultRetry: Schedule.Schedule<unknown, unknown> = Schedule.exponential("500 millis", 2).pipe(
  Schedule.jittered,
  Schedule.modifyDelay(({ duration }) => Effect.succeed(Duration.min(duration, maxDefaultDelay))),
  Schedule.upTo({ times: 3 }),
  Schedule.while(({ input }) => isTransient(input))
)

/**
 * No retries at all: for callers that retry at their own level (a queue
 * consumer that redelivers), where a second layer of retries would
 * multiply the load on sFOX.
 *
 * @example
 * ```ts
 * import { noRetry, UserTokenService } from "@sfox-effect/effect4-core"
 * import { Redacted } from "effect"
 *
 * const Tokens = UserTokenService.layer({ apiKey: Redacted.make("my-enterprise-key"), retry: noRetry })
 * ```
 *
 * @since 0.1.0
 * @category policies
 */
export const noRetry: Schedule.Schedule<unknown, unknown> = Schedule.recurs(0)

/**
 * Whether the service may retry a failure at all, whatever the policy says.
 *
 * @example
 * ```ts
 * import { isRetryable, RateLimited } from "@sfox-effect/effect4-core"
 * import { Duration } from "effect"
 *
 * const lockout = new RateLimited({ retryAfter: Duration.seconds(60), description: "rate limit exceeded" })
 * isRetryable(lockout, Duration.seconds(30)) // false: the wait is longer than we accept
 * ```
 *
 * @since 0.1.0
 * @category guards
 */
export const isRetryable: (error: UserTokenError, maxRetryAfter: Duration.Duration) => boolean = Internal.isRetryable

/**
 * Wraps a policy with the service's own rules: `Retry-After` lengthens the
 * policy's delay (never beyond `maxRetryAfter`), and failures that cannot
 * heal stop the retries. The service applies it to every policy; call it
 * yourself to retry your own calls to sFOX by the same rules.
 *
 * @example
 * ```ts
 * import { enforce, UserTokenService } from "@sfox-effect/effect4-core"
 * import { Effect, Schedule } from "effect"
 *
 * // A second pass over the service's own retries, by the same rules.
 * const mint = Effect.flatMap(UserTokenService, (tokens) => tokens.create("user-1")).pipe(
 *   Effect.retry(enforce(Schedule.spaced("5 seconds").pipe(Schedule.upTo({ times: 2 })), "30 seconds"))
 * )
 * ```
 *
 * @since 0.1.0
 * @category combinators
 */
export const enforce: <Out, E, R>(
  policy: Schedule.Schedule<Out, UserTokenError, E, R>,
  maxRetryAfter: Duration.Input
) => Schedule.Schedule<Out, UserTokenError, E, R> = Internal.enforce
