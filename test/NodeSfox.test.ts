import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import * as HttpClient from "@effect/platform/HttpClient"
import type * as HttpClientError from "@effect/platform/HttpClientError"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import type * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import { assert, describe, it } from "@effect/vitest"
import { type UserTokenError, UserTokenService } from "@sfox-effect/core"
import * as AttemptDeadline from "@sfox-effect/core/internal/clientProtocol"
import { Fault } from "@sfox-effect/core/testing"
import { NodeSfox } from "@sfox-effect/node"
import { MockSfoxServer, type MockSfoxServerOptions, type MockSfoxServerService } from "@sfox-effect/node/testing"
import {
  Chunk,
  ConfigProvider,
  DateTime,
  Deferred,
  Duration,
  Effect,
  Exit,
  Fiber,
  Layer,
  Redacted,
  Ref,
  Schedule,
  Scope,
  Stream
} from "effect"
import { execFileSync } from "node:child_process"
import * as Fs from "node:fs"
import * as Http from "node:http"
import * as Https from "node:https"
import * as Net from "node:net"
import * as Os from "node:os"
import * as Path from "node:path"
import { inspect } from "node:util"
import * as V8 from "node:v8"
import * as Vm from "node:vm"
import { deadlines } from "../packages/core/src/internal/attemptDeadline.js"
import { codeOf } from "../packages/core/src/internal/transport.js"
import { assertConfigError, configErrorOf } from "../packages/core/test/utils/configError.js"
import { warnings, withCapturedLogs } from "../packages/core/test/utils/logs.js"
import { orHang } from "../packages/core/test/utils/realTime.js"
import { Targets } from "../packages/node/src/internal/requestTarget.js"
import { closedPort, expectTag, fastRetry, leakFree, settle, tcpSockets } from "./utils/harness.js"

const KEY = "sk-node-test-3f9b1c77a2"

// A full collection on demand, for what only the collector can observe (a response dropped unread).
V8.setFlagsFromString("--expose-gc")
const collectGarbage = Vm.runInNewContext("gc") as () => void

// ---------------------------------------------------------------------------
// harness

interface Setup {
  readonly server?: MockSfoxServerOptions
  readonly service?: Partial<UserTokenService.Options>
  readonly http?: NodeSfox.HttpClientOptions
}

interface Ctx {
  readonly server: MockSfoxServerService
  readonly tokens: UserTokenService.Service
  /** TCP sockets open before the server started. */
  readonly baseline: number
}

/**
 * A fresh MockSfoxServer and a service over `NodeSfox.httpClientWith`, both
 * closed when `body` ends; then checks that no TCP handle outlived them.
 */
const run = <A, E>(setup: Setup, body: (ctx: Ctx) => Effect.Effect<A, E, Scope.Scope>) =>
  leakFree(Effect.suspend(() => {
    const baseline = tcpSockets()
    return Effect.gen(function*() {
      const server = yield* MockSfoxServer
      const tokens = yield* UserTokenService.make({
        apiKey: Redacted.make(KEY),
        baseUrl: server.url,
        timeout: "400 millis",
        retry: fastRetry,
        rateLimit: false,
        ...setup.service
      })
      return yield* body({ server, tokens, baseline })
    }).pipe(
      Effect.scoped,
      Effect.provide(
        Layer.merge(MockSfoxServer.layer({ apiKey: KEY, ...setup.server }), NodeSfox.httpClientWith(setup.http ?? {}))
      )
    )
  }))

const expectTransport = (error: UserTokenError, reason: string) => {
  const transport = expectTag(error, "TransportError")
  assert.strictEqual(transport.reason, reason, transport.message)
  return transport
}

/** No rendering of an error may show the key. */
const assertNoKey = (error: unknown) => {
  for (const text of [String(error), JSON.stringify(error), inspect(error, { depth: 10 })]) {
    assert.isFalse(text.includes(KEY), `the API key leaked: ${text.slice(0, 300)}`)
  }
}

/** A raw server for what MockSfoxServer cannot do; closed with the scope. */
const rawServer = <S extends Net.Server>(server: S) =>
  Effect.acquireRelease(
    Effect.async<number>((resume) => {
      server.listen(0, "127.0.0.1", () => resume(Effect.succeed((server.address() as Net.AddressInfo).port)))
    }),
    () =>
      Effect.async<void>((resume) => {
        server.close(() => resume(Effect.void))
        if (server instanceof Http.Server) server.closeAllConnections()
      })
  )

/** A fresh self-signed certificate for 127.0.0.1, made by openssl for this run (no key material in the repository). */
const selfSignedCert = (): { readonly key: string; readonly cert: string } => {
  const dir = Fs.mkdtempSync(Path.join(Os.tmpdir(), "sfox-tls-"))
  try {
    const key = Path.join(dir, "key.pem")
    const cert = Path.join(dir, "cert.pem")
    execFileSync("openssl", [
      "req",
      "-x509",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:prime256v1",
      "-nodes",
      "-keyout",
      key,
      "-out",
      cert,
      "-days",
      "1",
      "-subj",
      "/CN=127.0.0.1",
      "-addext",
      "subjectAltName=IP:127.0.0.1"
    ], { stdio: "ignore" })
    return { key: Fs.readFileSync(key, "utf8"), cert: Fs.readFileSync(cert, "utf8") }
  } finally {
    Fs.rmSync(dir, { recursive: true, force: true })
  }
}

// ---------------------------------------------------------------------------

describe("NodeSfox.httpClient against MockSfoxServer: every typed outcome", () => {
  it.live("201: one token, sent with the key and matched to its user", () =>
    run({}, ({ server, tokens }) =>
      Effect.gen(function*() {
        const token = yield* tokens.create("156c5beb-7c9f-4f68-83c0-9479703ac490")
        assert.strictEqual(token.userId, "156c5beb-7c9f-4f68-83c0-9479703ac490")
        assert.match(Redacted.value(token.token), /^[0-9a-f]{64}$/)
        const left = DateTime.distance(yield* DateTime.now, token.expires)
        assert.isTrue(left > 23 * 3600_000 && left <= 24 * 3600_000)
        const requests = yield* server.requests
        assert.strictEqual(requests.length, 1)
        assert.strictEqual(requests[0]!.method, "POST")
        assert.strictEqual(requests[0]!.path, "/v1/enterprise/user-tokens/156c5beb-7c9f-4f68-83c0-9479703ac490")
        assert.strictEqual(requests[0]!.authorization, "valid")
      })))

  it.live("201: a batch split by maxBatchSize, every token matched to its user", () =>
    run({ server: { shuffle: true }, service: { maxBatchSize: 100 } }, ({ server, tokens }) =>
      Effect.gen(function*() {
        const ids = Array.from({ length: 250 }, (_, i) => `user-${i}`)
        const minted = yield* tokens.createMany(ids)
        assert.deepStrictEqual(minted.map((t) => t.userId), ids)
        const requests = yield* server.requests
        assert.deepStrictEqual(requests.map((r) => r.userIds.length).sort(), [100, 100, 50])
        assert.isTrue(requests.every((r) => r.path === "/v1/enterprise/user-tokens" && r.status === 201))
      })))

  it.live("201: a batch of 1,000 fits the default response-size limit", () =>
    run({ service: { maxBatchSize: 1000 } }, ({ server, tokens }) =>
      Effect.gen(function*() {
        const ids = Array.from({ length: 1000 }, (_, i) => `client_${i.toString().padStart(8, "0")}-aaaa-bbbb`)
        const minted = yield* tokens.createMany(ids)
        assert.strictEqual(minted.length, 1000)
        assert.strictEqual((yield* server.requests).length, 1)
      })))

  it.live("401: a wrong key is Unauthorized, sent once", () =>
    run({ service: { apiKey: Redacted.make("not-the-key") } }, ({ server, tokens }) =>
      Effect.gen(function*() {
        const error = expectTag(yield* Effect.flip(tokens.create("u1")), "Unauthorized")
        assert.strictEqual(error.status, 401)
        const requests = yield* server.requests
        assert.strictEqual(requests.length, 1)
        assert.strictEqual(requests[0]!.authorization, "invalid")
      })))

  it.live("403: Unauthorized, sent once", () =>
    run({}, ({ server, tokens }) =>
      Effect.gen(function*() {
        yield* server.enqueue(Fault.status(403, { body: { error: "forbidden for this user" } }))
        const error = expectTag(yield* Effect.flip(tokens.create("u1")), "Unauthorized")
        assert.strictEqual(error.status, 403)
        assert.strictEqual(error.description, "forbidden for this user")
        assert.strictEqual((yield* server.requests).length, 1)
      })))

  it.live("429: RateLimited with sFOX's 60 s lockout, not retried past maxRetryAfter", () =>
    run({}, ({ server, tokens }) =>
      Effect.gen(function*() {
        yield* server.enqueue(Fault.status(429))
        // The lockout's warning is kept, not printed.
        const [failure, logs] = yield* withCapturedLogs(Effect.flip(tokens.create("u1")))
        const error = expectTag(failure, "RateLimited")
        assert.isTrue(Duration.equals(error.retryAfter, Duration.seconds(60)))
        assert.strictEqual((yield* server.requests).length, 1)
        assert.deepStrictEqual(warnings(logs), [
          "sFOX locked this client out (429 with no Retry-After: its documented 1m lockout); not retried"
        ])
      })))

  it.live("429: the server's own rate limit and lockout", () =>
    run(
      { server: { rateLimit: { limit: 2, interval: "10 seconds" } } },
      ({ server, tokens }) =>
        Effect.gen(function*() {
          yield* tokens.create("a")
          yield* tokens.create("b")
          const [error, logs] = yield* withCapturedLogs(Effect.flip(tokens.create("c")))
          expectTag(error, "RateLimited")
          assert.deepStrictEqual((yield* server.requests).map((r) => r.status), [201, 201, 429])
          assert.strictEqual(warnings(logs).length, 1)
        })
    ))

  it.live("404: an unknown user is HttpFailure, not retried", () =>
    run({ server: { users: ["known"] } }, ({ server, tokens }) =>
      Effect.gen(function*() {
        const error = expectTag(yield* Effect.flip(tokens.create("stranger")), "HttpFailure")
        assert.strictEqual(error.status, 404)
        assert.include(error.description, "user not found")
        assert.strictEqual((yield* server.requests).length, 1)
      })))

  it.live("400: HttpFailure with sFOX's error text, not retried", () =>
    run({}, ({ server, tokens }) =>
      Effect.gen(function*() {
        yield* server.enqueue(Fault.status(400, { body: { error: "bad user_id" } }))
        const error = expectTag(yield* Effect.flip(tokens.create("u1")), "HttpFailure")
        assert.strictEqual(error.status, 400)
        assert.strictEqual(error.description, "bad user_id")
        assert.strictEqual((yield* server.requests).length, 1)
      })))

  for (const status of [500, 503]) {
    it.live(`${status}: HttpFailure after every allowed attempt (3)`, () =>
      run({}, ({ server, tokens }) =>
        Effect.gen(function*() {
          yield* server.enqueue([Fault.status(status), Fault.status(status), Fault.status(status)])
          const error = expectTag(yield* Effect.flip(tokens.create("u1")), "HttpFailure")
          assert.strictEqual(error.status, status)
          assert.strictEqual((yield* server.requests).length, 3)
        })))
  }

  it.live("503 with retries off: HttpFailure after one attempt", () =>
    run({ service: { retry: Schedule.stop } }, ({ server, tokens }) =>
      Effect.gen(function*() {
        yield* server.enqueue(Fault.status(503))
        expectTag(yield* Effect.flip(tokens.create("u1")), "HttpFailure")
        assert.strictEqual((yield* server.requests).length, 1)
      })))

  it.live("503, 503, 201: the token, after 3 requests", () =>
    run({}, ({ server, tokens }) =>
      Effect.gen(function*() {
        yield* server.enqueue([Fault.status(503), Fault.status(503)])
        const token = yield* tokens.create("u1")
        assert.strictEqual(token.userId, "u1")
        const requests = yield* server.requests
        assert.deepStrictEqual(requests.map((r) => r.status), [503, 503, 201])
        // Each retry came after fastRetry's 20 ms, by the server's clock (a timer may fire a millisecond early).
        for (let i = 1; i < requests.length; i++) assert.isAtLeast(requests[i]!.at - requests[i - 1]!.at, 19)
      })))

  it.live("malformed JSON: MalformedResponse, not retried", () =>
    run({}, ({ server, tokens }) =>
      Effect.gen(function*() {
        yield* server.enqueue(Fault.malformed("{\"data\": {\"token\": "))
        expectTag(yield* Effect.flip(tokens.create("u1")), "MalformedResponse")
        assert.strictEqual((yield* server.requests).length, 1)
      })))

  it.live("wrong shape: MalformedResponse, not retried", () =>
    run({}, ({ server, tokens }) =>
      Effect.gen(function*() {
        yield* server.enqueue(Fault.malformed(JSON.stringify({ data: { token: 42, expires: "soon" } })))
        const error = expectTag(yield* Effect.flip(tokens.create("u1")), "MalformedResponse")
        assert.strictEqual(error.status, 201)
        assert.strictEqual((yield* server.requests).length, 1)
      })))

  it.live("a batch answer that mislabels a user: MalformedResponse, no token handed out", () =>
    run({}, ({ server, tokens }) =>
      Effect.gen(function*() {
        yield* server.enqueue(Fault.batch("mislabel"))
        expectTag(yield* Effect.flip(tokens.createMany(["a", "b", "c"])), "MalformedResponse")
        assert.strictEqual((yield* server.requests).length, 1)
      })))
})

describe("NodeSfox.httpClient against real-socket faults", () => {
  it.live("reset before the headers: TransportError Reset, retried", () =>
    run({}, ({ server, tokens }) =>
      Effect.gen(function*() {
        yield* server.enqueue([Fault.reset(), Fault.reset(), Fault.reset()])
        // Reset, not Timeout: each attempt ended with its reset, not at its (400 ms) timeout.
        const error = expectTransport(yield* Effect.flip(tokens.create("u1")), "Reset")
        assertNoKey(error)
        assert.strictEqual((yield* server.requests).length, 3)
      })))

  it.live("reset before the headers, twice: the token on the third attempt", () =>
    run({}, ({ server, tokens }) =>
      Effect.gen(function*() {
        yield* server.enqueue([Fault.reset(), Fault.reset()])
        const token = yield* tokens.create("u1")
        assert.strictEqual(token.userId, "u1")
        assert.strictEqual((yield* server.requests).length, 3)
      })))

  it.live("reset after the headers: TransportError Reset (body cut short)", () =>
    run({ service: { retry: Schedule.stop } }, ({ server, tokens }) =>
      Effect.gen(function*() {
        yield* server.enqueue(Fault.resetAfterHeaders())
        const error = expectTransport(yield* Effect.flip(tokens.create("u1")), "Reset")
        assert.include(error.description, "cut short")
        assertNoKey(error)
        assert.strictEqual((yield* server.requests).length, 1)
      })))

  it.live("a body short of its Content-Length: TransportError Reset", () =>
    run({ service: { retry: Schedule.stop } }, ({ server, tokens }) =>
      Effect.gen(function*() {
        yield* server.enqueue(Fault.shortBody())
        expectTransport(yield* Effect.flip(tokens.create("u1")), "Reset")
        assert.strictEqual((yield* server.requests).length, 1)
      })))

  it.live("no answer: TransportError Timeout at the attempt timeout, socket aborted", () =>
    run(
      { service: { timeout: "300 millis", retry: Schedule.stop } },
      ({ baseline, server, tokens }) =>
        Effect.gen(function*() {
          yield* server.enqueue(Fault.noAnswer())
          const error = expectTransport(yield* Effect.flip(tokens.create("u1")), "Timeout")
          // The service's attempt timeout, at the value given, and not undici's own (30 s).
          assert.strictEqual(error.description, "an attempt took longer than 300 ms")
          assert.strictEqual((yield* server.requests).length, 1)
          // Both ends of the abandoned connection are gone while server and pool still run.
          assert.strictEqual(yield* settle(tcpSockets, baseline), baseline)
        })
    ))

  it.live("no answer, three times: Timeout after 3 attempts, each ended by its own timeout", () =>
    run({ service: { timeout: "300 millis" } }, ({ server, tokens }) =>
      Effect.gen(function*() {
        yield* server.enqueue([Fault.noAnswer(), Fault.noAnswer(), Fault.noAnswer()])
        const error = expectTransport(yield* Effect.flip(tokens.create("u1")), "Timeout")
        assert.strictEqual(error.description, "an attempt took longer than 300 ms")
        // Three: a timeout over the whole call would have ended it after one.
        assert.strictEqual((yield* server.requests).length, 3)
      })))

  it.live("no answer past undici's headersTimeout: Timeout before the service's own", () =>
    run(
      { service: { timeout: "5 seconds", retry: Schedule.stop }, http: { headersTimeout: "150 millis" } },
      ({ server, tokens }) =>
        Effect.gen(function*() {
          yield* server.enqueue(Fault.noAnswer())
          // undici's code: its timer, not the service's 5 s one, ended the attempt.
          const error = expectTransport(yield* Effect.flip(tokens.create("u1")), "Timeout")
          assert.strictEqual(codeOf(error.cause), "UND_ERR_HEADERS_TIMEOUT")
          assert.strictEqual((yield* server.requests).length, 1)
        })
    ))

  it.live("a trickled body slower than the timeout: TransportError Timeout", () =>
    run({ service: { timeout: "300 millis", retry: Schedule.stop } }, ({ server, tokens }) =>
      Effect.gen(function*() {
        // ~150 bytes, 16 at a time, 100 ms apart: about a second in all.
        yield* server.enqueue(Fault.trickle("100 millis", 16))
        const error = expectTransport(yield* Effect.flip(tokens.create("u1")), "Timeout")
        // The attempt timeout covers the body: the answer's headers came at once.
        assert.strictEqual(error.description, "an attempt took longer than 300 ms")
        assert.strictEqual((yield* server.requests).length, 1)
      })))

  it.live("a trickled body within the timeout: the token", () =>
    run({ service: { timeout: "2 seconds" } }, ({ server, tokens }) =>
      Effect.gen(function*() {
        yield* server.enqueue(Fault.trickle("5 millis", 16))
        const token = yield* tokens.create("u1")
        assert.strictEqual(token.userId, "u1")
        assert.strictEqual((yield* server.requests).length, 1)
      })))

  it.live("a body gap past undici's bodyTimeout: Timeout before the service's own", () =>
    run(
      { service: { timeout: "5 seconds", retry: Schedule.stop }, http: { bodyTimeout: "150 millis" } },
      ({ server, tokens }) =>
        Effect.gen(function*() {
          // undici checks body gaps on a ~0.5 s clock: the gap must be well over a second.
          yield* server.enqueue(Fault.trickle("3 seconds", 16))
          // undici's code: its timer, not the service's 5 s one, ended the attempt.
          const error = expectTransport(yield* Effect.flip(tokens.create("u1")), "Timeout")
          assert.strictEqual(codeOf(error.cause), "UND_ERR_BODY_TIMEOUT")
          assert.strictEqual((yield* server.requests).length, 1)
        })
    ))

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
        const tokens = yield* UserTokenService.make({
          apiKey: Redacted.make(KEY),
          baseUrl: `http://127.0.0.1:${port}`,
          timeout: "2 seconds",
          retry: fastRetry,
          rateLimit: false
        })
        const error = expectTransport(yield* Effect.flip(tokens.create("u1")), "TooLarge")
        assert.strictEqual(codeOf(error.cause), "UND_ERR_RES_EXCEEDED_MAX_SIZE")
        assert.strictEqual(seen, 1)
      }).pipe(Effect.scoped, Effect.provide(NodeSfox.httpClientWith({ maxResponseBytes: 32 * 1024 })))
    ))

  it.live("nothing listening: TransportError Connect", () =>
    leakFree(
      Effect.gen(function*() {
        const port = yield* closedPort
        const tokens = yield* UserTokenService.make({
          apiKey: Redacted.make(KEY),
          baseUrl: `http://127.0.0.1:${port}`,
          timeout: "1 second",
          retry: Schedule.stop,
          rateLimit: false
        })
        const error = expectTransport(yield* Effect.flip(tokens.create("u1")), "Connect")
        assert.strictEqual(codeOf(error.cause), "ECONNREFUSED")
        assertNoKey(error)
      }).pipe(Effect.scoped, Effect.provide(NodeSfox.httpClient))
    ))

  it.live("a self-signed certificate: TransportError Tls after one attempt, whatever the retry policy", () =>
    leakFree(
      Effect.gen(function*() {
        const connections = yield* Ref.make(0)
        const server = Https.createServer(selfSignedCert(), (_request, response) => response.end())
        server.on("connection", () => Effect.runSync(Ref.update(connections, (n) => n + 1)))
        server.on("tlsClientError", () => {})
        const port = yield* rawServer(server)
        const tokens = yield* UserTokenService.make({
          apiKey: Redacted.make(KEY),
          baseUrl: `https://127.0.0.1:${port}`,
          timeout: "5 seconds",
          retry: fastRetry,
          rateLimit: false
        })
        const error = expectTransport(yield* Effect.flip(tokens.create("u1")), "Tls")
        assert.strictEqual(codeOf(error.cause), "DEPTH_ZERO_SELF_SIGNED_CERT")
        assert.strictEqual(yield* Ref.get(connections), 1)
        assertNoKey(error)
      }).pipe(Effect.scoped, Effect.provide(NodeSfox.httpClient))
    ))

  it.live("a TLS handshake that never completes: Connect at the connectTimeout", () =>
    leakFree(
      Effect.gen(function*() {
        const silent = new Set<Net.Socket>()
        const server = Net.createServer((socket) => {
          silent.add(socket)
          socket.on("error", () => {})
          socket.on("close", () => silent.delete(socket))
        })
        const port = yield* rawServer(server)
        yield* Effect.addFinalizer(() => Effect.sync(() => silent.forEach((socket) => socket.destroy())))
        const tokens = yield* UserTokenService.make({
          apiKey: Redacted.make(KEY),
          baseUrl: `https://127.0.0.1:${port}`,
          timeout: "5 seconds",
          retry: Schedule.stop,
          rateLimit: false
        })
        // Connect, with undici's code: the connectTimeout ended it, not the
        // service's 5 s attempt timeout (that would be Timeout), nor undici's
        // own 10 s default (later than the service's).
        const error = expectTransport(yield* Effect.flip(tokens.create("u1")), "Connect")
        assert.strictEqual(codeOf(error.cause), "UND_ERR_CONNECT_TIMEOUT")
      }).pipe(Effect.scoped, Effect.provide(NodeSfox.httpClientWith({ connectTimeout: "200 millis" })))
    ))
})

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
        const tokens = yield* UserTokenService.make({
          apiKey: Redacted.make(KEY),
          baseUrl: `http://127.0.0.1:${port}`,
          rateLimit: false
        })
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
        const tokens = yield* UserTokenService.make({
          apiKey: Redacted.make(KEY),
          baseUrl: `http://127.0.0.1:${port}`,
          rateLimit: false
        })
        const ids = Array.from({ length: 12 }, (_, i) => `u${i}`)
        yield* Effect.forEach(ids, tokens.create, { concurrency: "unbounded" })
        assert.strictEqual(ports.size, 3)
        // 12 calls at once, but one request per connection at a time: the server held 3 at most.
        assert.strictEqual(load.most, 3)
      }).pipe(Effect.scoped, Effect.provide(NodeSfox.httpClientWith({ connections: 3 })))
    ))

  it.live("a request queued for a connection ends at its attempt's timeout, not when the connection frees", () =>
    leakFree(
      Effect.gen(function*() {
        // Never answers: the one connection stays taken until its caller is interrupted.
        const arrived = yield* Deferred.make<void>()
        let requests = 0
        const server = Http.createServer(() => {
          requests++
          Deferred.unsafeDone(arrived, Exit.void)
        })
        const port = yield* rawServer(server)
        const service = (timeout: Duration.DurationInput) =>
          UserTokenService.make({
            apiKey: Redacted.make(KEY),
            baseUrl: `http://127.0.0.1:${port}`,
            timeout,
            retry: Schedule.stop,
            rateLimit: false
          })
        const holder = yield* Effect.fork((yield* service("10 minutes")).create("u1"))
        yield* Deferred.await(arrived)
        const error = expectTransport(yield* Effect.flip((yield* service("100 millis")).create("u2")), "Timeout")
        assert.strictEqual(error.description, "an attempt took longer than 100 ms")
        assert.strictEqual(requests, 1, "the queued request never reached the server")
        yield* Fiber.interrupt(holder)
      }).pipe(Effect.scoped, Effect.provide(NodeSfox.httpClientWith({ connections: 1 })))
    ))

  // No answer comes and the attempt timeout is far past the hang guard:
  // the interruption returns only if it does not wait for the request.
  it.live("interrupting a call aborts its socket", () =>
    run({ service: { timeout: "10 minutes" } }, ({ server, tokens }) =>
      Effect.gen(function*() {
        yield* server.enqueue(Fault.noAnswer())
        const baseline = tcpSockets()
        const fiber = yield* Effect.fork(tokens.create("u1"))
        while ((yield* server.requests).length === 0) yield* Effect.sleep("5 millis")
        assert.strictEqual(tcpSockets() - baseline, 2, "one connection, both ends")
        yield* orHang(Fiber.interrupt(fiber))
        assert.strictEqual(yield* settle(tcpSockets, baseline), baseline)
      })))

  it.live("closing the layer's scope closes idle keep-alive sockets at once", () =>
    leakFree(
      Effect.gen(function*() {
        const baseline = tcpSockets()
        const server = yield* MockSfoxServer
        const clientScope = yield* Scope.make()
        const client = yield* NodeSfox.httpClientWith({ keepAliveTimeout: "1 minute" }).pipe(
          Layer.buildWithScope(clientScope)
        )
        const tokens = yield* UserTokenService.make({
          apiKey: Redacted.make(KEY),
          baseUrl: server.url,
          rateLimit: false
        }).pipe(Effect.provide(client))
        yield* Effect.forEach(["a", "b", "c", "d"], tokens.create, { concurrency: 4 })
        assert.isAtLeast(tcpSockets() - baseline, 2)
        yield* Scope.close(clientScope, Exit.void)
        // The server is still up: only its ends of the closed connections went.
        assert.strictEqual(yield* settle(tcpSockets, baseline), baseline)
      }).pipe(Effect.scoped, Effect.provide(MockSfoxServer.layer({ apiKey: KEY })))
    ))
})

describe("NodeSfox.httpClient as a plain HttpClient", () => {
  it.live("answers any request; the body reads many times; inspecting it shows no key", () =>
    leakFree(
      Effect.gen(function*() {
        const server = yield* MockSfoxServer
        const client = yield* HttpClient.HttpClient
        const response = yield* client.execute(
          HttpClientRequest.post(`${server.url}/v1/enterprise/user-tokens/u1#fragment`).pipe(
            HttpClientRequest.bearerToken(KEY)
          )
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
      }).pipe(
        Effect.scoped,
        Effect.provide(Layer.merge(MockSfoxServer.layer({ apiKey: KEY }), NodeSfox.httpClient))
      )
    ))

  it.live("a POST body goes out with its content type", () =>
    leakFree(
      Effect.gen(function*() {
        const server = yield* MockSfoxServer
        const response = yield* HttpClientRequest.post(`${server.url}/v1/enterprise/user-tokens`).pipe(
          HttpClientRequest.bearerToken(KEY),
          HttpClientRequest.bodyUnsafeJson({ data: ["a", "b"] }),
          HttpClient.execute
        )
        assert.strictEqual(response.status, 201)
        const body = (yield* response.json) as { data: ReadonlyArray<unknown> }
        assert.strictEqual(body.data.length, 2)
        const [request] = yield* server.requests
        assert.strictEqual(request!.headers["content-type"], "application/json")
        assert.deepStrictEqual(request!.userIds, ["a", "b"])
      }).pipe(
        Effect.scoped,
        Effect.provide(Layer.merge(MockSfoxServer.layer({ apiKey: KEY }), NodeSfox.httpClient))
      )
    ))

  it.live("a response body is a Stream too", () =>
    leakFree(
      Effect.gen(function*() {
        const server = yield* MockSfoxServer
        const response = yield* HttpClientRequest.post(`${server.url}/v1/enterprise/user-tokens/u1`).pipe(
          HttpClientRequest.bearerToken(KEY),
          HttpClient.execute
        )
        const chunks = yield* Stream.runCollect(response.stream)
        const bytes = Buffer.concat(Chunk.toReadonlyArray(chunks))
        const json = JSON.parse(bytes.toString("utf8")) as { data: { partner_user_id: string } }
        assert.strictEqual(json.data.partner_user_id, "u1")
      }).pipe(
        Effect.scoped,
        Effect.provide(Layer.merge(MockSfoxServer.layer({ apiKey: KEY }), NodeSfox.httpClient))
      )
    ))

  it.live("a response Stream cut short fails with a ResponseError", () =>
    leakFree(
      Effect.gen(function*() {
        const server = Http.createServer((_req, res) => {
          res.writeHead(200, { "content-length": "1000" })
          res.write("x".repeat(100), () => setTimeout(() => res.socket?.destroy(), 20))
        })
        const port = yield* rawServer(server)
        const response = yield* HttpClient.get(`http://127.0.0.1:${port}/`)
        const error = yield* Effect.flip(Stream.runDrain(response.stream))
        assert.strictEqual(error._tag, "ResponseError")
        assert.strictEqual(error.reason, "Decode")
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
          Effect.fork
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
        const bytes = Chunk.toReadonlyArray(yield* Stream.runCollect(whole.stream))
        assert.strictEqual(Buffer.concat(bytes).toString("utf8"), "x".repeat(100) + "y".repeat(100))
        const part = yield* HttpClient.get(`http://127.0.0.1:${port}/`)
        const taken = yield* Stream.runCollect(Stream.take(part.stream, 1))
        assert.strictEqual(Chunk.unsafeHead(taken).length, 100)
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
          req.socket.once("close", () => Deferred.unsafeDone(closed, Exit.void))
          res.writeHead(200, { "content-length": "1000" })
          res.write("x".repeat(100))
        })
        const port = yield* rawServer(server)
        // Dropped unread: only the garbage collector can tell it was abandoned.
        yield* Effect.asVoid(HttpClient.get(`http://127.0.0.1:${port}/`))
        while (!(yield* Deferred.isDone(closed))) {
          collectGarbage()
          yield* Effect.async<void>((resume) => void setImmediate(() => resume(Effect.void)))
        }
        assert.strictEqual(connections, 1)
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
        const batch = HttpClientRequest.post(`${server.url}/v1/enterprise/user-tokens`).pipe(
          HttpClientRequest.bearerToken(KEY)
        )
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
        assert.strictEqual(error._tag, "RequestError")
        assert.strictEqual(error.reason, "Transport")
      }).pipe(
        Effect.scoped,
        Effect.provide(Layer.merge(MockSfoxServer.layer({ apiKey: KEY }), NodeSfox.httpClient))
      )
    ))

  it("invalid options are refused when the layer is built", async () => {
    const exit = await Effect.runPromiseExit(
      Effect.scoped(Layer.build(NodeSfox.httpClientWith({ maxResponseBytes: -1 })))
    )
    assert.strictEqual(exit._tag, "Failure")
    assert.include(String(exit._tag === "Failure" ? exit.cause : ""), "maxResponseBytes")
  })
})

/** The client both ways: plain (the service's path), and through the platform's `HttpClient.make` (`tracing`). */
const modes = [
  ["plain", NodeSfox.httpClient],
  ["tracing", NodeSfox.httpClientWith({ tracing: true })]
] as const

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
          const chunks = Chunk.toReadonlyArray(yield* Stream.runCollect(second.stream))
          assert.isAtLeast(chunks.length, 2, "the pieces came as they arrived")
          assert.strictEqual(Buffer.concat(chunks).toString("utf8"), whole)
          // Every accessor shares the one body, whichever read it first.
          assert.strictEqual(yield* second.text, whole)
        }).pipe(Effect.scoped, Effect.provide(layer))
      ))

    it.live(`${mode}: interrupted while queued for a connection, the request never goes out; the pool serves the next`, () =>
      leakFree(
        Effect.gen(function*() {
          const paths: Array<string> = []
          let release: (() => void) | undefined
          const server = Http.createServer((req, res) => {
            paths.push(req.url ?? "")
            if (req.url === "/hold") release = () => res.end("held")
            else res.end("ok")
          })
          const port = yield* rawServer(server)
          const base = `http://127.0.0.1:${port}`
          const holder = yield* Effect.fork(Effect.flatMap(HttpClient.get(`${base}/hold`), (r) => r.text))
          while (release === undefined) yield* Effect.sleep("5 millis")
          // The one connection is taken: this one waits in undici's queue, before `onConnect`.
          const queued = yield* Effect.fork(HttpClient.get(`${base}/queued`))
          yield* Effect.sleep("20 millis")
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

    it.live(`${mode}: a body cut short after the headers fails every read with undici's error`, () =>
      leakFree(
        Effect.gen(function*() {
          const server = Http.createServer((_req, res) => {
            res.writeHead(200, { "content-length": "1000" })
            res.write("x".repeat(100), () => setTimeout(() => res.socket?.destroy(), 50))
          })
          const port = yield* rawServer(server)
          const expectCutShort = (error: HttpClientError.ResponseError) => {
            assert.strictEqual(error.reason, "Decode")
            assert.strictEqual(codeOf(error.cause), "UND_ERR_SOCKET")
          }
          // Read while the body still arrives: the read waits, then fails.
          const waiting = yield* HttpClient.get(`http://127.0.0.1:${port}/`)
          expectCutShort(yield* Effect.flip(waiting.text))
          expectCutShort(yield* Effect.flip(waiting.json))
          // Read once the body has failed: the same failure at once.
          const late = yield* HttpClient.get(`http://127.0.0.1:${port}/`)
          yield* Effect.sleep("200 millis")
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

    it.live(`${mode}: interrupting a request that waits for its answer drops its socket`, () =>
      leakFree(
        Effect.gen(function*() {
          let arrived = false
          const server = Http.createServer(() => {
            arrived = true
          })
          const port = yield* rawServer(server)
          const baseline = tcpSockets()
          const fiber = yield* Effect.fork(HttpClient.get(`http://127.0.0.1:${port}/`))
          while (!arrived) yield* Effect.sleep("5 millis")
          assert.strictEqual(tcpSockets() - baseline, 2, "one connection, both ends")
          yield* orHang(Fiber.interrupt(fiber))
          assert.strictEqual(yield* settle(tcpSockets, baseline), baseline)
        }).pipe(Effect.scoped, Effect.provide(layer))
      ))
  }

  it.live("a body that has arrived is read without suspending", () =>
    leakFree(
      Effect.gen(function*() {
        const server = yield* MockSfoxServer
        const response = yield* HttpClientRequest.post(`${server.url}/v1/enterprise/user-tokens/u1`).pipe(
          HttpClientRequest.bearerToken(KEY),
          HttpClient.execute
        )
        const text = yield* response.text
        // `runSync` throws on any asynchronous step.
        assert.strictEqual(Effect.runSync(response.text), text)
        assert.deepStrictEqual(Effect.runSync(response.json), JSON.parse(text))
        assert.strictEqual(new TextDecoder().decode(Effect.runSync(response.arrayBuffer)), text)
        const chunks = Effect.runSync(Stream.runCollect(response.stream))
        assert.strictEqual(Buffer.concat(Chunk.toReadonlyArray(chunks)).toString("utf8"), text)
      }).pipe(
        Effect.scoped,
        Effect.provide(Layer.merge(MockSfoxServer.layer({ apiKey: KEY }), NodeSfox.httpClient))
      )
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
        const error = yield* Effect.withFiberRuntime<
          HttpClientResponse.HttpClientResponse,
          HttpClientError.HttpClientError,
          HttpClient.HttpClient
        >((fiber) => {
          deadlines.set(fiber, expired)
          return Effect.ensuring(
            HttpClient.get(`http://127.0.0.1:${port}/`),
            Effect.sync(() => deadlines.delete(fiber))
          )
        }).pipe(Effect.flip)
        assert.strictEqual(error._tag, "RequestError")
        assert.strictEqual(error.reason, "Transport")
        // The pool is untouched: the next request goes out.
        assert.strictEqual(yield* Effect.flatMap(HttpClient.get(`http://127.0.0.1:${port}/`), (r) => r.text), "ok")
        assert.strictEqual(requests, 1)
        // Not even a connection was opened for it.
        assert.strictEqual(connections, 1)
      }).pipe(Effect.scoped, Effect.provide(NodeSfox.httpClient))
    ))
})

describe("NodeSfox.httpClient's request targets", () => {
  const origin = "http://127.0.0.1:4000"
  const parsed = (url: string) => {
    const parsed = new URL(url)
    return { origin: parsed.origin, path: parsed.pathname + parsed.search }
  }

  it("a URL read without parsing goes where new URL says it goes", () => {
    const paths = [
      "/v1/enterprise/user-tokens/u1",
      "/v1/enterprise/user-tokens/a%20b%2Fc",
      "/a//b",
      "/a/./b",
      "/a/../b",
      "/a/%2e%2E/b",
      "/a/.%2e",
      "/.well-known/x",
      "/a b",
      "/a\tb",
      "/a\\b",
      "/a#fragment",
      "/a?",
      "/a?b=1&c=%zz&d=/./e",
      "/a?q='x'",
      "/a?q=\"x\"",
      "/é?ü",
      "/%41%2F",
      "/a:b@c!$&()*+,;=~_-."
    ]
    const targets = new Targets()
    assert.deepStrictEqual(targets.of(HttpClientRequest.get(`${origin}/`)), { origin, path: "/" })
    for (const path of paths) {
      assert.deepStrictEqual(targets.of(HttpClientRequest.get(origin + path)), parsed(origin + path), path)
    }
  })

  it("the origin as a URL spells it otherwise, and URL parameters and fragments, are parsed", () => {
    const targets = new Targets()
    targets.of(HttpClientRequest.get(`${origin}/`))
    for (
      const url of [
        "HTTP://127.0.0.1:4000/x",
        "http://127.0.0.1:40001/x",
        "http://user:secret@127.0.0.1:4000/x",
        "http://example.com:80/x",
        "https://example.com:443/x?y=1"
      ]
    ) {
      assert.deepStrictEqual(targets.of(HttpClientRequest.get(url)), parsed(url), url)
    }
    const withParams = HttpClientRequest.get(`${origin}/x`).pipe(
      HttpClientRequest.setUrlParam("a", "1 2"),
      HttpClientRequest.setHash("h")
    )
    assert.deepStrictEqual(targets.of(withParams), { origin, path: "/x?a=1+2" })
    // A URL with no origin of its own is never taken for a path after one.
    targets.of(HttpClientRequest.get("file:///tmp/x"))
    assert.throws(() => targets.of(HttpClientRequest.get("null/x")))
    assert.deepStrictEqual(targets.of(HttpClientRequest.get(`${origin}/y`)), { origin, path: "/y" })
  })

  it.live("a URL with dot segments goes out resolved", () =>
    leakFree(
      Effect.gen(function*() {
        const paths: Array<string> = []
        const server = Http.createServer((req, res) => {
          paths.push(req.url ?? "")
          res.end("ok")
        })
        const port = yield* rawServer(server)
        for (const path of ["/a/b", "/a/../b", "/a/%2e/b?c=/./d"]) {
          yield* Effect.flatMap(HttpClient.get(`http://127.0.0.1:${port}${path}`), (r) => r.text)
        }
        assert.deepStrictEqual(paths, ["/a/b", "/b", "/a/b?c=/./d"])
        const invalid = yield* Effect.flip(HttpClient.get("http://127.0.0.1:notaport/"))
        assert.strictEqual(invalid._tag, "RequestError")
        assert.strictEqual(invalid.reason, "InvalidUrl")
      }).pipe(Effect.scoped, Effect.provide(NodeSfox.httpClient))
    ))
})

describe("NodeSfox.layer", () => {
  it.live("NodeSfox.httpClient and any other HttpClient layer are interchangeable", () =>
    leakFree(
      Effect.gen(function*() {
        const server = yield* MockSfoxServer
        const mint = Effect.flatMap(UserTokenService, (tokens) => tokens.createMany(["a", "b"])).pipe(
          Effect.provide(UserTokenService.layer({ apiKey: Redacted.make(KEY), baseUrl: server.url, rateLimit: false }))
        )
        const overUndici = yield* Effect.provide(mint, NodeSfox.httpClient)
        const overFetch = yield* Effect.provide(mint, FetchHttpClient.layer)
        assert.deepStrictEqual(overUndici.map((t) => t.userId), overFetch.map((t) => t.userId))
        assert.strictEqual((yield* server.requests).length, 2)
      }).pipe(Effect.provide(MockSfoxServer.layer({ apiKey: KEY })))
    ))

  it.live("builds UserTokenService from SFOX_ENTERPRISE_API_KEY and SFOX_BASE_URL", () =>
    leakFree(
      Effect.gen(function*() {
        const server = yield* MockSfoxServer
        const token = yield* Effect.flatMap(UserTokenService, (tokens) => tokens.create("u1")).pipe(
          Effect.provide(NodeSfox.layer),
          Effect.withConfigProvider(
            ConfigProvider.fromMap(new Map([["SFOX_ENTERPRISE_API_KEY", KEY], ["SFOX_BASE_URL", server.url]]))
          )
        )
        assert.strictEqual(token.userId, "u1")
        assert.strictEqual((yield* server.requests)[0]!.authorization, "valid")
      }).pipe(Effect.provide(MockSfoxServer.layer({ apiKey: KEY })))
    ))

  it.live("fails with a ConfigError that says what to set when no key is configured", () =>
    leakFree(Effect.gen(function*() {
      const exit = yield* Effect.flatMap(UserTokenService, (tokens) => tokens.create("u1")).pipe(
        Effect.provide(NodeSfox.layer),
        Effect.withConfigProvider(ConfigProvider.fromMap(new Map())),
        Effect.exit
      )
      assertConfigError(exit, ["MissingData SFOX_ENTERPRISE_API_KEY"])
      assert.strictEqual(
        configErrorOf(exit).message,
        "no API key: set SFOX_ENTERPRISE_API_KEY (or ENTERPRISE_API_KEY) to your sFOX Enterprise API key"
      )
    })))

  it.live("a bad SFOX_BASE_URL fails the layer naming SFOX_BASE_URL", () =>
    leakFree(Effect.gen(function*() {
      const exit = yield* Effect.flatMap(UserTokenService, (tokens) => tokens.create("u1")).pipe(
        Effect.provide(NodeSfox.layer),
        Effect.withConfigProvider(
          ConfigProvider.fromMap(new Map([["SFOX_ENTERPRISE_API_KEY", KEY], ["SFOX_BASE_URL", "api.sfox.com"]]))
        ),
        Effect.exit
      )
      assertConfigError(exit, ["InvalidData SFOX_BASE_URL"])
      assert.strictEqual(String(configErrorOf(exit)), `(Invalid data at SFOX_BASE_URL: "is not an absolute URL")`)
    })))

  it.live("layerWith passes service options and client tuning through", () =>
    leakFree(
      Effect.gen(function*() {
        const server = yield* MockSfoxServer
        yield* server.enqueue(Fault.oversize(8 * 1024))
        const result = yield* Effect.gen(function*() {
          const tokens = yield* UserTokenService
          const tooLarge = yield* Effect.flip(tokens.create("u0"))
          const many = yield* tokens.createMany(["a", "b", "c", "d", "e"])
          return { tooLarge, many }
        }).pipe(
          Effect.provide(NodeSfox.layerWith({
            service: { maxBatchSize: 2, rateLimit: false, retry: Schedule.stop },
            http: { maxResponseBytes: 4 * 1024 }
          })),
          Effect.withConfigProvider(
            ConfigProvider.fromMap(new Map([["ENTERPRISE_API_KEY", KEY], ["SFOX_BASE_URL", server.url]]))
          )
        )
        expectTransport(result.tooLarge, "TooLarge")
        assert.strictEqual(result.many.length, 5)
        assert.deepStrictEqual((yield* server.requests).slice(1).map((r) => r.userIds.length), [2, 2, 1])
      }).pipe(Effect.provide(MockSfoxServer.layer({ apiKey: KEY })))
    ))
})
