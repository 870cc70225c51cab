import { Budget, ErrorText, LimiterMachine } from "@sfox-effect/domain"
import * as Clock from "effect/Clock"
import type * as Config from "effect/Config"
import type * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import type * as Fiber from "effect/Fiber"
import * as Latch from "effect/Latch"
import * as Option from "effect/Option"
import type * as Scope from "effect/Scope"
import { RateLimiterUnavailable } from "../SfoxError.js"
import type { SfoxRateLimiter } from "../SfoxRateLimiter.js"
import { invalidOption } from "./optionSchema.js"

/** What the request pipeline takes a turn from: `SfoxRateLimiter.Service`. */
export type Limiter = SfoxRateLimiter.Service

/** No limit at all. */
export const unlimited: Limiter = { withTurn: (effect) => effect }

/** The window a limiter keeps: `Budget.windowMillis` of the domain (1 % longer than asked). */
export const windowMillisOf = (interval: Duration.Input): number => Budget.windowMillis(Duration.toMillis(interval))

/** Checks `{ limit, interval }` as `SfoxRateLimiter.layer` and `RedisRateLimiter.layer` take them. */
export const checkBudget = (
  options: SfoxRateLimiter.Options,
  path: ReadonlyArray<string> = []
): Effect.Effect<{ readonly limit: number; readonly interval: Duration.Duration }, Config.ConfigError> => {
  // Anything that is not a duration (a typo from JavaScript, say) is the domain's "no interval".
  const interval = Option.getOrUndefined(Duration.fromInput(options.interval))
  const checked = Budget.check(options.limit, interval === undefined ? undefined : Duration.toMillis(interval))
  return Budget.isProblem(checked)
    ? Effect.fail(invalidOption([...path, checked.option], checked.message))
    : Effect.succeed({ limit: checked.limit, interval: interval! })
}

/** The limiter's state, for tests: free turns and callers waiting. */
export type Snapshot = LimiterMachine.Snapshot

/**
 * A sliding-window limiter that counts a request from the moment it is sent
 * until `interval` after it *completed*. The server sees each request at some
 * time between those two instants, so no window of `interval` on the
 * server's clock can hold more than `limit` of them, whatever the latency.
 *
 * Every decision is `LimiterMachine.step` of the domain; this shell holds its
 * state, runs its commands and feeds events back. One fiber, tied to the
 * scope, hands turns back as their windows close. A turn is taken without
 * any fiber or timer when one is free: this is on the path of every request.
 * Once the scope is closed no turn comes back: every caller still waiting,
 * and every later one, fails with `RateLimiterUnavailable`, whatever its
 * longest wait.
 *
 * Effect 4 resumes a suspended fiber inline: `resume` (and a latch's
 * `openUnsafe`) runs the resumed fiber's code on the caller's stack, where
 * Effect 3 scheduled it. A resumed caller runs its request, which may end
 * at once and feed `Done` back while its grant's transition is still
 * running its commands. So a transition runs its commands in three parts
 * (`run`): the decisions (who is granted, who fails), then the limiter's
 * own (the release timer's latch, the wait timers), then the resumes, once
 * the state and the latch agree again. Whatever a resumed caller feeds back
 * is then a whole transition of its own, on a state no other transition is
 * half-way through.
 */
export const make: (
  limit: number,
  interval: Duration.Input,
  /** For tests: called the instant a waiting caller is granted a turn, before it can run. */
  onGrant?: () => void
) => Effect.Effect<Limiter & { readonly snapshot: () => Snapshot }, never, Scope.Scope> = Effect.fnUntraced(
  function*(limit: number, interval: Duration.Input, onGrant?: () => void) {
    const shell: Shell = {
      state: LimiterMachine.initial(limit, windowMillisOf(interval)),
      waiters: new Map(),
      // Open while a turn is due back: the releaser sleeps on it when none is.
      pending: Latch.makeUnsafe(false),
      // The clock and context of the scope the limiter lives in: the releaser and the waits' timers run on them.
      clock: yield* Clock.clockWith(Effect.succeed),
      context: yield* Effect.context<never>(),
      nextId: 0,
      onGrant,
      giveBack: () => {
        giveBack(shell)
        return Effect.void
      }
    }
    // No turn will come back: a caller left waiting would wait for ever.
    yield* Effect.addFinalizer(() => Effect.sync(() => apply(shell, { _tag: "Close" }, 0)))
    yield* Effect.forkScoped(releaser(shell))
    return {
      withTurn: (effect, options) => withTurn(shell, effect, options),
      snapshot: () => LimiterMachine.snapshot(shell.state)
    }
  }
)

interface Shell {
  state: LimiterMachine.State
  /** The callers waiting, by id: how to resume each. */
  readonly waiters: Map<number, Waiter>
  readonly pending: Latch.Latch
  readonly clock: Clock.Clock
  readonly context: Context.Context<never>
  nextId: number
  readonly onGrant: (() => void) | undefined
  /** `giveBack` as the exit handler of every request: one function per limiter, not one per request. */
  readonly giveBack: () => Effect.Effect<void>
}

/**
 * One waiting caller. `state` is what its own fiber reads when interrupted:
 * `granted` means the turn is its own but its request has not begun, so it
 * goes on to the next caller.
 */
interface Waiter {
  state: "waiting" | "granted" | "gone"
  /** The wait's end, once decided, until the caller's fiber takes it. */
  outcome: Effect.Effect<void, unknown> | undefined
  resume: ((outcome: Effect.Effect<void, unknown>) => void) | undefined
  timer: Fiber.Fiber<void> | undefined
  readonly onLate: () => unknown
}

/** Feeds one event to the machine and runs its commands, synchronously. */
const apply = (shell: Shell, event: LimiterMachine.Event, now: number): void => {
  const { commands, state } = LimiterMachine.step(shell.state, event, now)
  shell.state = state
  if (commands.length > 0) run(shell, commands)
}

/**
 * Runs a transition's commands: the decisions first, then the latch and the
 * timers, then the resumes (see `make` for why in this order).
 */
const run = (shell: Shell, commands: ReadonlyArray<LimiterMachine.Command>): void => {
  let latch = false
  let timers: Array<LimiterMachine.Command & { readonly _tag: "ArmWaitTimer" }> | undefined
  let decided: Array<Waiter> | undefined
  for (const command of commands) {
    switch (command._tag) {
      case "Grant": {
        const waiter = end(shell, command.id, "granted", Effect.void)
        if (waiter !== undefined) (decided ??= []).push(waiter)
        break
      }
      case "Fail": {
        const error = command.reason === "late" ? shell.waiters.get(command.id)?.onLate() : closedError()
        const waiter = end(shell, command.id, "gone", Effect.fail(error))
        if (waiter !== undefined) (decided ??= []).push(waiter)
        break
      }
      case "ArmWaitTimer":
        ;(timers ??= []).push(command)
        break
      case "ArmReleaseTimer":
      case "DisarmReleaseTimer":
        latch = true
    }
  }
  // The latch is set to what the state says rather than to the last command:
  // `onLate` is the caller's code, and whatever it fed back in between is
  // already in the state.
  if (latch) {
    if (LimiterMachine.nextRelease(shell.state) === undefined) shell.pending.closeUnsafe()
    else shell.pending.openUnsafe()
  }
  if (timers !== undefined) { for (const timer of timers) armWaitTimer(shell, timer.id, timer.at) }
  if (decided !== undefined) {
    for (const waiter of decided) {
      if (waiter.state === "granted") shell.onGrant?.()
      waiter.resume?.(waiter.outcome!)
    }
  }
}

/**
 * Decides one wait's end, and returns its waiter: its fiber, when it has
 * suspended, is resumed once the transition's other commands have run; a
 * fiber that has not suspended yet finds its outcome when it does.
 */
const end = (
  shell: Shell,
  id: number,
  state: "granted" | "gone",
  outcome: Effect.Effect<void, unknown>
): Waiter | undefined => {
  const waiter = shell.waiters.get(id)
  if (waiter === undefined) return undefined
  shell.waiters.delete(id)
  waiter.state = state
  waiter.outcome = outcome
  return waiter
}

// A timer can fire a millisecond before the wall clock says it is due; a
// turn handed back early is a 429 on a server counting to the limit.
const sleepUntil = (at: number): Effect.Effect<number> =>
  Effect.flatMap(
    Clock.currentTimeMillis,
    (now) => at > now ? Effect.andThen(Effect.sleep(Duration.millis(at - now)), sleepUntil(at)) : Effect.succeed(now)
  )

const armWaitTimer = (shell: Shell, id: number, at: number): void => {
  const waiter = shell.waiters.get(id)
  if (waiter === undefined) return
  const expire = Effect.flatMap(
    sleepUntil(at),
    (now) => Effect.sync(() => apply(shell, { _tag: "WaitTimer", id }, now))
  )
  // A root fiber on the limiter's context (its clock, its scheduler), interruptible so
  // that stopping it leaves no sleep behind.
  waiter.timer = Effect.runForkWith(shell.context)(expire)
}

const stopTimer = (waiter: Waiter) =>
  Effect.sync(() => {
    waiter.timer?.interruptUnsafe()
    waiter.timer = undefined
  })

/**
 * The earliest turn is the first to come free, and a turn given back later
 * comes free later: the releaser sleeps until the first, feeds the machine
 * its wake-up, and waits for the latch once none is due back.
 */
const releaser = (shell: Shell): Effect.Effect<never> =>
  shell.pending.await.pipe(
    Effect.flatMap(() => {
      const first = LimiterMachine.nextRelease(shell.state)
      return first === undefined ? Clock.currentTimeMillis : sleepUntil(first)
    }),
    Effect.flatMap((now) => Effect.sync(() => apply(shell, { _tag: "ReleaseTimer" }, now))),
    Effect.forever,
    Effect.interruptible
  )

/**
 * Asks the machine for a turn: granted at once (no fiber, no timer: this is
 * on the path of every request), or a wait whose end the machine decides.
 */
const withTurn = <A, E, R, E2>(
  shell: Shell,
  effect: Effect.Effect<A, E, R>,
  options: SfoxRateLimiter.TurnOptions<E2>
): Effect.Effect<A, E | E2 | RateLimiterUnavailable, R> =>
  Effect.uninterruptibleMask((restore) => {
    const id = shell.nextId++
    const { commands, state } = LimiterMachine.step(
      shell.state,
      { _tag: "Ask", id, maxWaitMillis: options.maxWaitMillis },
      shell.clock.currentTimeMillisUnsafe()
    )
    shell.state = state
    // Already uninterruptible: the turn goes back however `effect` ends, its
    // interruption included. `onExit` with the limiter's one handler: no
    // closure per request.
    const used = Effect.onExit(restore(effect), shell.giveBack)
    const first = commands[0]
    if (first?._tag === "Grant") return used
    if (first?._tag === "Fail") return Effect.fail(closedError())
    const waiter: Waiter = {
      state: "waiting",
      outcome: undefined,
      resume: undefined,
      timer: undefined,
      onLate: options.onLate
    }
    shell.waiters.set(id, waiter)
    run(shell, commands)
    return Effect.andThen(wait(shell, id, waiter, restore) as Effect.Effect<void, E2 | RateLimiterUnavailable>, used)
  })

// Synchronous: it runs at the end of every request, where an effect of
// its own (a clock read, a queue offer) was a measurable part of a mint.
const giveBack = (shell: Shell) => apply(shell, { _tag: "Done" }, shell.clock.currentTimeMillisUnsafe())

/**
 * Waits for the machine's answer. An interruption that lands after the turn
 * was granted, before the caller was resumed, is seen here too: the turn
 * goes on to the next caller, never lost, never given twice.
 */
const wait = (
  shell: Shell,
  id: number,
  waiter: Waiter,
  restore: <AX, EX, RX>(effect: Effect.Effect<AX, EX, RX>) => Effect.Effect<AX, EX, RX>
): Effect.Effect<void, unknown> =>
  // The caller is its `resume`: no Deferred. It is interruptible while it
  // waits (`restore`); what its interruption does is `onInterrupt`'s.
  restore(Effect.callback<void, unknown>((resume) => {
    if (waiter.outcome !== undefined) return resume(waiter.outcome)
    waiter.resume = resume
  })).pipe(
    Effect.onInterrupt(() =>
      Effect.andThen(
        stopTimer(waiter),
        Effect.sync(() => {
          if (waiter.state === "granted") apply(shell, { _tag: "Unused" }, shell.clock.currentTimeMillisUnsafe())
          else if (waiter.state === "waiting") {
            shell.waiters.delete(id)
            apply(shell, { _tag: "Interrupted", id }, shell.clock.currentTimeMillisUnsafe())
          }
          waiter.state = "gone"
        })
      )
    ),
    // Granted, late or closed: the timer, if any, is not needed any more.
    Effect.ensuring(stopTimer(waiter))
  )

const closedError = () => new RateLimiterUnavailable({ description: ErrorText.limiterClosed })
