/**
 * Observability how-to: `UserTokenService` opens Effect spans and updates
 * Effect `Metric`s (`SfoxMetrics`) on its own; nothing in the library knows
 * about OpenTelemetry. Exporting them is one layer of `@effect/opentelemetry`
 * provided to the program:
 *
 * - spans: `sfox.user_tokens.create` / `.create_many` / `.get` for each call
 *   (`sfox.user_count`, `sfox.batch_count`), each with a child
 *   `sfox.user_tokens.attempt` per HTTP attempt (`sfox.attempt`,
 *   `sfox.batch_size`, `http.response.status_code`, and `sfox.retry_delay_ms`
 *   on a retry). Never a user id, a token or the key.
 * - metrics: `sfox_tokens_minted_total`, `sfox_requests_by_status`,
 *   `sfox_retries_total`, `sfox_request_duration_ms`, `sfox_batch_size`.
 *
 * `layer` takes any span processor and metric reader (an OTLP exporter in
 * production: `@opentelemetry/exporter-trace-otlp-http`, or
 * `@effect/opentelemetry/Otlp`); `ConsoleLive` prints both to stdout, and is
 * what `pnpm --filter @sfox-effect/example-user-actions start:traced` uses.
 * The test `test/Observability.test.ts` uses `layer` with an in-memory
 * exporter.
 */
import * as NodeSdk from "@effect/opentelemetry/NodeSdk"
import type * as Resource from "@effect/opentelemetry/Resource"
import { ConsoleMetricExporter, type MetricReader, PeriodicExportingMetricReader } from "@opentelemetry/sdk-metrics"
import { BatchSpanProcessor, ConsoleSpanExporter, type SpanProcessor } from "@opentelemetry/sdk-trace-base"
import type * as Layer from "effect/Layer"

export const serviceName = "sfox-user-actions"

/** Effect's tracer and metrics, exported through OpenTelemetry. */
export const layer = (options: {
  readonly spanProcessor: SpanProcessor
  readonly metricReader?: MetricReader | undefined
}): Layer.Layer<Resource.Resource> =>
  NodeSdk.layer(() => ({
    resource: { serviceName },
    spanProcessor: options.spanProcessor,
    metricReader: options.metricReader
  }))

/** Spans and metrics printed to stdout (metrics every 10 s). */
export const ConsoleLive: Layer.Layer<Resource.Resource> = NodeSdk.layer(() => ({
  resource: { serviceName },
  spanProcessor: new BatchSpanProcessor(new ConsoleSpanExporter()),
  metricReader: new PeriodicExportingMetricReader({
    exporter: new ConsoleMetricExporter(),
    exportIntervalMillis: 10_000
  })
}))
