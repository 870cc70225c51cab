import { SimulationRoutes } from "@sfox-effect/domain"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import type { Fault, SimResponse } from "../../SfoxSimulator.js"

const { json } = SimulationRoutes

/** Faults queued by a test, used one per request in order. */
export interface FaultQueue {
  readonly enqueue: (faults: Fault | ReadonlyArray<Fault>) => void
  readonly next: () => Fault | undefined
  readonly clear: () => void
}

export const makeQueue = (): FaultQueue => {
  const queue: Array<Fault> = []
  return {
    enqueue: (faults) => {
      for (const fault of Array.isArray(faults) ? faults as ReadonlyArray<Fault> : [faults as Fault]) queue.push(fault)
    },
    next: () => queue.shift(),
    clear: () => {
      queue.length = 0
    }
  }
}

/** The fault that decides the answer: a delay wraps the one it delays, if any. */
export const deciding = (fault: Fault | undefined): Fault | undefined => fault?._tag === "Delay" ? fault.then : fault

/** The status a fault makes the simulator answer, or the normal one. */
export const statusOf = (fault: Fault | undefined, normal: number): number =>
  fault?._tag === "Status" ? fault.status : fault?._tag === "Malformed" ? fault.status ?? 201 : normal

/** Acts a fault out on top of the normal answer. */
export const deliver = (fault: Fault, normal: SimResponse): Effect.Effect<SimResponse> => {
  switch (fault._tag) {
    case "Status":
      return Effect.succeed(
        json(
          fault.status,
          fault.body === undefined ? { error: `scripted ${fault.status}` } : fault.body,
          fault.headers === undefined ? {} : { ...fault.headers }
        )
      )
    case "Malformed":
      return Effect.succeed(json(fault.status ?? 201, fault.body))
    case "Batch":
      return Effect.succeed(normal)
    case "Delay":
      return Effect.andThen(
        Effect.sleep(fault.duration),
        fault.then === undefined ? Effect.succeed(normal) : deliver(fault.then, normal)
      )
    case "Oversize":
      return Effect.succeed({
        ...normal,
        body: normal.body.replace(/}\s*$/, `,"padding":"${"x".repeat(Math.max(0, fault.bytes))}"}`)
      })
    case "Trickle":
      return Effect.succeed({
        ...normal,
        delivery: {
          _tag: "Trickle",
          intervalMillis: Duration.toMillis(fault.interval),
          chunkSize: Math.max(1, fault.chunkSize ?? 16)
        }
      })
    case "ResetBeforeHeaders":
    case "ResetAfterHeaders":
    case "NoAnswer":
    case "ShortBody":
      return Effect.succeed({ ...normal, delivery: { _tag: fault._tag } })
  }
}
