/**
 * `clientFor(userId)` over real sockets, in the Effect 4 edition (the twin of
 * test/ClientFor.test.ts): MockSfoxServer's user endpoints,
 * through NodeSfox's undici client and through FetchHttpClient. The server
 * accepts a user call only with a live token it minted, and refuses the key
 * there, so an accepted call proves what it carried.
 */
import * as NodeSdk from "@effect/opentelemetry/NodeSdk"
import { assert, describe, it } from "@effect/vitest"
import { InMemorySpanExporter, type ReadableSpan, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base"
import { Fault } from "@sfox-effect/effect4-core/testing"
import { NodeSfox } from "@sfox-effect/effect4-node"
import { Effect, Inspectable, Layer, Redacted, Schema } from "effect"
import { FetchHttpClient, HttpClient, HttpClientRequest, HttpIncomingMessage } from "effect/http"
import { inspect } from "node:util"
import { withServer } from "./utils/harness.js"
import { spanStrings } from "./utils/spans.js"

const KEY = "sk-User-Calls-7a6b5c4d3e2f"
const Balance = Schema.Array(Schema.Struct({ currency: Schema.String, available: Schema.Number }))
const order = { currency_pair: "btcusd", side: "buy", quantity: 0.1 }
const placeOrder = HttpClientRequest.post("/v1/user/orders").pipe(HttpClientRequest.bodyJsonUnsafe(order))

const clients: ReadonlyArray<readonly [string, Layer.Layer<HttpClient.HttpClient>]> = [
  ["NodeSfox.httpClient", Layer.orDie(NodeSfox.httpClientWith({ tracing: true }))],
  ["FetchHttpClient", FetchHttpClient.layer]
]

const userCalls = (
  requests: ReadonlyArray<{ readonly method: string; readonly path: string; readonly status: number }>
) => requests.filter((r) => r.path.startsWith("/v1/user/")).map((r) => `${r.method} ${r.path} ${r.status}`)

for (const [name, client] of clients) {
  describe(`clientFor over ${name}`, () => {
    it.live("reads the user's balance with the user's token; a revoked token is minted again once", () =>
      withServer({ key: KEY, client, service: { cache: true } }, ({ server, tokens }) =>
        Effect.gen(function*() {
          const user = tokens.clientFor("u1").pipe(HttpClient.filterStatusOk)
          const balance = yield* user.get("/v1/user/balance").pipe(
            Effect.flatMap(HttpIncomingMessage.schemaBodyJson(Balance))
          )
          assert.deepStrictEqual(balance.map((b) => b.currency), ["usd", "btc"])
          assert.strictEqual(yield* server.revoke("u1"), 1)
          const placed = yield* user.execute(placeOrder)
          assert.strictEqual(placed.status, 201)
          const requests = yield* server.requests
          assert.deepStrictEqual(userCalls(requests), [
            "GET /v1/user/balance 200",
            "POST /v1/user/orders 401",
            "POST /v1/user/orders 201"
          ])
          assert.strictEqual(requests.filter((r) => r.path.startsWith("/v1/enterprise/")).length, 2)
          for (const request of requests.filter((r) => r.path.startsWith("/v1/user/") && r.status !== 401)) {
            assert.strictEqual(request.authorization, "valid")
            assert.deepStrictEqual(request.userIds, ["u1"])
          }
        })))

    it.live("a connection dropped before the answer: the GET is sent again, the POST is not", () =>
      withServer({ key: KEY, client, service: { cache: true } }, ({ server, tokens }) =>
        Effect.gen(function*() {
          yield* tokens.get("u1")
          const user = tokens.clientFor("u1")
          yield* server.enqueue(Fault.reset())
          assert.strictEqual((yield* user.get("/v1/user/balance")).status, 200)
          yield* server.enqueue(Fault.reset())
          const error = yield* Effect.flip(user.execute(placeOrder))
          assert.strictEqual(error._tag, "TransportError")
          assert.deepStrictEqual(
            (yield* server.requests).filter((r) => r.path.startsWith("/v1/user/")).map((r) => r.method),
            ["GET", "GET", "POST"]
          )
        })))

    it.live("another origin is refused before anything is sent", () =>
      withServer({ key: KEY, client }, ({ server, tokens }) =>
        Effect.gen(function*() {
          const error = yield* Effect.flip(tokens.clientFor("u1").get("http://127.0.0.2:9/v1/user/balance"))
          // Effect 4's one HttpClientError (its reason an InvalidUrlError), where 3.x had a RequestError.
          assert.strictEqual(error._tag, "HttpClientError")
          assert.strictEqual(error._tag === "HttpClientError" ? error.reason._tag : undefined, "InvalidUrlError")
          assert.deepStrictEqual(yield* server.requests, [])
        })))

    it.live("spans, the response and its errors hold neither the token nor the key, whatever the server echoes", () => {
      const exporter = new InMemorySpanExporter()
      return Effect.gen(function*() {
        const token = yield* withServer(
          { key: KEY, client, service: { cache: true } },
          ({ server, tokens }) =>
            Effect.gen(function*() {
              const token = Redacted.value((yield* tokens.get("u1")).token)
              const echoing = { "x-echo-token": token, "x-echo-authorization": `Bearer ${token}`, "x-echo-key": KEY }
              yield* server.enqueue([
                Fault.status(200, { body: "{not json", headers: echoing }),
                Fault.status(503, { body: { error: `down for ${token}` }, headers: echoing })
              ])
              const user = tokens.clientFor("u1")
              const response = yield* user.get("/v1/user/balance")
              const unreadable = yield* Effect.flip(response.json)
              // The 503 to a POST is handed back, not retried.
              const refused = yield* user.execute(placeOrder)
              assert.strictEqual(refused.status, 503)
              for (
                const text of [
                  JSON.stringify(response.toJSON()),
                  Inspectable.toStringUnknown(response),
                  inspect(response, { depth: 10 }),
                  JSON.stringify(unreadable),
                  String(unreadable),
                  JSON.stringify(refused.toJSON())
                ]
              ) {
                assert.notInclude(text, token)
                assert.notInclude(text, KEY)
              }
              return token
            })
        )
        const spans = exporter.getFinishedSpans()
        // The user request's attempts: client spans named by their method.
        assert.isTrue(
          spans.some((span) => span.name === "GET" && span.attributes["sfox.attempt"] !== undefined),
          spanNames(spans)
        )
        for (const text of spanStrings(spans)) {
          assert.notInclude(text, KEY, "a span holds the key")
          assert.notInclude(text, token, "a span holds the token")
        }
      }).pipe(
        Effect.provide(
          NodeSdk.layer(() => ({
            resource: { serviceName: "sfox-client-for-test" },
            spanProcessor: new SimpleSpanProcessor(exporter)
          }))
        )
      )
    })
  })
}

const spanNames = (spans: ReadonlyArray<ReadableSpan>) => JSON.stringify(spans.map((span) => span.name))
