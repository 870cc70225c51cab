import { BatcherMachine as Machine } from "@sfox-effect/domain"
import * as Cause from "effect/Cause"
import * as Clock from "effect/Clock"
import type * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import type * as Scope from "effect/Scope"

/**
 * The batcher behind `get`: the shell of the pure machine in
 * `@sfox-effect/domain`'s `BatcherMachine` (read its comment for the
 * phases of a batch, what a slot is, and the rules). The shell holds the
 * machine's state, feeds it events and runs its commands: timers, the batch
 * fibers, resuming callers.
 *
 * Every transition is one synchronous call, so none can be cut in half by an
 * interruption: JavaScript runs each to its end. Only the batch requests
 * themselves are fibers, and the shell learns of their end through one
 * observer (`Settled`), whatever ended them. A caller is its
 * `Effect.callback` resume function: no Deferred, no fiber per caller; in
 * production a window is a plain timer, no fiber either.
 *
 * Effect 4 runs a resumed fiber inline, on the stack of whoever resumed it.
 * A caller resumed here may join again, or leave, before the transition
 * that resumed it has run its last command: the machine updates its state
 * before it hands out commands, and the commands after a `Resume` (more
 * resumes, `Forget`) name batches the resumed caller can no longer reach,
 * so whatever the caller feeds back is a whole transition of its own.
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
  /** Batches holding a slot at once (see BatcherMachine); the others wait, first queued first started. */
  readonly concurrency: number
  readonly window: Window
  /** How long a sent batch keeps its slot at most. */
  readonly hold: Window
  readonly resolve: Resolve<A, E>
}

/** A view of the state, for tests. */
export type Snapshot = Machine.Snapshot

export interface Batcher<A, E> {
  readonly get: (key: string) => Effect.Effect<A, E>
  readonly snapshot: () => Snapshot
}

type Caller<A, E> = (outcome: Effect.Effect<A, E>) => void
type Answer<A, E> = Exit.Exit<ReadonlyMap<string, Exit.Exit<A, E>>, E>

/** What the shell keeps of one batch: where it runs, its timer, its fiber. */
interface Host<A, E> {
  /**
   * The context of the caller that opened the window: the batch runs with
   * its services, clock, tracer and span, as if that caller had forked it.
   */
  readonly context: Context.Context<never>
  cancel: () => void
  fiber: Fiber.Fiber<ReadonlyMap<string, Exit.Exit<A, E>>, E> | undefined
  /** Asked to stop while its fiber was still starting (on the stack of `start`). */
  stopped: boolean
}

// The clock every program has unless a test provides another (TestClock).
const liveClock = Effect.runSync(Clock.clockWith(Effect.succeed))

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
  Effect.withFiber((fiber) => {
    const clock = fiber.getRef(Clock.Clock)
    if (clock === liveClock) return Effect.succeed(realTimer(millis))
    // The sleep runs on the builder's context: its clock, and the scheduler
    // `TestClock.adjust` waits on before it moves on.
    const context = fiber.context
    const sleep = Effect.sleep(Duration.millis(millis))
    return Effect.succeed<Window>((close) => {
      const cancelTimer = realTimer(millis)(close)
      const timer = Effect.runForkWith(context)(Effect.map(sleep, close))
      return () => {
        cancelTimer()
        timer.interruptUnsafe()
      }
    })
  })

/**
 * Builds a batcher whose batches run in the scope's lifetime: closing the
 * scope interrupts every batch and releases every caller.
 */
export const make = <A, E>(options: Options<A, E>): Effect.Effect<Batcher<A, E>, never, Scope.Scope> => {
  const shell = new Shell(options)
  // Nobody may wait forever on a mint the closing scope will never finish.
  return Effect.as(
    Effect.addFinalizer(() => Effect.suspend(() => Fiber.interruptAll(shell.feed({ _tag: "Close" })))),
    { get: shell.get, snapshot: () => Machine.snapshot(shell.state) }
  )
}

/** The machine's state, how events reach it, and `get`. */
class Shell<A, E> {
  readonly state: Machine.State<Caller<A, E>>
  readonly hosts = new Map<number, Host<A, E>>()
  constructor(readonly options: Options<A, E>) {
    this.state = Machine.initial(options)
  }

  /**
   * Feeds one event and runs its commands; returns the fibers it asked to
   * interrupt, for the event's caller to wait on. `answer` is the settled
   * batch's, `joiner` the context of the caller that joined.
   */
  feed(
    event: Machine.Event<Caller<A, E>>,
    answer?: Answer<A, E>,
    joiner?: Context.Context<never>
  ): Array<Fiber.Fiber<unknown, unknown>> {
    const stopped: Array<Fiber.Fiber<unknown, unknown>> = []
    for (const command of Machine.step(this.state, event).commands) this.run(command, answer, joiner, stopped)
    return stopped
  }

  run(
    command: Machine.Command<Caller<A, E>>,
    answer: Answer<A, E> | undefined,
    joiner: Context.Context<never> | undefined,
    stopped: Array<Fiber.Fiber<unknown, unknown>>
  ): void {
    switch (command._tag) {
      case "ArmWindow":
        return this.openWindow(command.batch, joiner!)
      case "ArmHold": {
        const batch = command.batch
        this.hosts.get(batch)!.cancel = this.options.hold(() => this.feed({ _tag: "HoldEnded", batch }))
        return
      }
      case "CancelTimer":
        return cancelTimer(this.hosts.get(command.batch)!)
      case "Start":
        return this.start(command.batch)
      case "Interrupt": {
        const host = this.hosts.get(command.batch)!
        if (host.fiber === undefined) host.stopped = true
        else stopped.push(host.fiber)
        return
      }
      case "Resume":
        return resumeAll(command.callers, outcomeOf(answer!, command.key))
      case "ResumeInterrupted":
        return resumeAll(command.callers, interrupted)
      case "Forget":
        this.hosts.delete(command.batch)
    }
  }

  openWindow(batch: number, context: Context.Context<never>): void {
    const host: Host<A, E> = { context, cancel: noop, fiber: undefined, stopped: false }
    this.hosts.set(batch, host)
    host.cancel = this.options.window(() => this.feed({ _tag: "WindowClosed", batch }))
  }

  start(batch: number): void {
    const host = this.hosts.get(batch)!
    const seal = () => {
      this.feed({ _tag: "TurnGranted", batch })
      return Machine.sealedKeys(this.state, batch)
    }
    // A root fiber: no caller's interruption reaches it but through `Leave`.
    // Effect 4 starts a forked fiber at once, on this stack (Effect 3 needed
    // `immediate: true` for that): its request leaves before the callers
    // already scheduled (10,000, say) have all run.
    const fiber = Effect.runForkWith(host.context)(this.options.resolve({ seal }))
    host.fiber = fiber
    fiber.addObserver((exit) => this.feed({ _tag: "Settled", batch }, exit))
    if (host.stopped) fiber.interruptUnsafe()
  }

  // Joining happens as the caller suspends, and leaving is the canceller
  // Effect runs when the caller is interrupted: nothing can come between a
  // caller and its place in the state. No Deferred, no mask: this is paid
  // once per caller, and busy servers have many.
  readonly get = (key: string): Effect.Effect<A, E> =>
    Effect.withFiber<A, E>((fiber) =>
      Effect.callback<A, E>((resume) => {
        this.feed({ _tag: "Join", caller: resume, key }, undefined, fiber.context)
        return Effect.suspend(() => {
          const stopped = this.feed({ _tag: "Leave", caller: resume, key })
          return stopped.length === 0 ? Effect.void : Fiber.interruptAll(stopped)
        })
      })
    )
}

const interrupted = Exit.interrupt()

const cancelTimer = (host: { cancel: () => void }): void => {
  host.cancel()
  host.cancel = noop
}

const noop = () => {}

const resumeAll = <A, E>(callers: ReadonlyArray<Caller<A, E>>, outcome: Exit.Exit<A, E>): void => {
  for (const resume of callers) resume(outcome)
}

const outcomeOf = <A, E>(exit: Answer<A, E>, key: string): Exit.Exit<A, E> => {
  if (Exit.isFailure(exit)) return Exit.failCause(exit.cause)
  const outcome = exit.value.get(key)
  // The resolver answers for every key it was given; a gap is a bug of ours,
  // and a caller must hear of it rather than wait forever.
  return outcome ?? Exit.failCause(Cause.die(new Error(`the batch resolver gave no outcome for a user`)))
}
