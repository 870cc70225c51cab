import { Simulation } from "@sfox-effect/domain"
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import type { Fault, SfoxSimulator, SimRequest, SimResponse, SimulatorOptions } from "../../SfoxSimulator.js"
import * as Faults from "./faults.js"

/**
 * The simulation's shell: the simulation itself (its settings, its state,
 * what a request does to it) is the domain's `Simulation`; here its
 * durations and key are read, the clock is read, and the latency and the
 * faults are acted out on Effect's clock.
 */

const reader: Simulation.Reader<Duration.Input, string | Redacted.Redacted<string>> = {
  millisOf: Duration.toMillis,
  keyOf: (key) => Redacted.isRedacted(key) ? Redacted.value(key) : key
}

/** A simulation: see `SfoxSimulator.make`. */
export const make = (options: SimulatorOptions = {}): Effect.Effect<SfoxSimulator> =>
  Effect.sync(() => {
    const simulation = Simulation.make<Fault, Duration.Input, string | Redacted.Redacted<string>>(options, reader)
    const handle = (request: SimRequest): Effect.Effect<SimResponse> =>
      Effect.flatMap(Clock.currentTimeMillis, (now) => {
        const { delayMillis, fault, response } = simulation.handle(request, now)
        const acted = fault === undefined ? Effect.succeed(response) : Faults.deliver(fault, response)
        return delayMillis > 0 ? Effect.andThen(Effect.sleep(Duration.millis(delayMillis)), acted) : acted
      })
    return {
      handle,
      enqueue: (more) => Effect.sync(() => simulation.enqueue(more)),
      requests: Effect.sync(simulation.requests),
      reset: Effect.sync(simulation.reset),
      addUsers: (userIds) => Effect.sync(() => simulation.addUsers(userIds)),
      setLatency: (next) => Effect.sync(() => simulation.setLatency(next)),
      revoke: (userId) => Effect.map(Clock.currentTimeMillis, (now) => simulation.revoke(userId, now)),
      apiKey: Redacted.make(simulation.key),
      minted: Effect.sync(simulation.minted),
      stats: Effect.sync(simulation.stats)
    }
  })
