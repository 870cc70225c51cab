/**
 * \`NodeSfox.httpClient\` as any \`HttpClient\`: answers and their bodies (read
 * many times, as text, JSON, bytes or a Stream, never showing the key),
 * request bodies, headers, and bodies that arrive late or cut short, both
 * plain and through the platform's \`HttpClient.make\` (\`tracing\`). The
 * Effect 4 edition's twin of test/NodeSfox.httpClient.test.ts.
 */
import { assert, describe, it } from "@effect/vitest"
import * as AttemptDeadline from "@sfox-effect/effect4-core/internal/clientProtocol"
import { NodeSfox } from "@sfox-effect/effect4-node"
import { MockSfoxServer } from "@sfox-effect/effect4-node/testing"
import { Effect, Layer, Stream } from "effect"
import { HttpClient, type HttpClientError, HttpClientRequest } from "effect/http"
import * as Http from "node:http"
import { inspect } from "node:util"
import { codeOf } from "../packages/effect4-core/src/internal/transport.js"
import { leakFree, settle, tcpSockets } from "./utils/harness.js"
import { KEY, mockAndClient, modes, rawServer, tokensRequest } from "./utils/nodeSfox.js"

describe("NodeSfox.httpClient as a plain HttpClient", () => {
  it.live("answers any request; the body reads many times; inspecting it shows no key", () =>
    leakFree(
      Effect.gen(function*() {
        const server = yield* MockSfoxServer
        const client = yield* HttpClient.HttpClient
        const response = yield* client.execute(
          tokensRequest(server, "/u1#fragment")
        )
        assert.strictEqual(response.status, 201)
        assert.strictEqual(response.headers["content-type"], "application/json")
        const text = yield* response.text
        assert.strictEqual(yield* response.text, text)
        const json = (yield* response.json) as { data: { partner_user_id: string; token: string } }
        assert.strictEqual(json.data.partner_user_id, "u1")
        assert.strictEqual(new TextDecoder().decode(yield* response.arrayBuffer), text)
        for (const shown of [JSON.stringify(response), inspect(response, { depth: 10 }), String(response)]) {
          assert.isFalse(shown.includes(KEY), "the API key shows")
          assert.isFalse(shown.includes(json.data.token), "the token shows")
        }
        assert.strictEqual((yield* server.requests)[0]!.path, "/v1/enterprise/user-tokens/u1")
      }).pipe(Effect.scoped, Effect.provide(mockAndClient))
    ))

  it.live("a POST body goes out with its content type", () =>
    leakFree(
      Effect.gen(function*() {
        const server = yield* MockSfoxServer
        const response = yield* tokensRequest(server).pipe(
          HttpClientRequest.bodyJsonUnsafe({ data: ["a", "b"] }),
          HttpClient.execute
        )
        assert.strictEqual(response.status, 201)
        const body = (yield* response.json) as { data: ReadonlyArray<unknown> }
        assert.strictEqual(body.data.length, 2)
        const [request] = yield* server.requests
        assert.strictEqual(request!.headers["content-type"], "application/json")
        assert.deepStrictEqual(request!.userIds, ["a", "b"])
      }).pipe(Effect.scoped, Effect.provide(mockAndClient))
    ))

  it.live("a response body is a Stream too", () =>
    leakFree(
      Effect.gen(function*() {
        const server = yield* MockSfoxServer
        const response = yield* HttpClient.execute(tokensRequest(server, "/u1"))
        const chunks = yield* Stream.runCollect(response.stream)
        const bytes = Buffer.concat(chunks)
        const json = JSON.parse(bytes.toString("utf8")) as { data: { partner_user_id: string } }
        assert.strictEqual(json.data.partner_user_id, "u1")
      }).pipe(Effect.scoped, Effect.provide(mockAndClient))
    ))

  it.live("a response Stream cut short fails with an HttpClientError DecodeError", () =>
    leakFree(
      Effect.gen(function*() {
        const server = Http.createServer((_req, res) => {
          res.writeHead(200, { "content-length": "1000" })
          res.write("x".repeat(100), () => setTimeout(() => res.socket?.destroy(), 20))
        })
        const port = yield* rawServer(server)
        const response = yield* HttpClient.get(`http://127.0.0.1:${port}/`)
        const error = yield* Effect.flip(Stream.runDrain(response.stream))
        // Effect 4's one HttpClientError, its reason a DecodeError (3.x: ResponseError Decode).
        assert.strictEqual(error._tag, "HttpClientError")
        assert.strictEqual(error.reason._tag, "DecodeError")
      }).pipe(Effect.scoped, Effect.provide(NodeSfox.httpClient))
    ))

  it.live("the client ends the service's attempts at their deadline itself; with tracing, it does not", () =>
    Effect.gen(function*() {
      const lean = yield* HttpClient.HttpClient.pipe(Effect.provide(NodeSfox.httpClient))
      assert.isTrue(AttemptDeadline.isEnforcedBy(lean))
      const traced = yield* HttpClient.HttpClient.pipe(Effect.provide(NodeSfox.httpClientWith({ tracing: true })))
      assert.isFalse(AttemptDeadline.isEnforcedBy(traced))
    }).pipe(Effect.scoped))

  it.live("a Stream request body goes out whole; a failing one fails the request", () =>
    leakFree(
      Effect.gen(function*() {
        const server = yield* MockSfoxServer
        const encoder = new TextEncoder()
        const batch = tokensRequest(server)
        const pieces = Stream.make(encoder.encode("{\"data\": [\"a\","), encoder.encode(" \"b\"]}"))
        const response = yield* batch.pipe(
          HttpClientRequest.bodyStream(pieces, { contentType: "application/json" }),
          HttpClient.execute
        )
        assert.strictEqual(response.status, 201)
        assert.deepStrictEqual((yield* server.requests)[0]!.userIds, ["a", "b"])
        const failing = Stream.concat(Stream.make(encoder.encode("{\"data\": [")), Stream.fail("the source broke"))
        const error = yield* batch.pipe(
          HttpClientRequest.bodyStream(failing, { contentType: "application/json" }),
          HttpClient.execute,
          Effect.flip
        )
        // Effect 4's one HttpClientError, its reason a TransportError (3.x: RequestError Transport).
        assert.strictEqual(error._tag, "HttpClientError")
        assert.strictEqual(error.reason._tag, "TransportError")
      }).pipe(Effect.scoped, Effect.provide(mockAndClient))
    ))

  it("invalid options are refused when the layer is built", async () => {
    const exit = await Effect.runPromiseExit(
      Effect.scoped(Layer.build(NodeSfox.httpClientWith({ maxResponseBytes: -1 })))
    )
    assert.strictEqual(exit._tag, "Failure")
    assert.include(String(exit._tag === "Failure" ? exit.cause : ""), "maxResponseBytes")
  })
})

describe("NodeSfox.httpClient over undici's dispatch", () => {
  for (const [mode, layer] of modes) {
    it.live(`${mode}: a body that arrives in several writes after the headers, read whole and as a Stream`, () =>
      leakFree(
        Effect.gen(function*() {
          // The headers alone, then three pieces 20 ms apart: the response is handed out long before its body ends.
          const server = Http.createServer((_req, res) => {
            res.writeHead(200, { "content-length": "6000" })
            res.flushHeaders()
            let sent = 0
            const next = () => {
              res.write("abc"[sent]!.repeat(2000))
              if (++sent < 3) setTimeout(next, 20)
              else res.end()
            }
            setTimeout(next, 20)
          })
          const port = yield* rawServer(server)
          // Over 4 KiB: joined, the body is a buffer of its own (not a view into a shared pool).
          const whole = "a".repeat(2000) + "b".repeat(2000) + "c".repeat(2000)
          const first = yield* HttpClient.get(`http://127.0.0.1:${port}/`)
          assert.strictEqual(yield* first.text, whole)
          const buffer = yield* first.arrayBuffer
          assert.strictEqual(new TextDecoder().decode(buffer), whole)
          // Each caller's own copy: writing into one changes no other read.
          new Uint8Array(buffer).fill(0)
          assert.strictEqual(new TextDecoder().decode(yield* first.arrayBuffer), whole)
          assert.strictEqual(yield* first.text, whole)
          const second = yield* HttpClient.get(`http://127.0.0.1:${port}/`)
          const chunks = yield* Stream.runCollect(second.stream)
          assert.isAtLeast(chunks.length, 2, "the pieces came as they arrived")
          assert.strictEqual(Buffer.concat(chunks).toString("utf8"), whole)
          // Every accessor shares the one body, whichever read it first.
          assert.strictEqual(yield* second.text, whole)
        }).pipe(Effect.scoped, Effect.provide(layer))
      ))

    it.live(`${mode}: a body cut short after the headers fails every read with undici's error`, () =>
      leakFree(
        Effect.gen(function*() {
          const server = Http.createServer((_req, res) => {
            res.writeHead(200, { "content-length": "1000" })
            res.write("x".repeat(100), () => setTimeout(() => res.socket?.destroy(), 50))
          })
          const port = yield* rawServer(server)
          const baseline = tcpSockets()
          const expectCutShort = (error: HttpClientError.HttpClientError) => {
            assert.strictEqual(error.reason._tag, "DecodeError")
            assert.strictEqual(codeOf(error.cause), "UND_ERR_SOCKET")
          }
          // Read while the body still arrives: the read waits, then fails.
          const waiting = yield* HttpClient.get(`http://127.0.0.1:${port}/`)
          expectCutShort(yield* Effect.flip(waiting.text))
          expectCutShort(yield* Effect.flip(waiting.json))
          // Read once the body has failed: the same failure at once.
          const late = yield* HttpClient.get(`http://127.0.0.1:${port}/`)
          // The server cuts it 50 ms after its first piece; the client has taken the cut in once its end of the
          // socket is gone (a handle the OS releases: the one wait kept, bounded, in `settle`).
          yield* settle(tcpSockets, baseline)
          expectCutShort(yield* Effect.flip(late.arrayBuffer))
          expectCutShort(yield* Effect.flip(Stream.runDrain(late.stream)))
        }).pipe(Effect.scoped, Effect.provide(layer))
      ))

    it.live(`${mode}: repeated Set-Cookie headers give every cookie`, () =>
      leakFree(
        Effect.gen(function*() {
          const server = Http.createServer((_req, res) => {
            res.setHeader("set-cookie", ["a=1; Path=/", "b=2; Path=/; HttpOnly"])
            res.end("ok")
          })
          const port = yield* rawServer(server)
          const response = yield* HttpClient.get(`http://127.0.0.1:${port}/`)
          assert.deepStrictEqual(Object.keys(response.cookies.cookies).sort(), ["a", "b"])
          assert.strictEqual(response.cookies.cookies["b"]!.value, "2")
          assert.include(response.headers["set-cookie"], "a=1")
          assert.include(response.headers["set-cookie"], "b=2")
        }).pipe(Effect.scoped, Effect.provide(layer))
      ))

    it.live(`${mode}: an informational answer (103 Early Hints) is passed over for the real one`, () =>
      leakFree(
        Effect.gen(function*() {
          const server = Http.createServer((_req, res) => {
            res.writeEarlyHints({ link: "</style.css>; rel=preload" }, () => {
              res.writeHead(201, { "content-type": "text/plain" })
              res.end("done")
            })
          })
          const port = yield* rawServer(server)
          const response = yield* HttpClient.get(`http://127.0.0.1:${port}/`)
          assert.strictEqual(response.status, 201)
          assert.strictEqual(response.headers["content-type"], "text/plain")
          assert.strictEqual(yield* response.text, "done")
        }).pipe(Effect.scoped, Effect.provide(layer))
      ))
  }

  it.live("a body that has arrived is read without suspending", () =>
    leakFree(
      Effect.gen(function*() {
        const server = yield* MockSfoxServer
        const response = yield* HttpClient.execute(tokensRequest(server, "/u1"))
        const text = yield* response.text
        // `runSync` throws on any asynchronous step.
        assert.strictEqual(Effect.runSync(response.text), text)
        assert.deepStrictEqual(Effect.runSync(response.json), JSON.parse(text))
        assert.strictEqual(new TextDecoder().decode(Effect.runSync(response.arrayBuffer)), text)
        const chunks = Effect.runSync(Stream.runCollect(response.stream))
        assert.strictEqual(Buffer.concat(chunks).toString("utf8"), text)
      }).pipe(Effect.scoped, Effect.provide(mockAndClient))
    ))
})
