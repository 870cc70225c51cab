/**
 * Secrets in exported spans (issue 10): a server that echoes the key or a
 * token in a response header must not put it into the tracer. The spans are
 * exported through @effect/opentelemetry to OpenTelemetry's in-memory
 * exporter, exactly as an application would export them, with the
 * platform's own HTTP spans on (`tracing: true` on NodeSfox's client, and
 * FetchHttpClient, which always traces). And user ids (issue 20): sFOX's
 * error text names users, and neither spans nor log lines may carry it.
 * The cases are shared with the Effect 4 edition (test/shared/secrets.ts).
 */
import * as NodeSdk from "@effect/opentelemetry/NodeSdk"
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import * as HttpClient from "@effect/platform/HttpClient"
import { assert, describe, it } from "@effect/vitest"
import { InMemorySpanExporter, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base"
import { UserTokenService } from "@sfox-effect/core"
import { FakeSfox, Fault } from "@sfox-effect/core/testing"
import { NodeSfox } from "@sfox-effect/node"
import { Effect, HashMap, Layer, Logger, LogLevel, Redacted, Schedule } from "effect"
import { tracing, userIds } from "./shared/secrets.js"
import { withServer } from "./utils/harness.js"
import { spanStrings } from "./utils/spans.js"

const { KEY, TOKEN } = tracing

const clients: Record<(typeof tracing.clients)[number], Layer.Layer<HttpClient.HttpClient>> = {
  "NodeSfox.httpClientWith({ tracing: true })": Layer.orDie(NodeSfox.httpClientWith({ tracing: true })),
  "FetchHttpClient": FetchHttpClient.layer
}

describe(tracing.describe, () => {
  for (const name of tracing.clients) {
    it.live(tracing.name(name), () => {
      const exporter = new InMemorySpanExporter()
      // The checks run while the tracer's layer is still open: closing it shuts
      // the exporter down, which empties it.
      return Effect.gen(function*() {
        yield* withServer({ key: KEY, client: clients[name] }, ({ server, tokens }) =>
          Effect.gen(function*() {
            yield* server.enqueue(tracing.faults(Fault))
            const token = yield* tokens.create("u1")
            assert.strictEqual(Redacted.value(token.token), TOKEN)
            // The 503 is retried; its span is exported all the same.
            yield* Effect.either(tokens.create("u1"))
          }))
        const spans = exporter.getFinishedSpans()
        // The platform's HTTP spans were exported, response headers included (by name).
        const http = spans.filter((span) => span.attributes["http.response.status_code"] !== undefined)
        assert.isAtLeast(http.length, 2, JSON.stringify(spans.map((span) => span.name)))
        assert.isTrue(
          http.some((span) => span.attributes["http.response.header.x-echo-key"] !== undefined),
          "the response headers were not exported at all"
        )
        for (const text of spanStrings(spans)) {
          assert.notInclude(text, KEY, "a span holds the key")
          assert.notInclude(text, TOKEN, "a span holds the token")
        }
      }).pipe(
        Effect.provide(
          NodeSdk.layer(() => ({
            resource: { serviceName: "sfox-tracing-test" },
            spanProcessor: new SimpleSpanProcessor(exporter)
          }))
        )
      )
    })
  }
})

describe(userIds.describe, () => {
  const { ghost, known, named } = userIds

  it.effect(userIds.name, () => {
    const exporter = new InMemorySpanExporter()
    const lines: Array<string> = []
    const logger = Logger.make(({ annotations, message }) => {
      lines.push(JSON.stringify({ message, annotations: Object.fromEntries(HashMap.toEntries(annotations)) }))
    })
    return Effect.gen(function*() {
      const fake = yield* FakeSfox
      const tokens = yield* UserTokenService
      // The single endpoint, then a batch: each 503 names the user, and is retried.
      yield* fake.enqueue(userIds.faults(Fault))
      yield* tokens.create(named)
      yield* tokens.createMany([known, named])
      // sFOX refuses the batch naming the unknown user ("user not found: <id>"); the split finds it.
      const refused = yield* Effect.flip(tokens.createMany([known, ghost]))
      assert.strictEqual(refused._tag, "HttpFailure")
      // The caller's own error names the user: it is theirs.
      assert.include(refused.message, ghost)

      const spans = exporter.getFinishedSpans()
      const failed = spans.filter((span) => span.events.some((event) => event.name === "exception"))
      assert.isAtLeast(failed.length, 3, "failures were recorded on spans")
      assert.isAtLeast(lines.length, 3, "retries and the split were logged")
      for (const text of [...spanStrings(spans), ...lines]) {
        for (const id of [known, named, ghost]) assert.notInclude(text, id)
      }
      assert.isTrue(spanStrings(spans).some((text) => text.includes("HttpFailure 503")), "the failure's tag and status")
    }).pipe(
      Effect.provide(
        FakeSfox.layerTest({ users: [known, named] }, {
          retry: Schedule.recurs(2),
          // The platform's own client span holds a single mint's URL, with its id (documented).
          transformClient: HttpClient.withTracerDisabledWhen(() => true)
        })
      ),
      Effect.provide(Layer.merge(Logger.replace(Logger.defaultLogger, logger), Logger.minimumLogLevel(LogLevel.All))),
      Effect.provide(
        NodeSdk.layer(() => ({
          resource: { serviceName: "sfox-user-id-test" },
          spanProcessor: new SimpleSpanProcessor(exporter)
        }))
      )
    )
  })
})
