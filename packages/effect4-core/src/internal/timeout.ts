import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Runtime from "effect/Runtime"
import type { AttemptDeadline } from "./clientAbilities.js"

/** The clock of a program that provides none: what `TestClock` replaces. */
export const liveClock = Effect.runSync(Clock.clockWith(Effect.succeed))

/**
 * `Effect.timeoutFail`, cheaper on the live clock. Measured per call (CPU,
 * bench/src/micro.ts): `Effect.timeoutFail` ~75 µs (it races two forked
 * fibers and joins their state), `Effect.fork` + a timer ~35 µs, and this —
 * the attempt as a root fiber of the caller's own runtime (same services,
 * span and fiber refs), watched by a plain timer — ~15 µs. The caller's
 * interruption interrupts the attempt and waits for it. Under any other clock
 * (`TestClock`) it is `Effect.timeoutFail` itself.
 */
export const timeoutFail = <A, E, R, E2>(
  self: Effect.Effect<A, E, R>,
  millis: number,
  onTimeout: () => E2
): Effect.Effect<A, E | E2, R> =>
  Clock.clockWith((clock) => {
    if (clock !== liveClock || !Number.isFinite(millis)) {
      return Effect.timeoutFail(self, { duration: millis, onTimeout })
    }
    return Effect.flatMap(Effect.runtime<R>(), (runtime) =>
      Effect.async<A, E | E2>((resume) => {
        const attempt = Runtime.runFork(runtime)(self)
        let timedOut = false
        const timer = setTimeout(() => {
          timedOut = true
          attempt.unsafeInterruptAsFork(attempt.id())
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
      }))
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
