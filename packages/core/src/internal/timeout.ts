import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Runtime from "effect/Runtime"

const liveClock = Effect.runSync(Clock.clockWith(Effect.succeed))

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
