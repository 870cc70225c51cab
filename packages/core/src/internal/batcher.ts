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
 * `windowClosed`, `startQueued`, `start`, `seal`, `holdEnded`, `settle`,
 * `close`), so none can be cut in half by an interruption: JavaScript runs
 * each to its end. Only the batch requests themselves are fibers, and the
 * batcher learns of their end through one observer (`settle`), whatever
 * ended them.
 *
 * A batch goes through these phases:
 * - `gathering`: its window is open;
 * - `queued`: its window has closed, it waits for a slot;
 * - `turn`: it holds a slot, its request waits for its rate-limit turn;
 * - `sent`: the turn came and its request was built (`seal`): from here on
 *   its users are fixed;
 * - `abandoned`: every caller left before it was sealed; its fiber is being
 *   interrupted.
 * Until it is sealed a batch takes joiners, up to `maxBatchSize`: a new user
 * goes into the oldest batch not yet sealed that has room, and a window opens
 * only when none has. While the rate limit binds, the batch waiting for its
 * turn fills up instead of a queue of small ones forming behind it.
 *
 * What a slot is. `concurrency` bounds the batches that are starting: a
 * batch holds a slot from the moment it asks for its turn until its answer
 * comes, or until its request has been out for one `hold` (the service's
 * batch window), whichever is first. A burst of full batches thus leaves
 * `concurrency` at a time, the later ones gathering joiners meanwhile. It
 * does not bound the requests sFOX sits on: a request in flight that hangs
 * cannot be told from a slow one before its timeout, and counting it until
 * it ends let as many hung requests as slots stall every new user for their
 * timeouts and retries (33 s, issue 20). A request sent before a user
 * arrived stops counting by the time that user's own window closes, so it
 * never holds the user back. Requests in flight are bounded by the rate
 * limiter, which counts each from its start until a window after its end.
 * A batch retrying (its delay, its later attempts) holds no slot either:
 * the hold ended one window after its first request left.
 *
 * Rules the property test checks:
 * - a settled batch resolves exactly the mints it carried, never a later mint
 *   for the same user;
 * - a sealed batch takes no joiner, and its request carries exactly the
 *   users that were in it when it was sealed;
 * - a caller that leaves changes no other caller's outcome;
 * - a window is armed exactly while ids wait in it;
 * - at most `concurrency` batches hold a slot; the others wait in order, and
 *   a slot comes free when its batch ends or its hold does;
 * - after `close`, nobody waits: every caller is interrupted, every batch too.
 */

/** Arranges `close` to run later (when a window or a hold ends) and returns a way to cancel it. */
export type Window = (close: () => void) => () => void

/**
 * What a batch's resolver is handed. `seal` is called the moment its request
 * is built (its rate-limit turn granted): it closes the batch to joiners and
 * gives its users, the same ones on every later call (a retry's request);
 * `undefined` when every caller has left (send nothing).
 */
export interface Sealable {
  readonly seal: () => ReadonlyArray<string> | undefined
}

/** The outcome of one batch: one exit per user, or a failure for all of them. */
export type Resolve<A, E> = (batch: Sealable) => Effect.Effect<ReadonlyMap<string, Exit.Exit<A, E>>, E>

export interface Options<A, E> {
  readonly maxBatchSize: number
  /** Batches holding a slot at once (see the module's comment); the others wait, first queued first started. */
  readonly concurrency: number
  readonly window: Window
  /** How long a sent batch keeps its slot at most. */
  readonly hold: Window
  readonly resolve: Resolve<A, E>
}

interface Mint<A, E> {
  readonly key: string
  /** The callers still waiting for it: each one's way to resume. */
  readonly callers: Set<(outcome: Exit.Exit<A, E>) => void>
  /** `queued` in a batch not yet sealed, `sent` in a sealed one. */
  state: "queued" | "sent" | "done"
  readonly batch: Batch<A, E>
}

type Phase = "gathering" | "queued" | "turn" | "sent" | "abandoned"

interface Batch<A, E> {
  /** In the order the users joined; only its `sent` state is the request's. */
  readonly mints: Map<string, Mint<A, E>>
  /**
   * The context of the caller that opened the window: the batch runs with
   * its services, tracer and span, as if that caller had forked it.
   */
  readonly runtime: Runtime.Runtime<never>
  phase: Phase
  /** Whether it counts against `concurrency`. */
  slot: boolean
  /** Its users as sealed: what its request carries. */
  keys: ReadonlyArray<string> | undefined
  /** Mints of the sealed batch that someone still waits for. */
  wanted: number
  /** Cancels its timer: the window while gathering, the hold once sent. */
  cancel: () => void
  fiber: Fiber.RuntimeFiber<ReadonlyMap<string, Exit.Exit<A, E>>, E> | undefined
}

/** A view of the state, for tests. */
export interface Snapshot {
  readonly window: ReadonlyArray<string> | undefined
  /** Batches waiting for a slot, in order. */
  readonly waiting: ReadonlyArray<ReadonlyArray<string>>
  /** Batches holding a slot, waiting for their turn. */
  readonly turn: ReadonlyArray<ReadonlyArray<string>>
  /** Sealed batches not yet settled, in the order they started, and whether each still holds a slot. */
  readonly sent: ReadonlyArray<{ readonly keys: ReadonlyArray<string>; readonly slot: boolean }>
  readonly slots: number
  readonly pending: number
  readonly closed: boolean
}

export interface Batcher<A, E> {
  readonly get: (key: string) => Effect.Effect<A, E>
  readonly snapshot: () => Snapshot
}

/**
 * Where a new user's mint goes: the oldest batch not yet sealed that has
 * room, or none (a new window opens). The oldest first, because it is the
 * next to leave.
 */
export const batchFor = <B extends { readonly mints: { readonly size: number } }>(
  open: ReadonlyArray<B>,
  maxBatchSize: number
): B | undefined => {
  for (const batch of open) {
    if (batch.mints.size < maxBatchSize) return batch
  }
  return undefined
}

/** Whether the next queued batch may take a slot. */
export const mayStart = (
  state: { readonly closed: boolean; readonly slots: number; readonly queued: number },
  concurrency: number
): boolean => !state.closed && state.queued > 0 && state.slots < concurrency

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
    // Batches not yet sealed, oldest first: the gathering one (if any) is last.
    const open: Array<Batch<A, E>> = []
    let gathering: Batch<A, E> | undefined
    // Batches waiting for a slot, first queued first started.
    const queued: Array<Batch<A, E>> = []
    // Batches whose fiber runs, in the order they started.
    const running = new Set<Batch<A, E>>()
    let slots = 0
    let closed = false

    const drop = <B>(list: Array<B>, item: B): void => {
      const at = list.indexOf(item)
      if (at >= 0) list.splice(at, 1)
    }

    const freeSlot = (batch: Batch<A, E>): void => {
      if (!batch.slot) return
      batch.slot = false
      slots--
    }

    const settle = (batch: Batch<A, E>, exit: Exit.Exit<ReadonlyMap<string, Exit.Exit<A, E>>, E>): void => {
      running.delete(batch)
      batch.cancel()
      freeSlot(batch)
      // A batch that failed before its turn came was still open.
      if (batch.phase === "turn") drop(open, batch)
      const settled: Array<Mint<A, E>> = []
      for (const mint of batch.mints.values()) {
        if (mint.state === "done") continue
        mint.state = "done"
        if (pending.get(mint.key) === mint) pending.delete(mint.key)
        settled.push(mint)
      }
      // The next batch leaves before this one's callers are resumed: its
      // request is on the wire while they run.
      startQueued()
      for (const mint of settled) resumeAll(mint, outcomeOf(exit, mint.key))
    }

    /** The batch's turn came: its users are fixed, its request is built from them. */
    const seal = (batch: Batch<A, E>) => (): ReadonlyArray<string> | undefined => {
      if (batch.phase === "sent") return batch.keys
      if (batch.phase !== "turn") return undefined
      batch.phase = "sent"
      drop(open, batch)
      batch.keys = Array.from(batch.mints.keys())
      batch.wanted = batch.keys.length
      for (const mint of batch.mints.values()) mint.state = "sent"
      batch.cancel = options.hold(holdEnded(batch))
      return batch.keys
    }

    /** A sent batch has been out for one hold: it stops counting against `concurrency`. */
    const holdEnded = (batch: Batch<A, E>) => (): void => {
      if (!batch.slot || closed) return
      freeSlot(batch)
      startQueued()
    }

    const start = (batch: Batch<A, E>): void => {
      batch.phase = "turn"
      batch.slot = true
      slots++
      running.add(batch)
      // A root fiber: no caller's interruption reaches it but through `leave`.
      // It starts at once rather than behind every fiber already scheduled
      // (10,000 callers, say): its request leaves before they have all run.
      const fiber = Runtime.runFork(batch.runtime)(options.resolve({ seal: seal(batch) }), { immediate: true })
      batch.fiber = fiber
      fiber.addObserver((exit) => settle(batch, exit))
    }

    const startQueued = (): void => {
      while (mayStart({ closed, slots, queued: queued.length }, options.concurrency)) start(queued.shift()!)
    }

    /** The window's ids stop gathering: the batch waits for a slot, still taking joiners. */
    const queue = (batch: Batch<A, E>): void => {
      gathering = undefined
      batch.cancel()
      batch.cancel = noop
      batch.phase = "queued"
      queued.push(batch)
      startQueued()
    }

    const windowClosed = (batch: Batch<A, E>) => (): void => {
      // A window cancelled or already closed finds nothing of its own.
      if (batch.phase === "gathering" && gathering === batch) queue(batch)
    }

    const openWindow = (caller: Fiber.RuntimeFiber<A, E>): Batch<A, E> => {
      const batch: Batch<A, E> = {
        mints: new Map(),
        runtime: Runtime.make({
          context: caller.currentContext,
          fiberRefs: caller.getFiberRefs(),
          runtimeFlags: Runtime.defaultRuntimeFlags
        }),
        phase: "gathering",
        slot: false,
        keys: undefined,
        wanted: 0,
        cancel: noop,
        fiber: undefined
      }
      gathering = batch
      open.push(batch)
      batch.cancel = options.window(windowClosed(batch))
      return batch
    }

    /** A caller asks for `key`: joins its mint, or puts a new one into a batch not yet sealed. */
    const join = (
      key: string,
      resume: (outcome: Exit.Exit<A, E>) => void,
      caller: Fiber.RuntimeFiber<A, E>
    ): Mint<A, E> | undefined => {
      if (closed) return undefined
      const known = pending.get(key)
      if (known !== undefined) {
        known.callers.add(resume)
        return known
      }
      const batch = batchFor(open, options.maxBatchSize) ?? openWindow(caller)
      const mint: Mint<A, E> = { key, callers: new Set([resume]), state: "queued", batch }
      pending.set(key, mint)
      batch.mints.set(key, mint)
      // The caller is in before a full batch leaves: whatever ends it reaches the caller.
      if (batch.phase === "gathering" && batch.mints.size >= options.maxBatchSize) queue(batch)
      return mint
    }

    /** Nobody waits for a batch not yet sealed any more: it goes, sending nothing. */
    const abandon = (batch: Batch<A, E>): Effect.Effect<void> => {
      drop(open, batch)
      switch (batch.phase) {
        case "gathering":
          gathering = undefined
          batch.cancel()
          batch.phase = "abandoned"
          return Effect.void
        case "queued":
          drop(queued, batch)
          batch.phase = "abandoned"
          return Effect.void
        default:
          // Waiting for its turn: interrupting it takes no turn, and the
          // slot comes free when it has ended (`settle`).
          batch.phase = "abandoned"
          return Fiber.interrupt(batch.fiber!)
      }
    }

    /**
     * A caller gave up. Its mint goes only when nobody else waits for it: out
     * of its batch if that is not yet sealed; a batch that nobody wants any
     * more is dropped, or interrupted, and the caller returns once it is gone.
     */
    const leave = (mint: Mint<A, E>, resume: (outcome: Exit.Exit<A, E>) => void): Effect.Effect<void> => {
      mint.callers.delete(resume)
      if (mint.callers.size > 0 || mint.state === "done") return Effect.void
      const sealed = mint.state === "sent"
      mint.state = "done"
      // A later caller for the user starts a fresh mint rather than joining
      // one that may be about to be cancelled.
      if (pending.get(mint.key) === mint) pending.delete(mint.key)
      const batch = mint.batch
      if (sealed) {
        batch.wanted--
        return batch.wanted > 0 ? Effect.void : Fiber.interrupt(batch.fiber!)
      }
      batch.mints.delete(mint.key)
      return batch.mints.size > 0 ? Effect.void : abandon(batch)
    }

    const close = (): ReadonlyArray<Fiber.RuntimeFiber<unknown, unknown>> => {
      closed = true
      for (const batch of open) batch.cancel()
      for (const batch of running) batch.cancel()
      gathering = undefined
      open.length = 0
      queued.length = 0
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

    const keysOf = (batch: Batch<A, E>) => Array.from(batch.mints.keys())
    const snapshot = (): Snapshot => ({
      window: gathering === undefined ? undefined : keysOf(gathering),
      waiting: queued.map(keysOf),
      turn: Array.from(running).filter((batch) => batch.phase === "turn").map(keysOf),
      sent: Array.from(running).filter((batch) => batch.phase === "sent").map((batch) => ({
        keys: batch.keys!,
        slot: batch.slot
      })),
      slots,
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
