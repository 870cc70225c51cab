import { Budget, ErrorText, LimiterMachine } from "@sfox-effect/domain"
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

/** The window a limiter keeps: `Budget.windowMillis` of the domain (1 % longer than asked). */
export const windowMillisOf = (interval: Duration.DurationInput): number =>
  Budget.windowMillis(Duration.toMillis(interval))

/** Checks `{ limit, interval }` as `SfoxRateLimiter.layer` and `RedisRateLimiter.layer` take them. */
export const checkBudget = (
  options: SfoxRateLimiter.Options,
  path: ReadonlyArray<string> = []
): Effect.Effect<{ readonly limit: number; readonly interval: Duration.Duration }, ConfigError.ConfigError> => {
  const decoded = Duration.decodeUnknown(options.interval)
  const interval = decoded._tag === "Some" ? decoded.value : undefined
  const checked = Budget.check(options.limit, interval === undefined ? undefined : Duration.toMillis(interval))
  return Budget.isProblem(checked)
    ? Effect.fail(ConfigError.InvalidData([...path, checked.option], checked.message))
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
 */
export const make = (
  limit: number,
  interval: Duration.DurationInput,
  /** For tests: called the instant a waiting caller is granted a turn, before it can run. */
  onGrant?: () => void
): Effect.Effect<Limiter & { readonly snapshot: () => Snapshot }, never, Scope.Scope> =>
  Effect.gen(function*() {
    const shell: Shell = {
      state: LimiterMachine.initial(limit, windowMillisOf(interval)),
      waiters: new Map(),
      // Open while a turn is due back: the releaser sleeps on it when none is.
      pending: Effect.unsafeMakeLatch(false),
      // The clock and runtime of the scope the limiter lives in: the releaser and the waits' timers run on them.
      clock: yield* Effect.clock,
      runtime: yield* Effect.runtime<never>(),
      nextId: 0,
      onGrant
    }
    // No turn will come back: a caller left waiting would wait for ever.
    yield* Effect.addFinalizer(() => Effect.sync(() => apply(shell, { _tag: "Close" }, 0)))
    yield* Effect.forkScoped(releaser(shell))
    return {
      withTurn: (effect, options) => withTurn(shell, effect, options),
      snapshot: () => LimiterMachine.snapshot(shell.state)
    }
  })

interface Shell {
  state: LimiterMachine.State
  /** The callers waiting, by id: how to resume each. */
  readonly waiters: Map<number, Waiter>
  readonly pending: Effect.Latch
  readonly clock: Clock.Clock
  readonly runtime: Runtime.Runtime<never>
  nextId: number
  readonly onGrant: (() => void) | undefined
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
  timer: Fiber.RuntimeFiber<void> | undefined
  readonly onLate: () => unknown
}

/** Feeds one event to the machine and runs its commands, synchronously. */
const apply = (shell: Shell, event: LimiterMachine.Event, now: number): void => {
  const { commands, state } = LimiterMachine.step(shell.state, event, now)
  shell.state = state
  for (const command of commands) run(shell, command)
}

const run = (shell: Shell, command: LimiterMachine.Command): void => {
  switch (command._tag) {
    case "Grant":
      return end(shell, command.id, "granted", Effect.void)
    case "Fail":
      return end(
        shell,
        command.id,
        "gone",
        Effect.fail(command.reason === "late" ? shell.waiters.get(command.id)?.onLate() : closedError())
      )
    case "ArmWaitTimer":
      return armWaitTimer(shell, command.id, command.at)
    case "ArmReleaseTimer":
      return shell.pending.unsafeOpen()
    case "DisarmReleaseTimer":
      return shell.pending.unsafeClose()
  }
}

const end = (shell: Shell, id: number, state: "granted" | "gone", outcome: Effect.Effect<void, unknown>) => {
  const waiter = shell.waiters.get(id)
  if (waiter === undefined) return
  shell.waiters.delete(id)
  waiter.state = state
  if (waiter.resume === undefined) waiter.outcome = outcome
  else waiter.resume(outcome)
  if (state === "granted") shell.onGrant?.()
}

// A timer can fire a millisecond before the wall clock says it is due; a
// turn handed back early is a 429 on a server counting to the limit.
const sleepUntil = (at: number): Effect.Effect<number> =>
  Effect.flatMap(
    Clock.currentTimeMillis,
    (now) => at > now ? Effect.zipRight(Effect.sleep(Duration.millis(at - now)), sleepUntil(at)) : Effect.succeed(now)
  )

const armWaitTimer = (shell: Shell, id: number, at: number): void => {
  const waiter = shell.waiters.get(id)
  if (waiter === undefined) return
  const expire = Effect.flatMap(
    sleepUntil(at),
    (now) => Effect.sync(() => apply(shell, { _tag: "WaitTimer", id }, now))
  )
  // Interruptible: stopping it must not leave its sleep behind.
  waiter.timer = Runtime.runFork(shell.runtime)(Effect.interruptible(expire))
}

const stopTimer = (waiter: Waiter) =>
  Effect.sync(() => {
    waiter.timer?.unsafeInterruptAsFork(FiberId.none)
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
      shell.clock.unsafeCurrentTimeMillis()
    )
    shell.state = state
    // Already uninterruptible: the turn goes back however `effect` ends, its interruption included.
    const used = Effect.matchCauseEffect(restore(effect), {
      onFailure: (cause) => {
        giveBack(shell)
        return Effect.failCause(cause)
      },
      onSuccess: (value) => {
        giveBack(shell)
        return Effect.succeed(value)
      }
    })
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
    for (const command of commands) run(shell, command)
    return Effect.zipRight(wait(shell, id, waiter, restore) as Effect.Effect<void, E2 | RateLimiterUnavailable>, used)
  })

// Synchronous: it runs at the end of every request, where an effect of
// its own (a clock read, a queue offer) was a measurable part of a mint.
const giveBack = (shell: Shell) => apply(shell, { _tag: "Done" }, shell.clock.unsafeCurrentTimeMillis())

/**
 * Waits for the machine's answer. An interruption that lands after the turn
 * was granted, before the caller leaves `restore`, is seen here too: the
 * turn goes on to the next caller, never lost, never given twice.
 */
const wait = (
  shell: Shell,
  id: number,
  waiter: Waiter,
  restore: <AX, EX, RX>(effect: Effect.Effect<AX, EX, RX>) => Effect.Effect<AX, EX, RX>
): Effect.Effect<void, unknown> =>
  restore(Effect.async<void, unknown>((resume) => {
    if (waiter.outcome !== undefined) return resume(waiter.outcome)
    waiter.resume = resume
  })).pipe(
    Effect.onInterrupt(() =>
      Effect.zipRight(
        stopTimer(waiter),
        Effect.sync(() => {
          if (waiter.state === "granted") apply(shell, { _tag: "Unused" }, shell.clock.unsafeCurrentTimeMillis())
          else if (waiter.state === "waiting") {
            shell.waiters.delete(id)
            apply(shell, { _tag: "Interrupted", id }, shell.clock.unsafeCurrentTimeMillis())
          }
          waiter.state = "gone"
        })
      )
    ),
    // Granted, late or closed: the timer, if any, is not needed any more.
    Effect.ensuring(stopTimer(waiter))
  )

const closedError = () => new RateLimiterUnavailable({ description: ErrorText.limiterClosed })
