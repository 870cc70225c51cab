/**
 * How much of an answer the client reads: `maxResponseBytes` (and its 1 MiB
 * default) turns a larger answer into `TooLarge`, with or without a
 * Content-Length, and the pool still serves the next call. The Effect 4
 * edition's twin of test/NodeSfox.limits.test.ts.
 */
import { assert, describe, it } from "@effect/vitest"
import { Fault } from "@sfox-effect/effect4-core/testing"
import { NodeSfox } from "@sfox-effect/effect4-node"
import { Effect } from "effect"
import * as Http from "node:http"
import { codeOf } from "../packages/effect4-core/src/internal/transport.js"
import { fastRetry, leakFree } from "./utils/harness.js"
import { expectTransport, rawServer, run, serviceAt } from "./utils/nodeSfox.js"

describe("NodeSfox.httpClient: response-size limits", () => {
  it.live("an answer over maxResponseBytes: TransportError TooLarge, not retried", () =>
    run({ http: { maxResponseBytes: 16 * 1024 } }, ({ server, tokens }) =>
      Effect.gen(function*() {
        yield* server.enqueue(Fault.oversize(64 * 1024))
        const error = expectTransport(yield* Effect.flip(tokens.create("u1")), "TooLarge")
        assert.strictEqual(codeOf(error.cause), NodeSfox.responseTooLargeCode)
        assert.strictEqual((yield* server.requests).length, 1)
        // The pool still serves the next call.
        assert.strictEqual((yield* tokens.create("u2")).userId, "u2")
      })))

  it.live("an answer over the default 1 MiB limit: TooLarge; one under it: the token", () =>
    run({}, ({ server, tokens }) =>
      Effect.gen(function*() {
        yield* server.enqueue(Fault.oversize(NodeSfox.defaults.maxResponseBytes + 1))
        expectTransport(yield* Effect.flip(tokens.create("u1")), "TooLarge")
        yield* server.enqueue(Fault.oversize(512 * 1024))
        assert.strictEqual((yield* tokens.create("u2")).userId, "u2")
        assert.strictEqual((yield* server.requests).length, 2)
      })))

  it.live("a chunked answer (no Content-Length) over the limit: TooLarge from undici's own guard", () =>
    leakFree(
      Effect.gen(function*() {
        const chunk = "x".repeat(4096)
        let seen = 0
        const server = Http.createServer((_req, res) => {
          seen++
          res.writeHead(201, { "content-type": "application/json" })
          res.write(`{"data":{"token":"t","partner_user_id":"u1","expires":"2030-01-01T00:00:00Z","pad":"`)
          let sent = 0
          const pump = () => {
            while (sent < 64 && res.write(chunk)) sent++
            if (sent < 64) res.once("drain", pump)
            else res.end("\"}}")
          }
          res.on("error", () => {})
          pump()
        })
        const port = yield* rawServer(server)
        const tokens = yield* serviceAt(`http://127.0.0.1:${port}`, { timeout: "2 seconds", retry: fastRetry })
        const error = expectTransport(yield* Effect.flip(tokens.create("u1")), "TooLarge")
        assert.strictEqual(codeOf(error.cause), "UND_ERR_RES_EXCEEDED_MAX_SIZE")
        assert.strictEqual(seen, 1)
      }).pipe(Effect.scoped, Effect.provide(NodeSfox.httpClientWith({ maxResponseBytes: 32 * 1024 })))
    ))
})
