import { Effect } from "effect"

/**
 * Waits on the real clock, whatever clock the test runs on: `get`'s batch
 * window runs on the real clock, so that `TestClock` never holds it back.
 */
export const realSleep = (millis: number): Effect.Effect<void> =>
  Effect.callback<void>((resume) => {
    const handle = setTimeout(() => resume(Effect.void), millis)
    return Effect.sync(() => clearTimeout(handle))
  })

/**
 * Waits until `check` holds, looking again after each millisecond of real
 * time; fails after `tries` looks. A wait for a state, not a bound on time:
 * a correct program reaches the state, a hung one fails the test instead of
 * holding it until vitest's timeout.
 */
export const eventually = <E, R>(
  check: Effect.Effect<boolean, E, R>,
  what = "the expected state",
  tries = 5_000
): Effect.Effect<void, E | Error, R> =>
  Effect.gen(function*() {
    for (let i = 0; i < tries; i++) {
      if (yield* check) return
      yield* realSleep(1)
    }
    return yield* Effect.fail(new Error(`never reached ${what}`))
  })

/**
 * Fails with "hung" when `self` has not finished after `millis` of real time:
 * a hang guard for regression tests of hangs, never a bound on speed.
 */
export const orHang = <A, E, R>(self: Effect.Effect<A, E, R>, millis = 10_000): Effect.Effect<A, E | Error, R> =>
  Effect.raceFirst(self, Effect.andThen(realSleep(millis), Effect.fail(new Error("hung"))))
