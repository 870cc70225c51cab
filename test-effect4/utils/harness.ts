/**
 * Shared by the Effect 4 edition's real-socket suites: a MockSfoxServer with a
 * service over `NodeSfox.httpClientWith`, and the checks that nothing
 * outlives a test. The port of test/utils/harness.ts.
 */
import { assert } from "@effect/vitest"
import { isTransient, type UserTokenError, UserTokenService } from "@sfox-effect/effect4-core"
import { NodeSfox } from "@sfox-effect/effect4-node"
import {
  MockSfoxServer,
  type MockSfoxServerOptions,
  type MockSfoxServerService
} from "@sfox-effect/effect4-node/testing"
import { Deferred, Effect, Exit, Layer, Metric, Redacted, Schedule, type Scope } from "effect"
import type { HttpClient } from "effect/http"
import * as DiagnosticsChannel from "node:diagnostics_channel"
import type * as Http from "node:http"
import * as Net from "node:net"

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
 * A count kept as latches: `arrive()` counts one more, and `nth(n)` completes
 * once the count has reached `n` (at once if it has already).
 */
export const countedLatches = () => {
  let count = 0
  const latches = new Map<number, Deferred.Deferred<void>>()
  const latch = (n: number) => {
    let deferred = latches.get(n)
    if (deferred === undefined) {
      deferred = Deferred.makeUnsafe<void>()
      latches.set(n, deferred)
    }
    return deferred
  }
  return {
    arrive: (): void => void Deferred.doneUnsafe(latch(++count), Exit.void),
    nth: (n: number): Effect.Effect<void> => n <= 0 ? Effect.void : Deferred.await(latch(n))
  }
}

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

/**
 * The fibers a call starts, and how many of them are still alive: Effect 4
 * has no `Supervisor`, but every fiber reports its start and its end to the
 * `Metric.FiberRuntimeMetrics` service of its context, which its children
 * inherit. `supervised(call)` runs `call` under a counting one.
 */
export const trackFibers = Effect.sync(() => {
  let alive = 0
  const counting: Metric.FiberRuntimeMetricsService = {
    recordFiberStart: () => void alive++,
    recordFiberEnd: () => void alive--
  }
  return {
    alive: () => alive,
    supervised: <A, E, R>(call: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
      Effect.provideService(call, Metric.FiberRuntimeMetrics, counting)
  }
})

/**
 * Effect 4 resumes a sleeping fiber inside its timer's callback, and Node
 * lists that timer as active until the callback returns: a count of
 * `Timeout`s taken right after a sleep (or a timeout) includes it. A hop
 * through the scheduler first (`yieldNow`) counts without it.
 */
const offTimerStack = Effect.yieldNow

/** Closing a socket or clearing a timer completes on a later tick: wait (briefly) for a count to drop. */
export const settle = (count: () => number, target: number, withinMillis = 2_000) =>
  Effect.gen(function*() {
    const deadline = Date.now() + withinMillis
    yield* offTimerStack
    while (count() > target && Date.now() < deadline) {
      yield* Effect.sleep("10 millis")
      yield* offTimerStack
    }
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
    yield* offTimerStack
    while (Object.keys(excess()).length > 0 && Date.now() < deadline) {
      yield* Effect.sleep("20 millis")
      yield* offTimerStack
    }
    return excess()
  })

/**
 * Runs `effect`, then checks that the TCP handles it opened that hold the
 * event loop (servers, busy sockets, server ends of pooled connections) are
 * closed.
 */
export const leakFree = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.gen(function*() {
    const handles = tcpHandles()
    const result = yield* effect
    assert.isAtMost(yield* settle(tcpHandles, handles), handles, "a TCP handle outlived the scope")
    return result
  })

/** Up to 3 attempts, 20 ms apart, transient failures only: the default policy, fast. */
export const fastRetry: Schedule.Schedule<number, UserTokenError> = Schedule.spaced("20 millis").pipe(
  Schedule.setInputType<UserTokenError>(),
  Schedule.upTo({ times: 2 }),
  Schedule.while(({ input }) => isTransient(input))
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
export const closedPort = Effect.callback<number>((resume) => {
  const probe = Net.createServer()
  probe.listen(0, "127.0.0.1", () => {
    const port = (probe.address() as Net.AddressInfo).port
    probe.close(() => resume(Effect.succeed(port)))
  })
})

export const timed = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.gen(function*() {
    const start = Date.now()
    const result = yield* effect
    return { result, millis: Date.now() - start }
  })
