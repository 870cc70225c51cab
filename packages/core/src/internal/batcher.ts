import * as Deferred from "effect/Deferred"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as FiberId from "effect/FiberId"
import type * as Scope from "effect/Scope"
import type { RequestFailure } from "../SfoxError.js"
import type { UserAuthToken } from "../UserAuthToken.js"

type Waiter = Deferred.Deferred<UserAuthToken, RequestFailure>

/**
 * Gathers `get` calls from any number of fibers into batch mints: the first
 * call opens a window of `window`; the batch leaves when the window closes or
 * `maxBatchSize` ids wait, whichever comes first. Calls for a user whose mint
 * is already waiting or in flight share it. Each batch runs in the service's
 * scope, not in a caller's fiber, so interrupting a caller only stops that
 * caller's wait.
 */
export const make = (options: {
  readonly window: Duration.Duration
  readonly maxBatchSize: number
  readonly concurrency: number
  readonly mint: (userIds: ReadonlyArray<string>) => Effect.Effect<ReadonlyMap<string, UserAuthToken>, RequestFailure>
}): Effect.Effect<(userId: string) => Effect.Effect<UserAuthToken, RequestFailure>, never, Scope.Scope> =>
  Effect.gen(function*() {
    const scope = yield* Effect.scope
    const slots = yield* Effect.makeSemaphore(options.concurrency)
    // Every user with a mint not yet settled, queued or in flight.
    const waiting = new Map<string, Waiter>()
    let queued: Array<string> = []

    const dispatch = (userIds: ReadonlyArray<string>): Effect.Effect<void> =>
      slots.withPermits(1)(options.mint(userIds)).pipe(
        Effect.exit,
        Effect.flatMap((exit) =>
          Effect.sync(() => {
            for (const userId of userIds) {
              const waiter = waiting.get(userId)!
              waiting.delete(userId)
              if (exit._tag === "Success") Deferred.unsafeDone(waiter, Effect.succeed(exit.value.get(userId)!))
              else Deferred.unsafeDone(waiter, Effect.failCause(exit.cause))
            }
          })
        ),
        // Forked from the caller's uninterruptible region: restore interruption so
        // the service's scope can stop the batch.
        Effect.interruptible,
        Effect.forkIn(scope),
        Effect.asVoid
      )

    // The window timer of the batch being gathered; bumped when a full batch
    // leaves early, so that the old timer finds nothing of its own to send.
    let generation = 0
    let armed = false

    const take = () => {
      const batch = queued
      queued = []
      armed = false
      generation++
      return batch
    }

    const closeWindowAfter = (own: number) =>
      Effect.zipRight(
        Effect.sleep(options.window),
        Effect.suspend(() => own === generation && queued.length > 0 ? dispatch(take()) : Effect.void)
      )

    // Nobody may wait forever on a mint the closing scope will never finish.
    yield* Effect.addFinalizer(() =>
      Effect.sync(() => {
        for (const waiter of waiting.values()) Deferred.unsafeDone(waiter, Effect.interrupt)
        waiting.clear()
      })
    )

    return (userId: string) =>
      Effect.suspend(() => {
        const shared = waiting.get(userId)
        if (shared !== undefined) return Deferred.await(shared)
        const waiter = Deferred.unsafeMake<UserAuthToken, RequestFailure>(FiberId.none)
        waiting.set(userId, waiter)
        queued.push(userId)
        let start: Effect.Effect<unknown> = Effect.void
        if (queued.length >= options.maxBatchSize) {
          start = dispatch(take())
        } else if (!armed) {
          armed = true
          start = Effect.forkIn(Effect.interruptible(closeWindowAfter(generation)), scope)
        }
        // Once queued, the batch must leave even if this caller is interrupted now.
        return Effect.zipRight(Effect.uninterruptible(start), Deferred.await(waiter))
      })
  })
