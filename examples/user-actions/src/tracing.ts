/**
 * Observability how-to: `UserTokenService` opens Effect spans and updates
 * Effect `Metric`s (`SfoxMetrics`) on its own; nothing in the library knows
 * about OpenTelemetry. Exporting them is one layer of `@effect/opentelemetry`
 * provided to the program:
 *
 * - spans: `sfox.user_tokens.create` / `.create_many` / `.get` for each call
 *   (`sfox.user_count`, `sfox.batch_count`), each with a client span per
 *   HTTP attempt named as OpenTelemetry's HTTP conventions say
 *   (`POST /v1/enterprise/user-tokens/{user_id}`: `http.request.method`,
 *   `server.address`, `server.port`, `url.template`,
 *   `http.response.status_code`, `error.type`, `http.request.resend_count`,
 *   and ours: `sfox.attempt`, `sfox.batch_size`, `sfox.retry_delay` in
 *   seconds). Never a user id, a token or the key.
 * - metrics: `http.client.request.duration` (seconds, tagged as the spans),
 *   `sfox.user_tokens.minted`, `sfox.retries`, `sfox.batch.size`,
 *   `sfox.batch.splits`.
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
