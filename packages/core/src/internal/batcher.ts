import * as Cause from "effect/Cause"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as FiberId from "effect/FiberId"
import * as Runtime from "effect/Runtime"
import type * as Scope from "effect/Scope"

/**
 * The batcher behind `get`, as an explicit state machine.
 *
 * Every transition is one synchronous function below (`join`, `leave`,
 * `windowClosed`, `send`, `start`, `settle`, `close`), so none can be cut in
 * half by an interruption: JavaScript runs each to its end. Only the batch
 * requests themselves are fibers, and the batcher learns of their end through
 * one observer (`settle`), whatever ended them.
 *
 * States of one user's mint:
 * - `queued`: in the gathering window;
 * - `sent`: in a batch, waiting for a slot or in flight;
 * - `done`: settled (or given up by its last caller).
 *
 * Rules the property test checks:
 * - a settled batch resolves exactly the mints it carried, never a later mint
 *   for the same user;
 * - a caller that leaves changes no other caller's outcome;
 * - a window is armed exactly while ids wait in it;
 * - at most `concurrency` batches run; the others wait in order;
 * - after `close`, nobody waits: every caller is interrupted, every batch too.
 */

/** When the gathering window closes: arranges `close` to run later and returns a way to cancel it. */
export type Window = (close: () => void) => () => void

/** The outcome of one batch: one exit per user, or a failure for all of them. */
export type Resolve<A, E> = (keys: ReadonlyArray<string>) => Effect.Effect<ReadonlyMap<string, Exit.Exit<A, E>>, E>

export interface Options<A, E> {
  readonly maxBatchSize: number
  /** Batches in flight at once; the others wait, first sent first run. */
  readonly concurrency: number
  readonly window: Window
  readonly resolve: Resolve<A, E>
}

interface Mint<A, E> {
  readonly key: string
  /** The callers still waiting for it: each one's way to resume. */
  readonly callers: Set<(outcome: Exit.Exit<A, E>) => void>
  state: "queued" | "sent" | "done"
  batch: Batch<A, E> | undefined
}

interface Batch<A, E> {
  readonly mints: ReadonlyArray<Mint<A, E>>
  readonly runtime: Runtime.Runtime<never>
  /** Mints of the batch that someone still waits for. */
  wanted: number
  fiber: Fiber.RuntimeFiber<ReadonlyMap<string, Exit.Exit<A, E>>, E> | undefined
}

interface Gathering<A, E> {
  readonly mints: Map<string, Mint<A, E>>
  readonly cancel: () => void
  /**
   * The context of the caller that opened the window: the batch runs with
   * its services, tracer and span, as if that caller had forked it.
   */
  readonly runtime: Runtime.Runtime<never>
}

/** A view of the state, for tests. */
export interface Snapshot {
  readonly window: ReadonlyArray<string> | undefined
  readonly waiting: ReadonlyArray<ReadonlyArray<string>>
  readonly running: ReadonlyArray<ReadonlyArray<string>>
  readonly pending: number
  readonly closed: boolean
}

export interface Batcher<A, E> {
  readonly get: (key: string) => Effect.Effect<A, E>
  readonly snapshot: () => Snapshot
}

// The clock every program has unless a test provides another (TestClock).
const liveClock = Effect.runSync(Effect.clock)

const realTimer = (millis: number): Window => (close) => {
  const handle = setTimeout(close, Math.max(0, millis))
  return () => clearTimeout(handle)
}

/**
 * The gathering window of `get`: it closes after `millis` on the real clock,
 * or on the program's own `Clock` when that is another one (a `TestClock`),
 * whichever comes first. A test never has to move `TestClock` for `get` to
 * complete, and moving it past the window closes the window at once, as
 * before. In production only a plain timer is paid: no fiber per window.
 */
export const clockWindow = (millis: number): Effect.Effect<Window> =>
  Effect.map(Effect.clock, (clock) => {
    if (clock === liveClock) return realTimer(millis)
    const sleep = clock.sleep(Duration.millis(millis))
    return (close) => {
      const cancelTimer = realTimer(millis)(close)
      const fiber = Effect.runFork(Effect.map(sleep, close))
      return () => {
        cancelTimer()
        fiber.unsafeInterruptAsFork(FiberId.none)
      }
    }
  })

/**
 * Builds a batcher whose batches run in the scope's lifetime: closing the
 * scope interrupts every batch and releases every caller.
 */
export const make = <A, E>(options: Options<A, E>): Effect.Effect<Batcher<A, E>, never, Scope.Scope> =>
  Effect.gen(function*() {
    // The current mint of every user that has one not yet settled.
    const pending = new Map<string, Mint<A, E>>()
    let gathering: Gathering<A, E> | undefined
    const waiting: Array<Batch<A, E>> = []
    const running = new Set<Batch<A, E>>()
    let closed = false

    const settle = (batch: Batch<A, E>, exit: Exit.Exit<ReadonlyMap<string, Exit.Exit<A, E>>, E>): void => {
      running.delete(batch)
      const settled: Array<Mint<A, E>> = []
      for (const mint of batch.mints) {
        if (mint.state === "done") continue
        mint.state = "done"
        if (pending.get(mint.key) === mint) pending.delete(mint.key)
        settled.push(mint)
      }
      // The next batch leaves before this one's callers are resumed: its
      // request is on the wire while they run.
      startWaiting()
      for (const mint of settled) resumeAll(mint, outcomeOf(exit, mint.key))
    }

    const start = (batch: Batch<A, E>): void => {
      running.add(batch)
      // A root fiber: no caller's interruption reaches it but through `leave`.
      // It starts at once rather than behind every fiber already scheduled
      // (10,000 callers, say): its request leaves before they have all run.
      const fiber = Runtime.runFork(batch.runtime)(options.resolve(batch.mints.map((mint) => mint.key)), {
        immediate: true
      })
      batch.fiber = fiber
      fiber.addObserver((exit) => settle(batch, exit))
    }

    const startWaiting = (): void => {
      while (!closed && running.size < options.concurrency && waiting.length > 0) start(waiting.shift()!)
    }

    /** The window's ids leave as one batch. */
    const send = (): void => {
      const current = gathering!
      gathering = undefined
      current.cancel()
      const mints = Array.from(current.mints.values())
      const batch: Batch<A, E> = { mints, runtime: current.runtime, wanted: mints.length, fiber: undefined }
      for (const mint of mints) {
        mint.state = "sent"
        mint.batch = batch
      }
      waiting.push(batch)
      startWaiting()
    }

    const windowClosed = (closing: Gathering<A, E>) => (): void => {
      // A window cancelled or already sent finds nothing of its own.
      if (gathering === closing && closing.mints.size > 0) send()
    }

    /** A caller asks for `key`: joins its mint, or queues a new one. */
    const join = (
      key: string,
      resume: (outcome: Exit.Exit<A, E>) => void,
      caller: Fiber.RuntimeFiber<A, E>
    ): Mint<A, E> | undefined => {
      if (closed) return undefined
      let mint = pending.get(key)
      if (mint === undefined) {
        mint = { key, callers: new Set(), state: "queued", batch: undefined }
        pending.set(key, mint)
        if (gathering === undefined) {
          const mints = new Map<string, Mint<A, E>>()
          let cancel: () => void = noop
          const opened: Gathering<A, E> = {
            mints,
            cancel: () => cancel(),
            runtime: Runtime.make({
              context: caller.currentContext,
              fiberRefs: caller.getFiberRefs(),
              runtimeFlags: Runtime.defaultRuntimeFlags
            })
          }
          gathering = opened
          cancel = options.window(windowClosed(opened))
        }
        gathering.mints.set(key, mint)
        if (gathering.mints.size >= options.maxBatchSize) send()
      }
      mint.callers.add(resume)
      return mint
    }

    /**
     * A caller gave up. Its mint goes only when nobody else waits for it: out
     * of the window, or out of its batch; a batch in flight that nobody
     * wants any more is interrupted, and the caller returns once it is gone.
     */
    const leave = (mint: Mint<A, E>, resume: (outcome: Exit.Exit<A, E>) => void): Effect.Effect<void> => {
      mint.callers.delete(resume)
      if (mint.callers.size > 0 || mint.state === "done") return Effect.void
      mint.state = "done"
      // A later caller for the user starts a fresh mint rather than joining
      // one that may be about to be cancelled.
      if (pending.get(mint.key) === mint) pending.delete(mint.key)
      const batch = mint.batch
      if (batch === undefined) {
        const current = gathering!
        current.mints.delete(mint.key)
        if (current.mints.size === 0) {
          gathering = undefined
          current.cancel()
        }
        return Effect.void
      }
      batch.wanted--
      if (batch.wanted > 0) return Effect.void
      if (batch.fiber === undefined) {
        waiting.splice(waiting.indexOf(batch), 1)
        return Effect.void
      }
      return Fiber.interrupt(batch.fiber)
    }

    const close = (): ReadonlyArray<Fiber.RuntimeFiber<unknown, unknown>> => {
      closed = true
      gathering?.cancel()
      gathering = undefined
      waiting.length = 0
      const interrupted = Exit.interrupt(FiberId.none)
      for (const mint of pending.values()) {
        mint.state = "done"
        resumeAll(mint, interrupted)
      }
      pending.clear()
      return Array.from(running, (batch) => batch.fiber!)
    }

    // Nobody may wait forever on a mint the closing scope will never finish.
    yield* Effect.addFinalizer(() => Effect.suspend(() => Fiber.interruptAll(close())))

    // Joining happens as the caller suspends, and leaving is the canceller
    // Effect runs when the caller is interrupted: nothing can come between a
    // caller and its place in the state. No Deferred, no mask: this is paid
    // once per caller, and busy servers have many.
    const get = (key: string): Effect.Effect<A, E> =>
      Effect.withFiberRuntime<A, E>((fiber) =>
        Effect.async<A, E>((resume) => {
          const mint = join(key, resume, fiber)
          if (mint === undefined) {
            resume(Exit.interrupt(FiberId.none))
            return
          }
          return Effect.suspend(() => leave(mint, resume))
        })
      )

    const snapshot = (): Snapshot => ({
      window: gathering === undefined ? undefined : Array.from(gathering.mints.keys()),
      waiting: waiting.map((batch) => batch.mints.map((mint) => mint.key)),
      running: Array.from(running, (batch) => batch.mints.map((mint) => mint.key)),
      pending: pending.size,
      closed
    })

    return { get, snapshot }
  })

const noop = () => {}

const resumeAll = <A, E>(mint: Mint<A, E>, outcome: Exit.Exit<A, E>): void => {
  const callers = Array.from(mint.callers)
  mint.callers.clear()
  for (const resume of callers) resume(outcome)
}

const outcomeOf = <A, E>(exit: Exit.Exit<ReadonlyMap<string, Exit.Exit<A, E>>, E>, key: string): Exit.Exit<A, E> => {
  if (Exit.isFailure(exit)) return Exit.failCause(exit.cause)
  const outcome = exit.value.get(key)
  // The resolver answers for every key it was given; a gap is a bug of ours,
  // and a caller must hear of it rather than wait forever.
  return outcome ?? Exit.failCause(Cause.die(new Error(`the batch resolver gave no outcome for a user`)))
}
