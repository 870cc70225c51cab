/**
 * The faults a test scripts for the simulated sFOX: their shapes, the queue
 * they wait in (one used per request, in order), and what each does to the
 * normal answer. A fault's durations are the shell's own type (`D`): the
 * simulation reads them through the shell's `millisOf`, and hands the
 * delays back for the shell to sleep on its own clock.
 *
 * @since 0.3.0
 */
import { json, type Response } from "./SimulationRoutes.js"
import type { BatchTamper } from "./SimulationTokens.js"

/**
 * A fault to act out for one request, in place of (or on top of) the
 * normal answer. The shells' public `Fault` is this shape with their own
 * duration type, declared again for their API pages; the compiler keeps the
 * two the same.
 *
 * @since 0.3.0
 */
export type Fault<D> =
  | {
    readonly _tag: "Status"
    readonly status: number
    readonly body?: string | object | undefined
    readonly headers?: Readonly<Record<string, string>> | undefined
  }
  | { readonly _tag: "Malformed"; readonly body: string; readonly status?: number | undefined }
  | { readonly _tag: "Batch"; readonly mode: BatchTamper }
  | { readonly _tag: "Delay"; readonly duration: D; readonly then?: Fault<D> | undefined }
  | { readonly _tag: "Oversize"; readonly bytes: number }
  | { readonly _tag: "ResetBeforeHeaders" }
  | { readonly _tag: "ResetAfterHeaders" }
  | { readonly _tag: "NoAnswer" }
  | { readonly _tag: "Trickle"; readonly interval: D; readonly chunkSize?: number | undefined }
  | { readonly _tag: "ShortBody" }

/**
 * Faults queued by a test, used one per request in order.
 *
 * @since 0.3.0
 */
export interface Queue<F> {
  readonly enqueue: (faults: F | ReadonlyArray<F>) => void
  readonly next: () => F | undefined
  readonly clear: () => void
}

/**
 * An empty queue.
 *
 * @since 0.3.0
 */
export const queue = <F>(): Queue<F> => {
  const queued: Array<F> = []
  return {
    enqueue: (faults) => {
      for (const fault of Array.isArray(faults) ? faults as ReadonlyArray<F> : [faults as F]) queued.push(fault)
    },
    next: () => queued.shift(),
    clear: () => {
      queued.length = 0
    }
  }
}

/**
 * The fault that decides the answer: a delay wraps the one it delays, if any.
 *
 * @since 0.3.0
 */
export const deciding = <D>(fault: Fault<D> | undefined): Fault<D> | undefined =>
  fault?._tag === "Delay" ? fault.then : fault

/**
 * The status a fault makes the simulation answer, or the normal one.
 *
 * @since 0.3.0
 */
export const statusOf = <D>(fault: Fault<D> | undefined, normal: number): number =>
  fault?._tag === "Status" ? fault.status : fault?._tag === "Malformed" ? fault.status ?? 201 : normal

/**
 * How a batch answer is tampered with under this fault, if at all.
 *
 * @since 0.3.0
 */
export const tamperOf = <D>(fault: Fault<D> | undefined): BatchTamper | undefined =>
  fault?._tag === "Batch" ? fault.mode : undefined

/**
 * A fault acted out: the waits before the answer (a `Delay`'s, outermost
 * first, in the shell's duration type) and the answer.
 *
 * @since 0.3.0
 */
export interface Acted<D> {
  readonly waits: ReadonlyArray<D>
  readonly response: Response
}

/**
 * Acts a fault out on top of the normal answer.
 *
 * @since 0.3.0
 */
export const actOut = <D>(fault: Fault<D>, normal: Response, millisOf: (duration: D) => number): Acted<D> => {
  const waits: Array<D> = []
  let current: Fault<D> | undefined = fault
  while (current?._tag === "Delay") {
    waits.push(current.duration)
    current = current.then
  }
  return { waits, response: current === undefined ? normal : answer(current, normal, millisOf) }
}

const answer = <D>(
  fault: Exclude<Fault<D>, { readonly _tag: "Delay" }>,
  normal: Response,
  millisOf: (duration: D) => number
): Response => {
  switch (fault._tag) {
    case "Status":
      return json(
        fault.status,
        fault.body === undefined ? { error: `scripted ${fault.status}` } : fault.body,
        fault.headers === undefined ? {} : { ...fault.headers }
      )
    case "Malformed":
      return json(fault.status ?? 201, fault.body)
    case "Batch":
      return normal
    case "Oversize":
      return {
        ...normal,
        body: normal.body.replace(/}\s*$/, `,"padding":"${"x".repeat(Math.max(0, fault.bytes))}"}`)
      }
    case "Trickle":
      return {
        ...normal,
        delivery: {
          _tag: "Trickle" as const,
          intervalMillis: millisOf(fault.interval),
          chunkSize: Math.max(1, fault.chunkSize ?? 16)
        }
      }
    case "ResetBeforeHeaders":
    case "ResetAfterHeaders":
    case "NoAnswer":
    case "ShortBody":
      return { ...normal, delivery: { _tag: fault._tag } }
  }
}
