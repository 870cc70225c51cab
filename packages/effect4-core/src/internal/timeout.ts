import * as Clock from "effect/Clock"
import type * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import type { AttemptDeadline } from "./clientAbilities.js"

/** The clock of a program that provides none: what `TestClock` replaces (a reference's default is made once). */
export const liveClock: Clock.Clock = Effect.runSync(Clock.clockWith(Effect.succeed))

/**
 * `Effect.timeoutOrElse` failing with `onTimeout()`, cheaper on the live
 * clock. Effect 4's `timeoutOrElse` is still a race (`raceFirst`: two forked
 * fibers, one of them sleeping on the clock, the loser interrupted and
 * awaited); here the attempt is one root fiber run in the caller's own
 * context (`Effect.runForkWith(fiber.context)`: the same services, span and
 * references), watched by a plain timer, and the caller waits for it in an
 * `Effect.callback`. Measured on effect 4.1.5 (CPU per call around an
 * exchange that answers on the next turn of the event loop, 20,000 calls):
 * `Effect.timeoutOrElse` adds about 3 µs, this about 1 µs (under 3.x the two
 * were ~75 µs and ~15 µs: Effect 4's fibers are cheaper, the race still
 * costs three times the timer). The caller's interruption interrupts the
 * attempt and waits for it. Under any other clock (`TestClock`) it is
 * `Effect.timeoutOrElse` itself, so that the test's clock moves it.
 */
export const timeoutOrFail = <A, E, R, E2>(
  self: Effect.Effect<A, E, R>,
  millis: number,
  onTimeout: () => E2
): Effect.Effect<A, E | E2, R> =>
  Effect.withFiber((caller) => {
    if (caller.getRef(Clock.Clock) !== liveClock || !Number.isFinite(millis)) {
      return Effect.timeoutOrElse(self, { duration: millis, orElse: () => Effect.fail(onTimeout()) })
    }
    return Effect.callback<A, E | E2>((resume) => {
      const attempt = Effect.runForkWith(caller.context as Context.Context<R>)(self)
      let timedOut = false
      const timer = setTimeout(() => {
        timedOut = true
        attempt.interruptUnsafe(caller.id)
        // The attempt's resources go before the caller hears of the timeout.
        attempt.addObserver(() => resume(Effect.fail(onTimeout())))
      }, millis)
      attempt.addObserver((exit) => {
        if (timedOut) return
        clearTimeout(timer)
        resume(exit)
      })
      return Effect.suspend(() => {
        clearTimeout(timer)
        return Fiber.interrupt(attempt)
      })
    })
  })

/**
 * A client's abort, run from a timer: one that throws would be an uncaught
 * exception (the process's end, by default) and would stop the aborts after
 * it. The deadline stands all the same: the attempt ends with its Timeout.
 */
const run = (abort: () => void): void => {
  try {
    abort()
  } catch {
    // The client's fault, and nothing here can report it better than the Timeout.
  }
}

/**
 * The timer of an attempt's deadline, as `AttemptDeadline.unsafeCurrent`
 * shows it to the client: one timer, the aborts of the requests made under
 * it, and whether it fired.
 */
export class AttemptTimer implements AttemptDeadline {
  expired = false
  private settled = false
  // One request per attempt is the rule: a slot, and an array past it.
  private abort: (() => void) | undefined = undefined
  private more: Array<() => void> | undefined = undefined
  private readonly timer: ReturnType<typeof setTimeout>

  constructor(millis: number) {
    this.timer = setTimeout(() => this.expire(), millis)
  }

  onExpiry(abort: () => void): void {
    if (this.settled) return
    if (this.expired) return run(abort)
    if (this.abort === undefined) this.abort = abort
    else (this.more ??= []).push(abort)
  }

  private expire(): void {
    if (this.settled) return
    this.expired = true
    const abort = this.abort
    const more = this.more
    this.abort = this.more = undefined
    if (abort !== undefined) run(abort)
    if (more !== undefined) { for (const f of more) run(f) }
  }

  settle(): void {
    this.settled = true
    clearTimeout(this.timer)
    this.abort = this.more = undefined
  }
}
