import * as Clock from "effect/Clock"
import * as ConfigError from "effect/ConfigError"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import type * as Fiber from "effect/Fiber"
import * as FiberId from "effect/FiberId"
import * as Runtime from "effect/Runtime"
import type * as Scope from "effect/Scope"
import { RateLimiterUnavailable } from "../SfoxError.js"
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

/** The limiter's state, for tests: free turns and callers waiting. */
export interface Snapshot {
  readonly free: number
  readonly waiting: number
  /** When each turn given back comes free again, in order (when the limiter shows them). */
  readonly releases?: ReadonlyArray<number>
}

/**
 * A sliding-window limiter that counts a request from the moment it is sent
 * until `interval` after it *completed*. The server sees each request at some
 * time between those two instants, so no window of `interval` on the
 * server's clock can hold more than `limit` of them, whatever the latency.
 *
 * One fiber, tied to the scope, hands turns back as their windows close. A
 * turn is taken without any fiber or timer when one is free: this is on the
 * path of every request. Once the scope is closed no turn comes back: every
 * caller still waiting, and every later one, fails with
 * `RateLimiterUnavailable`, whatever its longest wait.
 */
export const make = (
  limit: number,
  interval: Duration.DurationInput,
  /** For tests: called the instant a waiting caller is granted a turn, before it can run. */
  onGrant?: () => void
): Effect.Effect<Limiter & { readonly snapshot: () => Snapshot }, never, Scope.Scope> =>
  Effect.gen(function*() {
    const windowMillis = windowMillisOf(interval)
    let free = limit
    let closed = false
    // Callers waiting for a turn, first come first served.
    const waiters = new Set<Waiter>()
    // When each turn given back comes free again, in order (`now + window` only grows).
    const releases: Array<number> = []
    // Open while `releases` holds a turn: the releaser sleeps on it when there is none.
    const pending = Effect.unsafeMakeLatch(false)
    // The clock of the scope the limiter lives in, which its releaser sleeps on too.
    const clock = yield* Effect.clock

    const handBack = () => {
      for (const waiter of waiters) {
        waiters.delete(waiter)
        waiter.state = "granted"
        waiter.wake()
        onGrant?.()
        return
      }
      free++
    }

    // Every turn whose window has closed by `now` goes back, in order: the
    // releaser does it when it wakes, and so does a waiter's timer first, so
    // that a caller whose wait ends at the instant a turn comes free gets it,
    // whichever of the two timers fires first.
    const releaseDue = (now: number) => {
      while (!closed && releases.length > 0 && releases[0]! <= now) {
        releases.shift()
        handBack()
      }
    }

    // A timer can fire a millisecond before the wall clock says it is due; a
    // turn handed back early is a 429 on a server counting to the limit.
    const sleepUntil = (at: number): Effect.Effect<number> =>
      Effect.flatMap(Clock.currentTimeMillis, (now) =>
        at > now ? Effect.zipRight(Effect.sleep(Duration.millis(at - now)), sleepUntil(at)) : Effect.succeed(now))

    yield* Effect.addFinalizer(() =>
      Effect.sync(() => {
        closed = true
        // No turn will come back: a caller left waiting would wait for ever.
        for (const waiter of waiters) {
          waiters.delete(waiter)
          waiter.state = "gone"
          waiter.close()
        }
      })
    )
    // The earliest turn is the first to come free, and a turn given back
    // later comes free later: the releaser sleeps until the first, hands back
    // every turn due by then, and waits for the latch once none is left.
    yield* pending.await.pipe(
      Effect.flatMap(() =>
        releases.length === 0 ? Effect.succeed(undefined) : sleepUntil(releases[0]!)
      ),
      Effect.flatMap((now) =>
        Effect.sync(() => {
          if (now !== undefined) releaseDue(now)
          if (releases.length === 0) pending.unsafeClose()
        })
      ),
      Effect.forever,
      Effect.interruptible,
      Effect.forkScoped
    )

    // Synchronous: it runs at the end of every request, where an effect of
    // its own (a clock read, a queue offer) was a measurable part of a mint.
    const giveBack = () => {
      releases.push(clock.unsafeCurrentTimeMillis() + windowMillis)
      if (releases.length === 1) pending.unsafeOpen()
    }

    /**
     * Waits for a turn, at most `maxWaitMillis`. Whether the caller got the
     * turn, ran out of time or was interrupted is decided in one place, the
     * waiter's state, which the releaser, the timer and an interruption all
     * read and write synchronously: a turn granted is either used or handed
     * on, never lost, never given twice.
     */
    const wait = <E2>(
      restore: <AX, EX, RX>(effect: Effect.Effect<AX, EX, RX>) => Effect.Effect<AX, EX, RX>,
      runtime: Runtime.Runtime<never>,
      now: number,
      options: SfoxRateLimiter.TurnOptions<E2>
    ): Effect.Effect<void, E2 | RateLimiterUnavailable> => {
      const waiter: Waiter = { state: "waiting", wake: () => {}, close: () => {} }
      let timer: Fiber.RuntimeFiber<void> | undefined
      const stopTimer = Effect.sync(() => {
        timer?.unsafeInterruptAsFork(FiberId.none)
        timer = undefined
      })
      const registered = Effect.async<void, E2 | RateLimiterUnavailable>((resume) => {
        waiter.wake = () => resume(Effect.void)
        waiter.close = () => resume(Effect.fail(closedError()))
        waiters.add(waiter)
        if (Number.isFinite(options.maxWaitMillis)) {
          // `runtime` was taken inside `uninterruptibleMask`: the timer
          // must be interruptible, or stopping it leaves its sleep behind.
          const expire = Effect.flatMap(sleepUntil(now + options.maxWaitMillis), (at) =>
            Effect.sync(() => {
              releaseDue(at)
              if (waiter.state !== "waiting") return
              waiter.state = "gone"
              waiters.delete(waiter)
              resume(Effect.fail(options.onLate()))
            }))
          timer = Runtime.runFork(runtime)(Effect.interruptible(expire))
        }
      })
      // Out of `restore`: an interruption that lands after the turn was
      // granted, before the caller leaves `restore`, is seen here too.
      return restore(registered).pipe(
        Effect.onInterrupt(() =>
          Effect.zipRight(
            stopTimer,
            Effect.sync(() => {
              // Interrupted while waiting, or at the very instant the turn
              // was granted (before the caller could use it): the turn goes
              // on to the next caller, otherwise there is none to give.
              if (waiter.state === "granted") {
                handBack()
              } else {
                waiters.delete(waiter)
              }
              waiter.state = "gone"
            })
          )
        ),
        // Granted, late or closed: the timer, if any, is not needed any more.
        Effect.ensuring(stopTimer)
      )
    }

    const withTurn = <A, E, R, E2>(
      effect: Effect.Effect<A, E, R>,
      options: SfoxRateLimiter.TurnOptions<E2>
    ): Effect.Effect<A, E | E2 | RateLimiterUnavailable, R> =>
      Effect.uninterruptibleMask((restore) => {
        if (closed) return Effect.fail(closedError())
        // Already uninterruptible: the turn goes back however `effect` ends, its interruption included.
        const run = Effect.matchCauseEffect(restore(effect), {
          onFailure: (cause) => {
            giveBack()
            return Effect.failCause(cause)
          },
          onSuccess: (value) => {
            giveBack()
            return Effect.succeed(value)
          }
        })
        if (free > 0) {
          free--
          return run
        }
        return Effect.zipRight(
          Effect.flatMap(
            Effect.zip(Effect.runtime<never>(), Clock.currentTimeMillis),
            ([runtime, now]) => wait(restore, runtime, now, options)
          ),
          run
        )
      })
    return {
      withTurn,
      snapshot: () => ({ free, waiting: waiters.size, releases: [...releases] })
    }
  })

interface Waiter {
  state: "waiting" | "granted" | "gone"
  wake: () => void
  /** Ends the wait with `RateLimiterUnavailable`: the limiter's scope was closed. */
  close: () => void
}

const closedError = () =>
  new RateLimiterUnavailable({ description: "the rate limiter's scope was closed: no turn will come back" })
