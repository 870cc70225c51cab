/**
 * How an in-memory transport acts a simulated answer out as a Fetch-style
 * response, transport faults included: which error each fault imitates
 * (Node's and undici's, with their codes, so that the service classifies
 * them as it would the real ones), which part of the body still arrives,
 * how long a trickled body takes, and which statuses carry no body.
 * (A transport over a real socket acts them out on the socket instead.)
 *
 * @since 0.3.0
 */
import type { Delivery } from "./SimulationRoutes.js"

/**
 * The error a transport fault imitates: undici's (or Node's) message and `code`.
 *
 * @since 0.3.0
 */
export interface Imitated {
  readonly message: string
  readonly code: string
}

/**
 * The errors of the faults that drop the connection: before the headers,
 * after them, or short of the promised `Content-Length`.
 *
 * @since 0.3.0
 */
export const imitated: {
  readonly ResetBeforeHeaders: Imitated
  readonly ResetAfterHeaders: Imitated
  readonly ShortBody: Imitated
} = {
  ResetBeforeHeaders: { message: "socket hang up", code: "ECONNRESET" },
  ResetAfterHeaders: { message: "other side closed", code: "UND_ERR_SOCKET" },
  ShortBody: {
    message: "response body is shorter than its content-length",
    code: "UND_ERR_RES_CONTENT_LENGTH_MISMATCH"
  }
}

/**
 * An `Error` carrying the imitated message and code.
 *
 * @since 0.3.0
 */
export const errorOf = (error: Imitated): Error => Object.assign(new Error(error.message), { code: error.code })

const nullBodyStatuses = new Set([101, 204, 205, 304])

/**
 * Whether an answer with `status` can carry a body in the Fetch API.
 *
 * @since 0.3.0
 */
export const hasBody = (status: number): boolean => !nullBodyStatuses.has(status)

const encoder = new TextEncoder()

/**
 * How long a trickled body takes to arrive: one interval per chunk.
 *
 * @since 0.3.0
 */
export const trickleMillis = (
  body: string,
  delivery: Extract<Delivery, { readonly _tag: "Trickle" }>
): number => Math.ceil(encoder.encode(body).length / delivery.chunkSize) * delivery.intervalMillis

/**
 * A body that sends its first `keep` bytes, then fails with `error`.
 *
 * @since 0.3.0
 */
export const cutShort = (body: string, keep: number, error: Error): ReadableStream<Uint8Array> => {
  const bytes = encoder.encode(body)
  return new ReadableStream({
    start(controller) {
      controller.enqueue(bytes.slice(0, Math.min(keep, bytes.length)))
      controller.error(error)
    }
  })
}

/**
 * The body of a delivery that drops the connection part-way: half of it
 * after the headers, all of it short of the promised length.
 *
 * @since 0.3.0
 */
export const cutBody = (body: string, tag: "ResetAfterHeaders" | "ShortBody"): ReadableStream<Uint8Array> =>
  tag === "ResetAfterHeaders"
    ? cutShort(body, body.length >> 1, errorOf(imitated.ResetAfterHeaders))
    : cutShort(body, body.length, errorOf(imitated.ShortBody))
