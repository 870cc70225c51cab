import type * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Metric from "effect/Metric"
import * as Tracer from "effect/Tracer"
import type { RequestFailure } from "../SfoxError.js"
import { errorType } from "./classify.js"

// The metrics themselves (SfoxMetrics.ts re-exports them with their docs):
// defined here so that an endpoint's tagged copies of the duration histogram
// share its options, and this module needs nothing of the public one.

const requestDurationOptions = {
  description: "Duration of HTTP client requests, in seconds",
  boundaries: Metric.boundariesFromIterable([0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10])
} as const

export const requestDuration: Metric.Histogram<number> = Metric.histogram(
  "http.client.request.duration",
  requestDurationOptions
)

export const tokensMinted: Metric.Counter<number> = Metric.counter("sfox.user_tokens.minted", {
  description: "User auth tokens minted",
  incremental: true
})

export const retries: Metric.Counter<number> = Metric.counter("sfox.retries", {
  description: "Retried attempts",
  incremental: true
})

export const batchSize: Metric.Histogram<number> = Metric.histogram("sfox.batch.size", {
  description: "Users per batch request",
  boundaries: Metric.exponentialBoundaries({ start: 1, factor: 2, count: 11 })
})

export const batchSplits: Metric.Histogram<number> = Metric.histogram("sfox.batch.splits", {
  description: "Refused batches halved to find the users they were refused for, by size",
  boundaries: Metric.exponentialBoundaries({ start: 2, factor: 2, count: 10 })
})

// Effect's native tracer keeps spans nowhere: with it, making a span per call
// costs (about 30 µs each with its garbage, measured on 10,000 `get`s under
// 3.x) and shows nowhere. Spans are made only under a tracer someone installed.
// (Effect 4 exports the native tracer, so no tracer has to be run to find it.)

// Metrics are updated in place (`updateUnsafe`, with the context of the fiber
// that runs the call, whose `Metric.MetricRegistry` keeps them): they sit on
// the path of every mint, where an effect per update would show in the
// benchmark.

export const retried = (context: Context.Context<never>): void => retries.updateUnsafe(1, context)

export const batched = (size: number, context: Context.Context<never>): void => batchSize.updateUnsafe(size, context)

export const minted = (count: number, context: Context.Context<never>): void =>
  tokensMinted.updateUnsafe(count, context)

/** A refused batch was halved to find the users it was refused for. */
export const split = (size: number, context: Context.Context<never>): void => batchSplits.updateUnsafe(size, context)

/** Where an endpoint's requests go: OpenTelemetry's `server.address` and `server.port`. */
export interface Server {
  readonly address: string
  readonly port: number
}

export const serverOf = (baseUrl: string): Server => {
  const url = new URL(baseUrl)
  return {
    address: url.hostname.replace(/^\[(.*)\]$/, "$1"),
    port: url.port === "" ? (url.protocol === "https:" ? 443 : 80) : Number(url.port)
  }
}

/**
 * One kind of request (a method on a URL template), with its span name and
 * attributes, and its series of `http.client.request.duration` built once:
 * an attempt's duration is recorded in a histogram looked up by status (or
 * failure), each made with its attributes, so a hot path pays a `Map`
 * lookup, not a tagging. (A histogram of its own per series, not
 * `Metric.withAttributes`: that adds the attributes to the context at every
 * update, and its series keys would be computed again whenever two series
 * alternate.)
 */
export interface Endpoint {
  readonly spanName: string
  readonly attributes: Readonly<Record<string, string | number>>
  /** The series of an attempt answered with `status`: record its duration with `updateUnsafe`. */
  readonly answered: (status: number) => Metric.Histogram<number>
  /** The series of an attempt that failed with no answer. */
  readonly failed: (errorType: string) => Metric.Histogram<number>
}

const durationSeries = (attributes: Readonly<Record<string, string>>): Metric.Histogram<number> =>
  Metric.histogram("http.client.request.duration", { ...requestDurationOptions, attributes })

export const endpoint = (method: string, server: Server, template?: string): Endpoint => {
  const attributes: Record<string, string | number> = {
    "http.request.method": method,
    "server.address": server.address,
    "server.port": server.port
  }
  if (template !== undefined) attributes["url.template"] = template
  const base: Record<string, string> = {}
  for (const [key, value] of Object.entries(attributes)) base[key] = String(value)
  const byStatus = new Map<number, Metric.Histogram<number>>()
  const byError = new Map<string, Metric.Histogram<number>>()
  return {
    // OpenTelemetry's HTTP client span name: `{method} {url.template}`, or the method alone.
    spanName: template === undefined ? method : `${method} ${template}`,
    attributes,
    answered: (status) => {
      let series = byStatus.get(status)
      if (series === undefined) {
        const code = String(status)
        series = durationSeries(
          status >= 400
            ? { ...base, "http.response.status_code": code, "error.type": code }
            : { ...base, "http.response.status_code": code }
        )
        byStatus.set(status, series)
      }
      return series
    },
    failed: (errorType) => {
      let series = byError.get(errorType)
      if (series === undefined) {
        series = durationSeries({ ...base, "error.type": errorType })
        byError.set(errorType, series)
      }
      return series
    }
  }
}

/** Sets an attempt's answer on its span (under a tracer someone installed). */
export const annotateAnswer = (status: number): Effect.Effect<void> =>
  status >= 400
    ? Effect.annotateCurrentSpan({ "http.response.status_code": status, "error.type": String(status) })
    : Effect.annotateCurrentSpan("http.response.status_code", status)

/** Whether `tracer` is one someone installed, rather than Effect's native one, which keeps spans nowhere. */
export const isRecording = (tracer: Tracer.Tracer): boolean => tracer !== Tracer.nativeTracer

/**
 * What a span records of a failure: its tag and its status (or a transport
 * failure's reason), never its text. The text quotes sFOX, whose sentences
 * name users ("user not found: <id>"), and a refused batch's error names
 * them itself; a tracer exports whatever a span's exception event holds.
 */
class SpanFailure<E> extends Error {
  declare readonly failure: E
  constructor(failure: E) {
    super(summaryOf(failure))
    this.name = tagOf(failure)
    // Not enumerable: Effect copies an error's own keys onto what it records.
    Object.defineProperty(this, "failure", { value: failure, enumerable: false })
    this.stack = `${this.name}: ${this.message}`
  }
}

const tagOf = (failure: unknown): string => {
  const tag = typeof failure === "object" && failure !== null ? (failure as { _tag?: unknown })._tag : undefined
  return typeof tag === "string" ? tag : "Error"
}

/** A failure as logs and spans show it: `HttpFailure 503`, `TransportError Reset`, `InvalidUserId`. */
export const summaryOf = (failure: unknown): string => {
  const tag = tagOf(failure)
  if (tag === "RateLimited") return `${tag} 429`
  const { reason, status } = typeof failure === "object" && failure !== null
    ? failure as { status?: unknown; reason?: unknown }
    : {}
  if (typeof status === "number") return `${tag} ${status}`
  return tag === "TransportError" && typeof reason === "string" ? `${tag} ${reason}` : tag
}

/** `Effect.withSpan`, the span recording a failure as `SpanFailure`: the effect still fails with the failure itself. */
const withSpan = <A, E, R>(
  self: Effect.Effect<A, E, R>,
  name: string,
  options: Tracer.SpanOptions
): Effect.Effect<A, E, R> =>
  Effect.mapError(
    Effect.withSpan(Effect.mapError(self, (failure) => new SpanFailure(failure)), name, options),
    (recorded) => recorded.failure
  )

const traced = <A, E, R>(
  self: Effect.Effect<A, E, R>,
  withSpan: (self: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R>
): Effect.Effect<A, E, R> =>
  Effect.withFiber((fiber) => isRecording(fiber.getRef(Tracer.Tracer)) ? withSpan(self) : self)

const failureAttributes = (failure: RequestFailure): Record<string, string> =>
  failure._tag === "TransportError"
    ? { "error.type": errorType(failure), "sfox.transport_reason": failure.reason }
    : { "error.type": errorType(failure) }

/**
 * The span of one HTTP attempt, OpenTelemetry's HTTP client span: each resend
 * is a span of its own. Attributes are counts and names: never an id, a
 * token or the key (so no `url.full`, which would hold a user id); a
 * failure is recorded by its tag and status only (see `SpanFailure`).
 */
export const attemptSpan = <E>(
  traced: boolean,
  endpoint: Endpoint,
  batchSize: number | undefined,
  attempt: number,
  delayMillis: number,
  failureOf: (error: E) => RequestFailure
) =>
<A, R>(self: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> => {
  if (!traced) return self
  const attributes: Record<string, string | number> = { ...endpoint.attributes, "sfox.attempt": attempt }
  if (batchSize !== undefined) attributes["sfox.batch_size"] = batchSize
  if (attempt > 1) attributes["http.request.resend_count"] = attempt - 1
  if (delayMillis > 0) attributes["sfox.retry_delay"] = delayMillis / 1000
  return withSpan(
    Effect.tapError(self, (error) => Effect.annotateCurrentSpan(failureAttributes(failureOf(error)))),
    endpoint.spanName,
    { kind: "client", captureStackTrace: false, attributes }
  )
}

/** The span of one service call. */
export const callSpan =
  (name: string, users: number, batches?: number) => <A, E, R>(self: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
    traced(self, (self) =>
      withSpan(self, name, {
        captureStackTrace: false,
        attributes: batches === undefined
          ? { "sfox.user_count": users }
          : { "sfox.user_count": users, "sfox.batch_count": batches }
      }))

/**
 * The span of one request made as a user (`clientFor`): the token's `get`
 * and the request's attempts, which are the client spans.
 */
export const userRequestSpan = (method: string) => <A, E, R>(self: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
  traced(self, (self) =>
    withSpan(self, "sfox.user_api.request", {
      captureStackTrace: false,
      attributes: { "http.request.method": method }
    }))
