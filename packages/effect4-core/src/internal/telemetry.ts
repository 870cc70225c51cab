import * as Effect from "effect/Effect"
import * as MetricLabel from "effect/MetricLabel"
import type * as Tracer from "effect/Tracer"
import type { RequestFailure } from "../SfoxError.js"
import * as SfoxMetrics from "../SfoxMetrics.js"
import { errorType } from "./classify.js"

// Effect's built-in tracer keeps spans nowhere: with it, making a span per
// call costs (about 30 µs each with its garbage, measured on 10,000 `get`s)
// and shows nowhere. Spans are made only under a tracer someone installed.
const builtInTracer = Effect.runSync(Effect.tracer)

// Metrics are updated in place (`unsafeUpdate`): they sit on the path of
// every mint, where an extra effect per update would show in the benchmark.

export const retried = (): void => SfoxMetrics.retries.unsafeUpdate(1, [])

export const batched = (size: number): void => SfoxMetrics.batchSize.unsafeUpdate(size, [])

export const minted = (count: number): void => SfoxMetrics.tokensMinted.unsafeUpdate(count, [])

/** A refused batch was halved to find the users it was refused for. */
export const split = (size: number): void => SfoxMetrics.batchSplits.unsafeUpdate(size, [])

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
 * attributes, and its metric tags built once: an attempt's duration is
 * recorded under a tag array looked up by status, whose identity Effect's
 * metric registry caches, so a hot path pays a `Map` lookup, not a tagging.
 */
export interface Endpoint {
  readonly spanName: string
  readonly attributes: Readonly<Record<string, string | number>>
  readonly answered: (status: number) => ReadonlyArray<MetricLabel.MetricLabel>
  readonly failed: (errorType: string) => ReadonlyArray<MetricLabel.MetricLabel>
}

export const endpoint = (method: string, server: Server, template?: string): Endpoint => {
  const attributes: Record<string, string | number> = {
    "http.request.method": method,
    "server.address": server.address,
    "server.port": server.port
  }
  if (template !== undefined) attributes["url.template"] = template
  const base = Object.entries(attributes).map(([key, value]) => MetricLabel.make(key, String(value)))
  const byStatus = new Map<number, ReadonlyArray<MetricLabel.MetricLabel>>()
  const byError = new Map<string, ReadonlyArray<MetricLabel.MetricLabel>>()
  return {
    // OpenTelemetry's HTTP client span name: `{method} {url.template}`, or the method alone.
    spanName: template === undefined ? method : `${method} ${template}`,
    attributes,
    answered: (status) => {
      let labels = byStatus.get(status)
      if (labels === undefined) {
        const code = String(status)
        labels = [
          ...base,
          MetricLabel.make("http.response.status_code", code),
          ...(status >= 400 ? [MetricLabel.make("error.type", code)] : [])
        ]
        byStatus.set(status, labels)
      }
      return labels
    },
    failed: (errorType) => {
      let labels = byError.get(errorType)
      if (labels === undefined) {
        labels = [...base, MetricLabel.make("error.type", errorType)]
        byError.set(errorType, labels)
      }
      return labels
    }
  }
}

/** Sets an attempt's answer on its span (under a tracer someone installed). */
export const annotateAnswer = (status: number): Effect.Effect<void> =>
  status >= 400
    ? Effect.annotateCurrentSpan({ "http.response.status_code": status, "error.type": String(status) })
    : Effect.annotateCurrentSpan("http.response.status_code", status)

/** Whether `tracer` is one someone installed, rather than Effect's built-in one, which keeps spans nowhere. */
export const isRecording = (tracer: Tracer.Tracer): boolean => tracer !== builtInTracer

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
) => Effect.tracerWith((tracer) => tracer === builtInTracer ? self : withSpan(self))

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
