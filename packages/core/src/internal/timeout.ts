import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"

const liveClock = Effect.runSync(Clock.clockWith(Effect.succeed))

/**
 * `Effect.timeoutFail`, cheaper on the live clock: one child fiber watched by
 * a plain timer, where `timeoutFail` races two fibers and joins their state.
 * That race was the largest cost of a whole mint in the benchmark. Under any
 * other clock (`TestClock`) it is `Effect.timeoutFail` itself.
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
    return Effect.uninterruptibleMask((restore) =>
      Effect.flatMap(Effect.fork(restore(self)), (child) =>
        Effect.onInterrupt(
          restore(Effect.async<A, E | E2>((resume) => {
            let timedOut = false
            const timer = setTimeout(() => {
              timedOut = true
              child.unsafeInterruptAsFork(child.id())
              // The attempt's resources go before the caller hears of the timeout.
              child.addObserver(() => resume(Effect.fail(onTimeout())))
            }, millis)
            child.addObserver((exit) => {
              if (timedOut) return
              clearTimeout(timer)
              resume(exit)
            })
            return Effect.sync(() => clearTimeout(timer))
          })),
          () => Fiber.interrupt(child)
        ))
    )
  })
