/**
 * Secrets in exported spans (issue 10): a server that echoes the key or a
 * token in a response header must not put it into the tracer. The spans are
 * exported through @effect/opentelemetry to OpenTelemetry's in-memory
 * exporter, exactly as an application would export them, with the
 * platform's own HTTP spans on (`tracing: true` on NodeSfox's client, and
 * FetchHttpClient, which always traces).
 */
import * as NodeSdk from "@effect/opentelemetry/NodeSdk"
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import type * as HttpClient from "@effect/platform/HttpClient"
import { assert, describe, it } from "@effect/vitest"
import { InMemorySpanExporter, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base"
import { Fault } from "@sfox-effect/core/testing"
import { NodeSfox } from "@sfox-effect/node"
import { Effect, type Layer, Redacted } from "effect"
import { withServer } from "./utils/harness.js"
import { spanStrings } from "./utils/spans.js"

const KEY = "sk-Tr4ce-0b9d8c7e6f5a4321"
const TOKEN = "5d".repeat(32)

const echoing = {
  "x-echo-key": KEY,
  "x-echo-authorization": `Bearer ${KEY}`,
  "x-echo-token": TOKEN,
  "content-type": "application/json"
}

const answer = JSON.stringify({
  data: { token: TOKEN, partner_user_id: "u1", expires: new Date(Date.now() + 86_400_000).toISOString() }
})

const clients: ReadonlyArray<readonly [string, Layer.Layer<HttpClient.HttpClient>]> = [
  ["NodeSfox.httpClientWith({ tracing: true })", NodeSfox.httpClientWith({ tracing: true })],
  ["FetchHttpClient", FetchHttpClient.layer]
]

describe("spans exported to OpenTelemetry never hold the key or a token, whatever headers the server echoes", () => {
  for (const [name, client] of clients) {
    it.live(`${name}: a 201 and a 503 that echo the key and the token in their headers`, () => {
      const exporter = new InMemorySpanExporter()
      // The checks run while the tracer's layer is still open: closing it shuts
      // the exporter down, which empties it.
      return Effect.gen(function*() {
        yield* withServer({ key: KEY, client }, ({ server, tokens }) =>
          Effect.gen(function*() {
            yield* server.enqueue([
              Fault.status(201, { body: answer, headers: echoing }),
              Fault.status(503, { body: { error: "down" }, headers: echoing })
            ])
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
