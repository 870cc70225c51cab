import * as Clock from "effect/Clock"
import * as ConfigError from "effect/ConfigError"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Queue from "effect/Queue"
import type * as Scope from "effect/Scope"
import type { SfoxRateLimiter } from "../SfoxRateLimiter.js"

/** What the request pipeline takes a turn from: `SfoxRateLimiter.Service`. */
export type Limiter = SfoxRateLimiter.Service

/** No limit at all. */
export const unlimited: Limiter = { withTurn: (effect) => effect }

/**
 * The window a limiter keeps: 1 % longer than asked (at least 1 ms). The
 * server's clock and its way of counting are not ours, and the cost is one
 * turn in a hundred a little later.
 */
export const windowMillisOf = (interval: Duration.DurationInput): number =>
  Math.ceil(Duration.toMillis(interval) * 1.01)

/** Checks `{ limit, interval }` as `SfoxRateLimiter.layer` and `RedisRateLimiter.layer` take them. */
export const checkBudget = (
  options: SfoxRateLimiter.Options,
  path: ReadonlyArray<string> = []
): Effect.Effect<{ readonly limit: number; readonly interval: Duration.Duration }, ConfigError.ConfigError> => {
  if (!Number.isSafeInteger(options.limit) || options.limit < 1) {
    return Effect.fail(ConfigError.InvalidData([...path, "limit"], "must be a positive integer"))
  }
  const interval = Duration.decodeUnknown(options.interval)
  if (interval._tag === "None" || !Duration.greaterThan(interval.value, Duration.zero)) {
    return Effect.fail(ConfigError.InvalidData([...path, "interval"], "must be a positive duration"))
  }
  return Effect.succeed({ limit: options.limit, interval: interval.value })
}

/**
 * A sliding-window limiter that counts a request from the moment it is sent
 * until `interval` after it *completed*. The server sees each request at some
 * time between those two instants, so no window of `interval` on the
 * server's clock can hold more than `limit` of them, whatever the latency.
 *
 * One fiber, tied to the scope, hands turns back as their windows close. A
 * turn is taken without any fiber or timer when one is free: this is on the
 * path of every request.
 */
export const make = (limit: number, interval: Duration.DurationInput): Effect.Effect<Limiter, never, Scope.Scope> =>
  Effect.gen(function*() {
    const windowMillis = windowMillisOf(interval)
    let free = limit
    // Callers waiting for a turn, first come first served.
    const waiters = new Set<() => void>()
    const releases = yield* Queue.unbounded<number>()

    const handBack = () => {
      const next = waiters.values().next()
      if (next.done === true) {
        free++
      } else {
        waiters.delete(next.value)
        next.value()
      }
    }

    yield* Effect.gen(function*() {
      const at = yield* Queue.take(releases)
      // A timer can fire a millisecond before the wall clock says it is due;
      // a turn handed back early is a 429 on a server counting to the limit.
      let now = yield* Clock.currentTimeMillis
      while (at > now) {
        yield* Effect.sleep(Duration.millis(at - now))
        now = yield* Clock.currentTimeMillis
      }
      handBack()
    }).pipe(Effect.forever, Effect.interruptible, Effect.forkScoped)

    const wait = Effect.async<void>((resume) => {
      let granted = false
      const waiter = () => {
        granted = true
        resume(Effect.void)
      }
      waiters.add(waiter)
      return Effect.sync(() => {
        // Interrupted (or out of time) while waiting: a turn granted at that
        // very moment goes to the next caller, otherwise there is none to give.
        if (granted) handBack()
        else waiters.delete(waiter)
      })
    })

    const giveBack = Effect.flatMap(Clock.currentTimeMillis, (now) => Queue.offer(releases, now + windowMillis))

    const withTurn = <A, E, R, E2>(
      effect: Effect.Effect<A, E, R>,
      options: SfoxRateLimiter.TurnOptions<E2>
    ): Effect.Effect<A, E | E2, R> =>
      Effect.uninterruptibleMask((restore) => {
        let turn: Effect.Effect<void, E2>
        if (free > 0) {
          free--
          turn = Effect.void
        } else if (Number.isFinite(options.maxWaitMillis)) {
          turn = restore(
            Effect.timeoutFail(wait, { duration: Duration.millis(options.maxWaitMillis), onTimeout: options.onLate })
          )
        } else {
          turn = restore(wait)
        }
        return Effect.zipRight(turn, Effect.ensuring(restore(effect), giveBack))
      })
    return { withTurn }
  })
