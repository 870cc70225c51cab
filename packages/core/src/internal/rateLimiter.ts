import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Queue from "effect/Queue"
import type * as Scope from "effect/Scope"

/** Runs an effect under the limit: at most `limit` requests in any `interval`. */
export type Limiter = <A, E, R>(effect: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R>

/**
 * A sliding-window limiter that counts a request from the moment it is sent
 * until `interval` after it *completed*. The server sees each request at some
 * time between those two instants, so no window of `interval` on the
 * server's clock can hold more than `limit` of them, whatever the latency.
 *
 * One fiber, tied to the service's scope, hands permits back as their
 * windows close; a call that is interrupted still counts its request if one
 * may have left.
 */
export const make = (limit: number, interval: Duration.DurationInput): Effect.Effect<Limiter, never, Scope.Scope> =>
  Effect.gen(function*() {
    const windowMillis = Duration.toMillis(interval)
    const permits = yield* Effect.makeSemaphore(limit)
    const releases = yield* Queue.unbounded<number>()
    yield* Effect.gen(function*() {
      const at = yield* Queue.take(releases)
      const now = yield* Clock.currentTimeMillis
      if (at > now) yield* Effect.sleep(Duration.millis(at - now))
      yield* permits.release(1)
    }).pipe(Effect.forever, Effect.interruptible, Effect.forkScoped)
    const giveBack = Effect.flatMap(
      Clock.currentTimeMillis,
      (now) => Queue.offer(releases, now + windowMillis)
    )
    return <A, E, R>(effect: Effect.Effect<A, E, R>) =>
      Effect.uninterruptibleMask((restore) =>
        Effect.zipRight(restore(permits.take(1)), Effect.ensuring(restore(effect), giveBack))
      )
  })
