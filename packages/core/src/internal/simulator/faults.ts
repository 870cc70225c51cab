import { SimulationFaults } from "@sfox-effect/domain"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import type { Fault, SimResponse } from "../../SfoxSimulator.js"

/**
 * Acts a fault out on top of the normal answer (the domain's
 * `SimulationFaults.actOut`): its delays slept on Effect's clock, outermost
 * first, then its answer.
 */
export const deliver = (fault: Fault, normal: SimResponse): Effect.Effect<SimResponse> => {
  const { response, waits } = SimulationFaults.actOut(fault, normal, Duration.toMillis)
  return waits.length === 0
    ? Effect.succeed(response)
    : Effect.as(Effect.forEach(waits, (wait) => Effect.sleep(wait), { discard: true }), response)
}
