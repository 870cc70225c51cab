import * as Deferred from "effect/Deferred"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as FiberId from "effect/FiberId"
import type * as Scope from "effect/Scope"
import type { RequestFailure } from "../SfoxError.js"
import type { UserAuthToken } from "../UserAuthToken.js"

/** One user's pending mint, shared by every caller asking for that user. */
interface Entry {
  readonly result: Deferred.Deferred<UserAuthToken, RequestFailure>
  /** Callers still waiting for it. */
  callers: number
  /** The batch it left in; undefined while it is still queued. */
  batch: Batch | undefined
}

/** A batch request in flight. */
interface Batch {
  fiber: Fiber.RuntimeFiber<void> | undefined
  /** Users of the batch that someone still waits for. */
  wanted: number
}

/**
 * Gathers `get` calls from any number of fibers into batch mints: the first
 * call opens a window of `window`; the batch leaves when the window closes or
 * `maxBatchSize` ids wait, whichever comes first. Calls for a user whose mint
 * is already queued or in flight share it.
 *
 * Each batch runs in the service's scope, not in a caller's fiber, so
 * interrupting one caller cancels nothing for the others. When the last
 * caller of a user gives up, the user leaves its batch if the batch has not
 * left yet; when nobody waits for any user of a batch in flight, the batch is
 * interrupted, and its socket with it, before that last caller returns.
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
    const entries = new Map<string, Entry>()
    let queued: Array<string> = []

    const settle = (
      userIds: ReadonlyArray<string>,
      exit: Effect.Effect<ReadonlyMap<string, UserAuthToken>, RequestFailure>
    ) =>
      Effect.flatMap(Effect.exit(exit), (result) =>
        Effect.sync(() => {
          for (const userId of userIds) {
            const entry = entries.get(userId)
            if (entry === undefined) continue
            entries.delete(userId)
            if (result._tag === "Success") Deferred.unsafeDone(entry.result, Effect.succeed(result.value.get(userId)!))
            else Deferred.unsafeDone(entry.result, Effect.failCause(result.cause))
          }
        }))

    const dispatch = (userIds: ReadonlyArray<string>): Effect.Effect<void> => {
      const batch: Batch = { fiber: undefined, wanted: userIds.length }
      for (const userId of userIds) entries.get(userId)!.batch = batch
      return settle(userIds, slots.withPermits(1)(options.mint(userIds))).pipe(
        // Forked from the caller's uninterruptible region: restore interruption so
        // that the service's scope, or the last caller leaving, can stop the batch.
        Effect.interruptible,
        Effect.forkIn(scope),
        Effect.map((fiber) => {
          batch.fiber = fiber
        })
      )
    }

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

    /** A caller gave up: drop its user, or its whole batch, once nobody else wants them. */
    const leave = (userId: string, entry: Entry): Effect.Effect<void> =>
      Effect.suspend(() => {
        entry.callers--
        if (entry.callers > 0 || entries.get(userId) !== entry) return Effect.void
        // A later caller for this user starts afresh rather than joining a mint
        // that may be about to be cancelled.
        entries.delete(userId)
        const batch = entry.batch
        if (batch === undefined) {
          queued = queued.filter((id) => id !== userId)
          return Effect.void
        }
        batch.wanted--
        if (batch.wanted > 0 || batch.fiber === undefined) return Effect.void
        return Fiber.interrupt(batch.fiber)
      })

    // Nobody may wait forever on a mint the closing scope will never finish.
    yield* Effect.addFinalizer(() =>
      Effect.sync(() => {
        for (const entry of entries.values()) Deferred.unsafeDone(entry.result, Effect.interrupt)
        entries.clear()
      })
    )

    return (userId: string) =>
      Effect.uninterruptibleMask((restore) =>
        Effect.suspend(() => {
          let entry = entries.get(userId)
          let start: Effect.Effect<unknown> = Effect.void
          if (entry === undefined) {
            entry = {
              result: Deferred.unsafeMake<UserAuthToken, RequestFailure>(FiberId.none),
              callers: 0,
              batch: undefined
            }
            entries.set(userId, entry)
            queued.push(userId)
            if (queued.length >= options.maxBatchSize) {
              start = dispatch(take())
            } else if (!armed) {
              armed = true
              start = Effect.forkIn(Effect.interruptible(closeWindowAfter(generation)), scope)
            }
          }
          entry.callers++
          const joined = entry
          return Effect.zipRight(
            start,
            Effect.onInterrupt(restore(Deferred.await(joined.result)), () => leave(userId, joined))
          )
        })
      )
  })
