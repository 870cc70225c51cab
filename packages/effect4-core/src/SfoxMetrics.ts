/**
 * The Effect `Metric`s `UserTokenService` updates. They are plain Effect
 * metrics: read them with `Metric.value`, or export them with
 * `@effect/opentelemetry`'s metrics layer or any other metric reporter.
 *
 * The HTTP one follows OpenTelemetry's HTTP client conventions
 * (`http.client.request.duration`, in seconds, with their attribute names as
 * tags); the others are the library's own, under `sfox.`.
 *
 * @since 0.1.0
 */
import * as Metric from "effect/Metric"
import * as MetricBoundaries from "effect/MetricBoundaries"

/**
 * Tokens handed out (one per user of a successful answer).
 *
 * @example
 * ```ts
 * import { SfoxMetrics, UserTokenService } from "@sfox-effect/effect4-core"
 * import { Effect, Metric } from "effect"
 *
 * const mintedSoFar = Effect.gen(function*() {
 *   const tokens = yield* UserTokenService
 *   yield* tokens.create("user-1")
 *   return (yield* Metric.value(SfoxMetrics.tokensMinted)).count
 * })
 * ```
 *
 * @since 0.1.0
 * @category metrics
 */
export const tokensMinted: Metric.Metric.Counter<number> = Metric.counter("sfox.user_tokens.minted", {
  description: "User auth tokens minted",
  incremental: true
})

/**
 * Duration of each HTTP attempt, answer body included, in seconds: OpenTelemetry's
 * `http.client.request.duration`, with its boundaries and its attributes as tags:
 * `http.request.method`, `server.address`, `server.port`, `url.template` (token
 * requests; a `clientFor` path may hold ids, so it has none), and
 * `http.response.status_code` when an answer came, `error.type` when the attempt
 * failed (the status code for a 4xx/5xx answer, else the error's tag, such as
 * `TransportError`). Attempts by status are the counts of its tagged series.
 *
 * @example
 * ```ts
 * import { Effect, Metric } from "effect"
 *
 * // `SfoxMetrics.requestDuration` is one series per set of tags: attempts answered 429 so far, whichever endpoint and host.
 * const rateLimitedAttempts = Effect.map(Metric.snapshot, (pairs) =>
 *   pairs
 *     .filter(({ metricKey }) =>
 *       metricKey.name === "http.client.request.duration" &&
 *       metricKey.tags.some((tag) => tag.key === "http.response.status_code" && tag.value === "429")
 *     )
 *     .reduce((sum, { metricState }) => sum + ("count" in metricState ? Number(metricState.count) : 0), 0))
 * ```
 *
 * @since 0.2.0
 * @category metrics
 */
export const requestDuration: Metric.Metric.Histogram<number> = Metric.histogram(
  "http.client.request.duration",
  MetricBoundaries.fromIterable([0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10]),
  "Duration of HTTP client requests, in seconds"
)

/**
 * Retries made (attempts after the first of a call).
 *
 * @example
 * ```ts
 * import { SfoxMetrics } from "@sfox-effect/effect4-core"
 * import { Effect, Metric } from "effect"
 *
 * const retriesSoFar = Effect.map(Metric.value(SfoxMetrics.retries), (state) => state.count)
 * ```
 *
 * @since 0.1.0
 * @category metrics
 */
export const retries: Metric.Metric.Counter<number> = Metric.counter("sfox.retries", {
  description: "Retried attempts",
  incremental: true
})

/**
 * Users per batch request.
 *
 * @example
 * ```ts
 * import { SfoxMetrics } from "@sfox-effect/effect4-core"
 * import { Effect, Metric } from "effect"
 *
 * const meanBatch = Effect.map(Metric.value(SfoxMetrics.batchSize), (h) => h.count === 0 ? 0 : h.sum / h.count)
 * ```
 *
 * @since 0.1.0
 * @category metrics
 */
export const batchSize: Metric.Metric.Histogram<number> = Metric.histogram(
  "sfox.batch.size",
  MetricBoundaries.exponential({ start: 1, factor: 2, count: 11 }),
  "Users per batch request"
)

/**
 * Batches halved because sFOX refused them with an answer that may be about
 * one of their users (a 404 for an unknown user, say), by the size of the
 * batch halved.
 *
 * @example
 * ```ts
 * import { SfoxMetrics } from "@sfox-effect/effect4-core"
 * import { Effect, Metric } from "effect"
 *
 * const splitsSoFar = Effect.map(Metric.value(SfoxMetrics.batchSplits), (h) => h.count)
 * ```
 *
 * @since 0.2.0
 * @category metrics
 */
export const batchSplits: Metric.Metric.Histogram<number> = Metric.histogram(
  "sfox.batch.splits",
  MetricBoundaries.exponential({ start: 2, factor: 2, count: 10 }),
  "Refused batches halved to find the users they were refused for, by size"
)
