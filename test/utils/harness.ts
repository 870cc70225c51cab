/**
 * Shared by the real-socket suites: a MockSfoxServer with a service over
 * `NodeSfox.httpClientWith`, and the checks that nothing outlives a test.
 */
import type * as HttpClient from "@effect/platform/HttpClient"
import { assert } from "@effect/vitest"
import { isTransient, type UserTokenError, UserTokenService } from "@sfox-effect/core"
import { NodeSfox } from "@sfox-effect/node"
import { MockSfoxServer, type MockSfoxServerOptions, type MockSfoxServerService } from "@sfox-effect/node/testing"
import { Effect, Layer, Redacted, Schedule, type Scope } from "effect"
import * as DiagnosticsChannel from "node:diagnostics_channel"
import type * as Http from "node:http"
import * as Net from "node:net"
import { countedLatches } from "../../packages/core/test/utils/latches.js"

/**
 * Open TCP sockets of this process that hold the event loop. undici unrefs a
 * client socket while it idles in the pool, so an idle connection shows
 * through its server end: that end closes only when the client closes its own.
 */
export const tcpSockets = () => process.getActiveResourcesInfo().filter((name) => name === "TCPSocketWrap").length

/** Timers that hold the event loop (Effect's sleeps, the service's attempt timers, the mock's trickles). */
export const timers = () => process.getActiveResourcesInfo().filter((name) => name === "Timeout").length

export const tcpHandles = () =>
  process.getActiveResourcesInfo().filter((name) => name === "TCPSocketWrap" || name === "TCPServerWrap").length

/**
 * Latches on the requests an HTTP server of this process takes in: `nth(n)`
 * completes once the server listening on `port` has taken in its `n`-th
 * request (at once if it has already). The server's own event: node:http
 * publishes each request on the `http.server.request.start` channel as soon
 * as its headers are in, before any handler runs, so a MockSfoxServer (which
 * has no hook of its own) completes the latch itself. Subscribe before the
 * requests are sent; the subscription ends with the scope.
 */
export const requestsTaken = (port: number) =>
  Effect.gen(function*() {
    const taken = countedLatches()
    const onStart = (message: unknown) => {
      const address = (message as { readonly server: Http.Server }).server.address()
      if (address !== null && typeof address === "object" && address.port === port) {
        taken.arrive()
      }
    }
    yield* Effect.acquireRelease(
      Effect.sync(() => DiagnosticsChannel.subscribe("http.server.request.start", onStart)),
      () => Effect.sync(() => DiagnosticsChannel.unsubscribe("http.server.request.start", onStart))
    )
    return { nth: taken.nth }
  })

/** Closing a socket or clearing a timer completes on a later tick: wait (briefly) for a count to drop. */
export const settle = (count: () => number, target: number, withinMillis = 2_000) =>
  Effect.gen(function*() {
    const deadline = Date.now() + withinMillis
    while (count() > target && Date.now() < deadline) yield* Effect.sleep("10 millis")
    return count()
  })

/** Every kind of active resource and how many of it there are. */
export const resources = (): Map<string, number> => {
  const counts = new Map<string, number>()
  for (const name of process.getActiveResourcesInfo()) counts.set(name, (counts.get(name) ?? 0) + 1)
  return counts
}

/**
 * Waits for every kind of resource to fall back to its count in `before`,
 * and returns those still above it. What vitest itself holds (its worker
 * port, its test timer) is in `before` already.
 */
export const settleResources = (before: Map<string, number>, withinMillis = 3_000) =>
  Effect.gen(function*() {
    const excess = () => {
      const out: Record<string, number> = {}
      for (const [name, count] of resources()) {
        const extra = count - (before.get(name) ?? 0)
        if (extra > 0) out[name] = extra
      }
      return out
    }
    const deadline = Date.now() + withinMillis
    while (Object.keys(excess()).length > 0 && Date.now() < deadline) yield* Effect.sleep("20 millis")
    return excess()
  })

/**
 * Runs `effect`, then checks that the TCP handles it opened that hold the
 * event loop (servers, busy sockets, server ends of pooled connections) are
 * closed.
 */
export const leakFree = <A, E>(effect: Effect.Effect<A, E>) =>
  Effect.gen(function*() {
    const handles = tcpHandles()
    const result = yield* effect
    assert.isAtMost(yield* settle(tcpHandles, handles), handles, "a TCP handle outlived the scope")
    return result
  })

export const timed = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.gen(function*() {
    const start = Date.now()
    const result = yield* effect
    return { result, millis: Date.now() - start }
  })

/** Up to 3 attempts, 20 ms apart, transient failures only: the default policy, fast. */
export const fastRetry = Schedule.spaced("20 millis").pipe(
  Schedule.intersect(Schedule.recurs(2)),
  Schedule.whileInput(isTransient)
)

export const expectTag = <T extends UserTokenError["_tag"]>(
  error: UserTokenError,
  tag: T
): Extract<UserTokenError, { _tag: T }> => {
  assert.strictEqual(error._tag, tag, `expected ${tag}, got ${error._tag}: ${error.message}`)
  return error as Extract<UserTokenError, { _tag: T }>
}

export interface Setup {
  readonly key: string
  readonly server?: MockSfoxServerOptions
  readonly service?: Partial<UserTokenService.Options>
  readonly http?: NodeSfox.HttpClientOptions
  /** Another client in place of `NodeSfox.httpClientWith(http)`. */
  readonly client?: Layer.Layer<HttpClient.HttpClient>
}

export interface Ctx {
  readonly server: MockSfoxServerService
  readonly tokens: UserTokenService.Service
}

/**
 * A fresh MockSfoxServer and a service over `NodeSfox.httpClientWith` (or `client`)
 * (attempt timeout 2 s, `fastRetry`, no client rate limit unless
 * `service` says otherwise), both closed when `body` ends; then checks that
 * no TCP handle outlived them.
 */
export const withServer = <A, E>(
  setup: Setup,
  body: (ctx: Ctx) => Effect.Effect<A, E, Scope.Scope | HttpClient.HttpClient>
) =>
  leakFree(
    Effect.gen(function*() {
      const server = yield* MockSfoxServer
      const tokens = yield* UserTokenService.make({
        apiKey: Redacted.make(setup.key),
        baseUrl: server.url,
        timeout: "2 seconds",
        retry: fastRetry,
        rateLimit: false,
        ...setup.service
      })
      return yield* body({ server, tokens })
    }).pipe(
      Effect.scoped,
      Effect.provide(
        Layer.merge(
          MockSfoxServer.layer({ apiKey: setup.key, ...setup.server }),
          setup.client ?? NodeSfox.httpClientWith(setup.http ?? {})
        )
      )
    )
  )

/** A loopback port nobody listens on. */
export const closedPort = Effect.async<number>((resume) => {
  const probe = Net.createServer()
  probe.listen(0, "127.0.0.1", () => {
    const port = (probe.address() as Net.AddressInfo).port
    probe.close(() => resume(Effect.succeed(port)))
  })
})
