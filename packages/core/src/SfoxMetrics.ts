/**
 * The Effect `Metric`s `UserTokenService` updates. They are plain Effect
 * metrics: read them with `Metric.value`, or export them with
 * `@effect/opentelemetry`'s metrics layer or any other metric reporter.
 *
 * @since 0.1.0
 */
import * as Metric from "effect/Metric"
import * as MetricBoundaries from "effect/MetricBoundaries"

/**
 * Tokens handed out (one per user of a successful answer).
 *
 * @since 0.1.0
 * @category metrics
 */
export const tokensMinted: Metric.Metric.Counter<number> = Metric.counter("sfox_tokens_minted_total", {
  description: "User auth tokens minted",
  incremental: true
})

/**
 * HTTP attempts by outcome: the status code (`"201"`, `"503"`…) or
 * `"transport"` when no complete answer arrived.
 *
 * @since 0.1.0
 * @category metrics
 */
export const requestsByStatus: Metric.Metric.Frequency<string> = Metric.frequency("sfox_requests_by_status", {
  description: "HTTP attempts by status code, or transport for no complete answer"
})

/**
 * Retries made (attempts after the first of a call).
 *
 * @since 0.1.0
 * @category metrics
 */
export const retries: Metric.Metric.Counter<number> = Metric.counter("sfox_retries_total", {
  description: "Retried attempts",
  incremental: true
})

/**
 * Time of each HTTP attempt, answer body included, in milliseconds.
 *
 * @since 0.1.0
 * @category metrics
 */
export const requestLatency: Metric.Metric.Histogram<number> = Metric.histogram(
  "sfox_request_duration_ms",
  MetricBoundaries.exponential({ start: 1, factor: 2, count: 15 }),
  "Duration of one HTTP attempt in milliseconds"
)

/**
 * Users per batch request.
 *
 * @since 0.1.0
 * @category metrics
 */
export const batchSize: Metric.Metric.Histogram<number> = Metric.histogram(
  "sfox_batch_size",
  MetricBoundaries.exponential({ start: 1, factor: 2, count: 11 }),
  "Users per batch request"
)

/**
 * Batches halved because sFOX refused them with an answer that may be about
 * one of their users (a 404 for an unknown user, say), by the size of the
 * batch halved.
 *
 * @since 0.2.0
 * @category metrics
 */
export const batchSplits: Metric.Metric.Histogram<number> = Metric.histogram(
  "sfox_batch_splits",
  MetricBoundaries.exponential({ start: 2, factor: 2, count: 10 }),
  "Refused batches halved to find the users they were refused for, by size"
)
