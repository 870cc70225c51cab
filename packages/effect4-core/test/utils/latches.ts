/**
 * Waits on events, not on time: the fake's own count of the requests it has
 * taken in, and a caller's fiber reaching its wait.
 */
import { UserTokenService } from "@sfox-effect/effect4-core"
import { FakeSfox, httpClient, SfoxSimulator } from "@sfox-effect/effect4-core/testing"
import type { Config } from "effect"
import { Context, Deferred, Effect, Exit, type Fiber, Layer, Scheduler } from "effect"
import { HttpClient } from "effect/http"

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
      deferred = Deferred.makeUnsafe<void>()
      latches.set(n, deferred)
    }
    return deferred
  }
  return {
    arrive: (): void => void Deferred.doneUnsafe(latch(++count), Exit.void),
    nth: (n: number): Effect.Effect<void> => n <= 0 ? Effect.void : Deferred.await(latch(n))
  }
}

/** The requests the fake has taken in, as latches. */
export class Arrivals extends Context.Service<Arrivals, {
  /** Completes once the fake has taken in (and recorded) its `n`-th request: at once if it has already. */
  readonly nth: (n: number) => Effect.Effect<void>
}>()("test/Arrivals") {}

/**
 * The simulator with a counter in its request handler: the `n`-th request
 * completes the `n`-th latch. The simulator records the request
 * synchronously as its handler starts (before any latency). Effect 4 resumes
 * a `Deferred`'s waiters at once, inside the call that completes it, so the
 * count is made in a task queued on the handler fiber's dispatcher: it runs
 * once that fiber has stopped (at its latency, or done), the record made.
 * With the fiber's yields turned off for the handler, nothing runs between.
 */
const counted = (simulator: SfoxSimulator.SfoxSimulator) => {
  const taken = countedLatches()
  const handle: SfoxSimulator.SfoxSimulator["handle"] = (request) =>
    Effect.withFiber((fiber) => {
      fiber.currentDispatcher.scheduleTask(taken.arrive, 0)
      return simulator.handle(request)
    }).pipe(Effect.provideService(Scheduler.PreventSchedulerYield, true))
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
): Layer.Layer<UserTokenService | FakeSfox | HttpClient.HttpClient | Arrivals, Config.ConfigError> =>
  Layer.unwrap(
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
 * Effect 4 has no `Fiber.status`; a fiber runs until it suspends, and what it
 * still has to run is queued on dispatchers: the forking fiber's (its start)
 * and its own (its resumptions after a yield, the fibers it forks). Running
 * both queues until they are empty leaves the caller suspended on something
 * outside them, or done. No clock, real or test, is read.
 */
export const waiting = <A, E>(fiber: Fiber.Fiber<A, E>): Effect.Effect<void, Error> =>
  Effect.withFiber((self) => {
    self.currentDispatcher.flush()
    fiber.currentDispatcher.flush()
    return Effect.void
  })
