import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Queue from "effect/Queue"
import type * as Scope from "effect/Scope"

/**
 * Runs an effect under the limit: at most `limit` requests in any `interval`.
 * A caller that would wait more than `maxWaitMillis` for its turn fails with
 * `onLate()` instead, and takes no turn.
 */
export type Limiter = <A, E, R, E2>(
  effect: Effect.Effect<A, E, R>,
  maxWaitMillis: number,
  onLate: () => E2
) => Effect.Effect<A, E | E2, R>

/** No limit at all. */
export const unlimited: Limiter = (effect) => effect

/**
 * A sliding-window limiter that counts a request from the moment it is sent
 * until `interval` after it *completed*. The server sees each request at some
 * time between those two instants, so no window of `interval` on the
 * server's clock can hold more than `limit` of them, whatever the latency.
 *
 * One fiber, tied to the service's scope, hands turns back as their windows
 * close. A turn is taken without any fiber or timer when one is free: this is
 * on the path of every request.
 */
export const make = (limit: number, interval: Duration.DurationInput): Effect.Effect<Limiter, never, Scope.Scope> =>
  Effect.gen(function*() {
    // The window is kept 1 % longer than asked (at least 1 ms): the server's
    // clock and its way of counting are not ours, and the cost is one turn in
    // a hundred a little later.
    const windowMillis = Math.ceil(Duration.toMillis(interval) * 1.01)
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

    return <A, E, R, E2>(effect: Effect.Effect<A, E, R>, maxWaitMillis: number, onLate: () => E2) =>
      Effect.uninterruptibleMask((restore) => {
        let turn: Effect.Effect<void, E2>
        if (free > 0) {
          free--
          turn = Effect.void
        } else {
          turn = restore(Effect.timeoutFail(wait, { duration: Duration.millis(maxWaitMillis), onTimeout: onLate }))
        }
        return Effect.zipRight(turn, Effect.ensuring(restore(effect), giveBack))
      })
  })
