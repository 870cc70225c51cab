/**
 * `NodeSfox`'s client against a proxy (or a server) that fails the
 * connection, over real sockets: the call fails with a typed error, and then
 * nothing of it goes on: no request left in undici, no connection attempt,
 * no handle or timer.
 *
 * "Nothing goes on" is observed without a clock: after the call failed, a
 * metronome (test/utils/metronome below) is dialled and dropped
 * `ROUND_TRIPS` times, one after the other, on loopback. A client that
 * redials after a failed connection does it at the pace of such a round trip
 * (its own connect, accept, drop), so during those round trips it would be
 * seen dialling: at the proxy as accepts, in the client as undici's
 * `undici:client:beforeConnect` events. Before the fix, a proxy that drops
 * every connection saw over a thousand connections a second after one
 * failed call, for as long as the client lived.
 *
 * The Effect 4 edition's twin of test/NodeSfox.proxyFaults.test.ts; the
 * cases are shared with it (test/shared/ProxyFaults.ts).
 */
import { assert, describe, it } from "@effect/vitest"
import { UserTokenService } from "@sfox-effect/effect4-core"
import { MockSfoxServer } from "@sfox-effect/effect4-node/testing"
import { ConfigProvider, Context, Effect, Layer, Redacted } from "effect"
import { HttpClient } from "effect/http"
import * as DiagnosticsChannel from "node:diagnostics_channel"
import * as Net from "node:net"
import * as Internal from "../packages/effect4-node/src/internal/undiciClient.js"
import { type Behaviour, type Case, cases, ROUND_TRIPS } from "../test/shared/ProxyFaults.js"
import { closedPort, expectTag, fastRetry, leakFree, resources, settleResources } from "./utils/harness.js"
import { makeTlsFront, testCertificate } from "./utils/proxy.js"

const KEY = "sk-proxy-faults-9e0a4c1d"

interface FaultyServer {
  readonly url: string
  /** Connections accepted so far. */
  readonly accepts: () => number
}

/**
 * A raw TCP server on loopback: it drops every connection at once, or holds
 * it without a word, or answers whatever comes with `status` and closes.
 * Its sockets go with the scope.
 */
const faultyServer = (behaviour: Behaviour) =>
  Effect.gen(function*() {
    let accepts = 0
    const sockets = new Set<Net.Socket>()
    const server = Net.createServer((socket) => {
      accepts++
      socket.on("error", () => socket.destroy())
      if (behaviour._tag === "Drop") return socket.destroy()
      sockets.add(socket)
      socket.on("close", () => sockets.delete(socket))
      // Read (and drop) what comes, so that the client's close is seen.
      if (behaviour._tag === "Silent") socket.resume()
      if (behaviour._tag === "Answer") {
        socket.once("data", () => socket.end(`HTTP/1.1 ${behaviour.status} Refused\r\ncontent-length: 0\r\n\r\n`))
      }
    })
    const port = yield* Effect.acquireRelease(
      Effect.callback<number>((resume) => {
        server.listen(0, "127.0.0.1", () => resume(Effect.succeed((server.address() as Net.AddressInfo).port)))
      }),
      () =>
        Effect.callback<void>((resume) => {
          for (const socket of sockets) socket.destroy()
          server.close(() => resume(Effect.void))
        })
    )
    return { url: `http://127.0.0.1:${port}`, accepts: () => accepts } satisfies FaultyServer
  })

/** `ROUND_TRIPS` connections to `port`, one after the other, each until the server has dropped it. */
const roundTrips = (port: number) =>
  Effect.forEach(Array.from({ length: ROUND_TRIPS }), () =>
    Effect.callback<void>((resume) => {
      const socket = Net.connect(port, "127.0.0.1")
      socket.on("error", () => socket.destroy())
      socket.on("close", () => resume(Effect.void))
    }), { discard: true })

/**
 * What undici does, from its diagnostics channels: the requests it holds
 * (created, neither completed nor failed) and its connection attempts.
 */
const watchUndici = Effect.acquireRelease(
  Effect.sync(() => {
    const open = new Set<unknown>()
    let connects = 0
    const listeners = {
      "undici:request:create": (message: unknown) => open.add((message as { request: unknown }).request),
      "undici:request:trailers": (message: unknown) => open.delete((message as { request: unknown }).request),
      "undici:request:error": (message: unknown) => open.delete((message as { request: unknown }).request),
      "undici:client:beforeConnect": () => connects++
    }
    for (const [name, listener] of Object.entries(listeners)) DiagnosticsChannel.subscribe(name, listener)
    return { listeners, open: () => open.size, connects: () => connects }
  }),
  ({ listeners }) =>
    Effect.sync(() => {
      for (const [name, listener] of Object.entries(listeners)) DiagnosticsChannel.unsubscribe(name, listener)
    })
)

const withProxyEnv = <A, E, R>(variables: Record<string, string>, effect: Effect.Effect<A, E, R>) =>
  Effect.acquireUseRelease(
    Effect.sync(() => {
      const names = ["http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "no_proxy", "NO_PROXY"]
      const saved = names.map((name) => [name, process.env[name]] as const)
      for (const name of names) delete process.env[name]
      Object.assign(process.env, variables)
      return saved
    }),
    // Effect 4's default ConfigProvider snapshots process.env at the process's first config read: a fresh one
    // reads the variables just set.
    () => Effect.provideService(effect, ConfigProvider.ConfigProvider, ConfigProvider.fromEnv()),
    (saved) =>
      Effect.sync(() => {
        for (const [name, value] of saved) {
          if (value === undefined) delete process.env[name]
          else process.env[name] = value
        }
      })
  )

/**
 * One call that fails; then: a typed error, no request left in undici, no
 * connection attempt while the metronome runs, and every handle and timer
 * the call made gone.
 */
const failsAndStops = (c: Case) =>
  leakFree(Effect.scoped(Effect.gen(function*() {
    const server = Context.get(yield* Layer.build(MockSfoxServer.layer({ apiKey: KEY })), MockSfoxServer)
    const faulty = c.behaviour === undefined ? undefined : yield* faultyServer(c.behaviour)
    const metronome = yield* faultyServer({ _tag: "Drop" })
    const proxy = faulty?.url ?? `http://127.0.0.1:${yield* closedPort}`
    const target = c.route === "direct"
      ? (c.target === "https" ? proxy.replace("http:", "https:") : proxy)
      : c.target === "https"
      ? yield* makeTlsFront(server.url)
      : server.url
    const build = c.route === "HTTPS_PROXY"
      ? withProxyEnv({ HTTPS_PROXY: proxy, HTTP_PROXY: proxy }, Internal.make(c.options, { ca: testCertificate.cert }))
      : Internal.make({ ...c.options, proxy: c.route === "direct" ? false : proxy }, { ca: testCertificate.cert })
    const client = yield* build
    const tokens = yield* UserTokenService.make({
      apiKey: Redacted.make(KEY),
      baseUrl: target,
      timeout: c.timeout ?? "2 seconds",
      retry: fastRetry,
      rateLimit: false
    }).pipe(Effect.orDie, Effect.provideService(HttpClient.HttpClient, client))
    const undici = yield* watchUndici
    const before = resources()

    const error = expectTag(yield* Effect.flip(tokens.create("u1")), "TransportError")
    const accepted = faulty?.accepts() ?? 0
    assert.strictEqual(undici.open(), 0, "a request of the failed call is still held by undici")

    const connects = undici.connects()
    yield* roundTrips(Number(new URL(metronome.url).port))
    assert.strictEqual(metronome.accepts(), ROUND_TRIPS)
    assert.strictEqual(faulty?.accepts() ?? 0, accepted, "the proxy was dialled again after the call failed")
    assert.strictEqual(undici.connects(), connects, "undici dialled again after the call failed")
    assert.deepStrictEqual(yield* settleResources(before), {}, "left behind by the failed call")

    assert.include(c.reasons, error.reason, error.message)
    if (c.accepts !== undefined) assert.strictEqual(accepted, c.accepts, "connections accepted for the call")
    assert.strictEqual((yield* server.requests).length, 0, "a request reached sFOX")
  })))

describe("NodeSfox.httpClient: a failed connection leaves nothing behind", () => {
  for (const c of cases) it.live(c.name, () => failsAndStops(c))
})
