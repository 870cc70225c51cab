/**
 * The connection pool: keep-alive across calls, at most `connections`
 * sockets to one origin, and idle sockets closed with the layer's scope.
 * The Effect 4 edition's twin of test/NodeSfox.pool.test.ts.
 */
import { assert, describe, it } from "@effect/vitest"
import { NodeSfox } from "@sfox-effect/effect4-node"
import { MockSfoxServer } from "@sfox-effect/effect4-node/testing"
import { Effect, Exit, Layer, Scope } from "effect"
import * as Http from "node:http"
import { leakFree, settle, tcpSockets } from "./utils/harness.js"
import { KEY, rawServer, serviceAt } from "./utils/nodeSfox.js"

/**
 * A loopback server that mints a well-formed token for any path and records
 * the client port of every request (one port, one connection) and the most
 * requests it held at once.
 */
const portCountingServer = (latencyMillis: number) => {
  const ports = new Set<number>()
  const load = { inFlight: 0, most: 0 }
  const server = Http.createServer((req, res) => {
    ports.add(req.socket.remotePort!)
    load.most = Math.max(load.most, ++load.inFlight)
    const userId = decodeURIComponent((req.url ?? "").split("/").pop() ?? "")
    const body = JSON.stringify({
      data: { token: "ab".repeat(32), partner_user_id: userId, expires: "2030-01-01T00:00:00Z" }
    })
    setTimeout(() => {
      load.inFlight--
      res.writeHead(201, { "content-type": "application/json", "content-length": Buffer.byteLength(body) })
      res.end(body)
    }, latencyMillis)
  })
  return { server, ports, load }
}

describe("NodeSfox.httpClient connections", () => {
  it.live("keeps one connection alive across sequential calls", () =>
    leakFree(
      Effect.gen(function*() {
        const { ports, server } = portCountingServer(0)
        const port = yield* rawServer(server)
        const tokens = yield* serviceAt(`http://127.0.0.1:${port}`)
        for (let i = 0; i < 20; i++) yield* tokens.create(`u${i}`)
        // undici frees a connection on a later tick than the body ends, so the
        // next call may open a second one; after that the two take turns.
        assert.isAtMost(ports.size, 2)
      }).pipe(Effect.scoped, Effect.provide(NodeSfox.httpClient))
    ))

  it.live("opens at most `connections` sockets to one origin", () =>
    leakFree(
      Effect.gen(function*() {
        const { load, ports, server } = portCountingServer(30)
        const port = yield* rawServer(server)
        const tokens = yield* serviceAt(`http://127.0.0.1:${port}`)
        const ids = Array.from({ length: 12 }, (_, i) => `u${i}`)
        yield* Effect.forEach(ids, tokens.create, { concurrency: "unbounded" })
        assert.strictEqual(ports.size, 3)
        // 12 calls at once, but one request per connection at a time: the server held 3 at most.
        assert.strictEqual(load.most, 3)
      }).pipe(Effect.scoped, Effect.provide(NodeSfox.httpClientWith({ connections: 3 })))
    ))

  it.live("closing the layer's scope closes idle keep-alive sockets at once", () =>
    leakFree(
      Effect.gen(function*() {
        const baseline = tcpSockets()
        const server = yield* MockSfoxServer
        const clientScope = yield* Scope.make()
        const client = yield* NodeSfox.httpClientWith({ keepAliveTimeout: "1 minute" }).pipe(
          Layer.buildWithScope(clientScope)
        )
        const tokens = yield* serviceAt(server.url).pipe(Effect.provide(client))
        yield* Effect.forEach(["a", "b", "c", "d"], tokens.create, { concurrency: 4 })
        assert.isAtLeast(tcpSockets() - baseline, 2)
        yield* Scope.close(clientScope, Exit.void)
        // The server is still up: only its ends of the closed connections went.
        assert.strictEqual(yield* settle(tcpSockets, baseline), baseline)
      }).pipe(Effect.scoped, Effect.provide(MockSfoxServer.layer({ apiKey: KEY })))
    ))
})
