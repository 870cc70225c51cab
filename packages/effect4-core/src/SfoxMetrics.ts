/**
 * The Effect `Metric`s `UserTokenService` updates. They are plain Effect
 * metrics: read them with `Metric.value`, or export them with the OTLP
 * modules of `effect/observability`, `@effect/opentelemetry` or any other
 * metric reporter. They are kept in Effect's `Metric.MetricRegistry` (one per
 * process unless the program provides its own).
 *
 * The HTTP one follows OpenTelemetry's HTTP client conventions
 * (`http.client.request.duration`, in seconds, with their attribute names as
 * its attributes); the others are the library's own, under `sfox.`.
 *
 * @since 0.1.0
 */
import type * as Metric from "effect/Metric"
import * as Internal from "./internal/telemetry.js"

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
export const tokensMinted: Metric.Counter<number> = Internal.tokensMinted

/**
 * Duration of each HTTP attempt, answer body included, in seconds: OpenTelemetry's
 * `http.client.request.duration`, with its boundaries and attributes:
 * `http.request.method`, `server.address`, `server.port`, `url.template` (token
 * requests; a `clientFor` path may hold ids, so it has none), and
 * `http.response.status_code` when an answer came, `error.type` when the attempt
 * failed (the status code for a 4xx/5xx answer, else the error's tag, such as
 * `TransportError`). Attempts by status are the counts of its series.
 *
 * @example
 * ```ts
 * import { Effect, Metric } from "effect"
 *
 * // `SfoxMetrics.requestDuration` is one series per set of attributes: attempts answered 429 so far,
 * // whichever endpoint and host.
 * const rateLimitedAttempts = Effect.map(Metric.snapshot, (snapshots) =>
 *   snapshots
 *     .filter((snapshot) =>
 *       snapshot.id === "http.client.request.duration" &&
 *       snapshot.attributes?.["http.response.status_code"] === "429"
 *     )
 *     .reduce((sum, snapshot) => sum + (snapshot.type === "Histogram" ? snapshot.state.count : 0), 0))
 * ```
 *
 * @since 0.2.0
 * @category metrics
 */
export const requestDuration: Metric.Histogram<number> = Internal.requestDuration

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
export const retries: Metric.Counter<number> = Internal.retries

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
export const batchSize: Metric.Histogram<number> = Internal.batchSize

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
export const batchSplits: Metric.Histogram<number> = Internal.batchSplits
