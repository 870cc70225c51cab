/**
 * Waits on events, not on time: the fake's own count of the requests it has
 * taken in, and a caller's fiber reaching its wait.
 */
import { HttpClient } from "effect/http"
import { UserTokenService } from "@sfox-effect/effect4-core"
import { FakeSfox, httpClient, SfoxSimulator } from "@sfox-effect/effect4-core/testing"
import type { ConfigError } from "effect"
import { Context, Deferred, Effect, Exit, Fiber, FiberId, FiberRef, Layer } from "effect"

/**
 * A count kept as latches: `arrive()` counts one more, and `nth(n)` completes
 * once the count has reached `n` (at once if it has already).
 */
export const countedLatches = () => {
  let count = 0
  const latches = new Map<number, Deferred.Deferred<void>>()
  const latch = (n: number) => {
    let deferred = latches.get(n)
    if (deferred === undefined) {
      deferred = Deferred.unsafeMake<void>(FiberId.none)
      latches.set(n, deferred)
    }
    return deferred
  }
  return {
    arrive: (): void => void Deferred.unsafeDone(latch(++count), Exit.void),
    nth: (n: number): Effect.Effect<void> => n <= 0 ? Effect.void : Deferred.await(latch(n))
  }
}

/** The requests the fake has taken in, as latches. */
export class Arrivals extends Context.Tag("test/Arrivals")<Arrivals, {
  /** Completes once the fake has taken in (and recorded) its `n`-th request: at once if it has already. */
  readonly nth: (n: number) => Effect.Effect<void>
}>() {}

/**
 * The simulator with a counter in its request handler: the `n`-th request
 * completes the `n`-th latch. A waiter is resumed on a later turn of the
 * scheduler, and the simulator records the request synchronously as its
 * handler starts (before any latency); with the fiber's yields turned off
 * for the handler, the record is made before any waiter runs.
 */
const counted = (simulator: SfoxSimulator.SfoxSimulator) => {
  const taken = countedLatches()
  const handle: SfoxSimulator.SfoxSimulator["handle"] = (request) =>
    Effect.zipRight(
      Effect.sync(taken.arrive),
      simulator.handle(request)
    ).pipe(Effect.locally(FiberRef.currentMaxOpsBeforeYield, Number.MAX_SAFE_INTEGER))
  const arrivals = Arrivals.of({ nth: taken.nth })
  return { simulator: { ...simulator, handle }, arrivals }
}

/**
 * `FakeSfox.layerTest` with `Arrivals`: the same fake, service and client,
 * and latches on the requests the fake takes in.
 */
export const layerTestWithArrivals = (
  options: SfoxSimulator.SimulatorOptions = {},
  service: Omit<UserTokenService.Options, "apiKey"> = {}
): Layer.Layer<UserTokenService | FakeSfox | HttpClient.HttpClient | Arrivals, ConfigError.ConfigError> =>
  Layer.unwrapEffect(
    Effect.map(SfoxSimulator.make(options), (made) => {
      const { arrivals, simulator } = counted(made)
      const fake = Layer.succeedContext(
        Context.make(FakeSfox, simulator).pipe(
          Context.add(HttpClient.HttpClient, httpClient(simulator)),
          Context.add(Arrivals, arrivals)
        )
      )
      return UserTokenService.layer({ ...service, apiKey: simulator.apiKey }).pipe(Layer.provideMerge(fake))
    })
  )

/**
 * Waits until a forked caller is suspended (waiting for its token) or done.
 * `Fiber.status` is answered by the fiber itself between its runs, so it
 * mostly says "suspended" at the first look; a fiber still running is looked
 * at again after a turn of the scheduler (no clock, real or test, is read).
 */
export const waiting = <A, E>(fiber: Fiber.RuntimeFiber<A, E>): Effect.Effect<void, Error> =>
  Effect.gen(function*() {
    for (let turn = 0; turn < 10_000; turn++) {
      if ((yield* Fiber.status(fiber))._tag !== "Running") return
      yield* Effect.yieldNow()
    }
    return yield* Effect.fail(new Error("never reached the caller waiting"))
  })
