/**
 * What an interruption or an abandoned response leaves behind: the socket
 * of an interrupted call, stream or queued request is dropped, a response
 * dropped unread frees its connection once collected, and a request whose
 * attempt is already over takes no connection at all. The Effect 4 edition's
 * twin of test/NodeSfox.aborts.test.ts.
 */
import { assert, describe, it } from "@effect/vitest"
import type * as AttemptDeadline from "@sfox-effect/effect4-core/internal/clientProtocol"
import { NodeSfox } from "@sfox-effect/effect4-node"
import { Deferred, Effect, Exit, Fiber, Stream } from "effect"
import { HttpClient } from "effect/http"
import * as Http from "node:http"
import type * as Net from "node:net"
import * as V8 from "node:v8"
import * as Vm from "node:vm"
import { deadlines } from "../packages/effect4-core/src/internal/clientAbilities.js"
import { waiting } from "../packages/effect4-core/test/utils/latches.js"
import { orHang } from "../packages/effect4-core/test/utils/realTime.js"
import { fastRetry, leakFree, settle, tcpSockets } from "./utils/harness.js"
import { modes, rawServer, serviceAt, silentServer } from "./utils/nodeSfox.js"

// A full collection on demand, for what only the collector can observe (a response dropped unread).
V8.setFlagsFromString("--expose-gc")
const collectGarbage = Vm.runInNewContext("gc") as () => void

describe("NodeSfox.httpClient: interruptions and abandoned responses", () => {
  // No answer comes and the attempt timeout is far past the hang guard:
  // the interruption returns only if it does not wait for the request.
  it.live("interrupting a call aborts its socket", () =>
    leakFree(
      Effect.gen(function*() {
        const server = yield* silentServer
        const tokens = yield* serviceAt(server.url, { timeout: "10 minutes", retry: fastRetry })
        const baseline = tcpSockets()
        const fiber = yield* Effect.forkChild(tokens.create("u1"))
        yield* server.arrived
        assert.strictEqual(tcpSockets() - baseline, 2, "one connection, both ends")
        yield* orHang(Fiber.interrupt(fiber))
        assert.strictEqual(yield* settle(tcpSockets, baseline), baseline)
      }).pipe(Effect.scoped, Effect.provide(NodeSfox.httpClient))
    ))

  it.live("interrupting a response Stream mid-body drops its socket", () =>
    leakFree(
      Effect.gen(function*() {
        // Headers and a first piece, then nothing: only the client can end it.
        const server = Http.createServer((_req, res) => {
          res.writeHead(200, { "content-length": "1000" })
          res.write("x".repeat(100))
        })
        const port = yield* rawServer(server)
        const baseline = tcpSockets()
        const response = yield* HttpClient.get(`http://127.0.0.1:${port}/`)
        const first = yield* Deferred.make<number>()
        const fiber = yield* Stream.runForEach(response.stream, (chunk) => Deferred.succeed(first, chunk.length)).pipe(
          Effect.forkChild
        )
        assert.strictEqual(yield* Deferred.await(first), 100)
        assert.strictEqual(tcpSockets() - baseline, 2, "one connection, both ends")
        yield* Fiber.interrupt(fiber)
        assert.strictEqual(yield* settle(tcpSockets, baseline), baseline)
      }).pipe(Effect.scoped, Effect.provide(NodeSfox.httpClient))
    ))

  it.live("a response Stream read in part (take) drops its connection; one read whole keeps it", () =>
    leakFree(
      Effect.gen(function*() {
        // The server's end of each request's connection, to see which ones close.
        const sockets: Array<Net.Socket> = []
        const server = Http.createServer((req, res) => {
          sockets.push(req.socket)
          res.writeHead(200, { "content-length": "200" })
          res.write("x".repeat(100), () => setTimeout(() => res.end("y".repeat(100)), 20))
        })
        const port = yield* rawServer(server)
        const whole = yield* HttpClient.get(`http://127.0.0.1:${port}/`)
        const bytes = yield* Stream.runCollect(whole.stream)
        assert.strictEqual(Buffer.concat(bytes).toString("utf8"), "x".repeat(100) + "y".repeat(100))
        const part = yield* HttpClient.get(`http://127.0.0.1:${port}/`)
        const taken = yield* Stream.runCollect(Stream.take(part.stream, 1))
        assert.strictEqual(taken[0]!.length, 100)
        const closed = (socket: Net.Socket) => (socket.destroyed ? 1 : 0)
        assert.strictEqual(yield* settle(() => 1 - closed(sockets[1]!), 0), 0, "the part-read connection is dropped")
        // Not the same connection, or it was dropped: the first stayed for reuse.
        if (sockets[0] !== sockets[1]) assert.isFalse(sockets[0]!.destroyed, "the whole-read connection is kept")
      }).pipe(Effect.scoped, Effect.provide(NodeSfox.httpClient))
    ))

  it.live("a response dropped while its body still arrives: its connection is dropped once it is collected", () =>
    leakFree(
      Effect.gen(function*() {
        // Headers and a first piece, then nothing: the connection is the response's until the end of the body.
        const closed = yield* Deferred.make<void>()
        let connections = 0
        const server = Http.createServer((req, res) => {
          connections++
          req.socket.once("close", () => Deferred.doneUnsafe(closed, Exit.void))
          res.writeHead(200, { "content-length": "1000" })
          res.write("x".repeat(100))
        })
        const port = yield* rawServer(server)
        // Dropped unread: only the garbage collector can tell it was abandoned.
        yield* Effect.asVoid(HttpClient.get(`http://127.0.0.1:${port}/`))
        // Kept as a loop: no event tells when the collector will find the response, so each turn runs a full
        // collection and lets the client's finalizers run; the server's latch ends it, the hang guard bounds it.
        yield* orHang(Effect.gen(function*() {
          while (!(yield* Deferred.isDone(closed))) {
            collectGarbage()
            yield* Effect.callback<void>((resume) => void setImmediate(() => resume(Effect.void)))
          }
        }))
        assert.strictEqual(connections, 1)
      }).pipe(Effect.scoped, Effect.provide(NodeSfox.httpClient))
    ))

  it.live("a request whose attempt is over before it is sent fails at once, and takes no connection", () =>
    leakFree(
      Effect.gen(function*() {
        let requests = 0
        const server = Http.createServer((_req, res) => {
          requests++
          res.end("ok")
        })
        let connections = 0
        server.on("connection", () => connections++)
        const port = yield* rawServer(server)
        // What the pipeline does for an attempt, with a deadline already past.
        const expired: AttemptDeadline.AttemptDeadline = { onExpiry: (abort) => abort() }
        const error = yield* Effect.withFiber((fiber) => {
          deadlines.set(fiber, expired)
          return Effect.ensuring(
            HttpClient.get(`http://127.0.0.1:${port}/`),
            Effect.sync(() => deadlines.delete(fiber))
          )
        }).pipe(Effect.flip)
        // Effect 4's one HttpClientError, its reason a TransportError (3.x: RequestError Transport).
        assert.strictEqual(error._tag, "HttpClientError")
        assert.strictEqual(error.reason._tag, "TransportError")
        // The pool is untouched: the next request goes out.
        assert.strictEqual(yield* Effect.flatMap(HttpClient.get(`http://127.0.0.1:${port}/`), (r) => r.text), "ok")
        assert.strictEqual(requests, 1)
        // Not even a connection was opened for it.
        assert.strictEqual(connections, 1)
      }).pipe(Effect.scoped, Effect.provide(NodeSfox.httpClient))
    ))

  for (const [mode, layer] of modes) {
    it.live(`${mode}: interrupted while queued for a connection, the request never goes out; the pool serves the next`, () =>
      leakFree(
        Effect.gen(function*() {
          const paths: Array<string> = []
          const held = yield* Deferred.make<() => void>()
          const server = Http.createServer((req, res) => {
            paths.push(req.url ?? "")
            if (req.url === "/hold") Deferred.doneUnsafe(held, Exit.succeed(() => void res.end("held")))
            else res.end("ok")
          })
          const port = yield* rawServer(server)
          const base = `http://127.0.0.1:${port}`
          const holder = yield* Effect.forkChild(Effect.flatMap(HttpClient.get(`${base}/hold`), (r) => r.text))
          const release = yield* Deferred.await(held)
          // The one connection is taken: this one waits in undici's queue, before `onConnect`.
          const queued = yield* Effect.forkChild(HttpClient.get(`${base}/queued`))
          // Nothing of it reaches the server: what shows it queued is its fiber, suspended on undici.
          yield* waiting(queued)
          yield* orHang(Fiber.interrupt(queued))
          release()
          assert.strictEqual(yield* Fiber.join(holder), "held")
          assert.strictEqual(yield* Effect.flatMap(HttpClient.get(`${base}/after`), (r) => r.text), "ok")
          assert.deepStrictEqual(paths, ["/hold", "/after"])
        }).pipe(
          Effect.scoped,
          Effect.provide(NodeSfox.httpClientWith({ connections: 1, tracing: mode === "tracing" }))
        )
      ))

    it.live(`${mode}: interrupting a request that waits for its answer drops its socket`, () =>
      leakFree(
        Effect.gen(function*() {
          const { arrived, port } = yield* silentServer
          const baseline = tcpSockets()
          const fiber = yield* Effect.forkChild(HttpClient.get(`http://127.0.0.1:${port}/`))
          yield* arrived
          assert.strictEqual(tcpSockets() - baseline, 2, "one connection, both ends")
          yield* orHang(Fiber.interrupt(fiber))
          assert.strictEqual(yield* settle(tcpSockets, baseline), baseline)
        }).pipe(Effect.scoped, Effect.provide(layer))
      ))
  }
})
