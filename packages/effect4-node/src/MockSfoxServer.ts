/**
 * The sFOX simulation of `@sfox-effect/effect4-core/testing`, served over
 * real HTTP on `127.0.0.1`: for integration tests, demos and benchmarks. It
 * acts out the transport faults a socket allows (resets before and after the
 * headers, no answer, a trickled body, a body short of its `Content-Length`)
 * on top of the simulator's own.
 *
 * @since 0.1.0
 */
import type { SfoxSimulator } from "@sfox-effect/effect4-core/testing"
import * as Context from "effect/Context"
import type * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type * as Scope from "effect/Scope"
import * as internal from "./internal/mockSfoxServer.js"

/**
 * A running mock server: the simulator's controls plus where it listens.
 *
 * @example
 * ```ts
 * import { MockSfoxServer, type MockSfoxServerService } from "@sfox-effect/effect4-node/testing"
 * import { Effect } from "effect"
 *
 * // What a process outside Effect (a curl in a script, say) needs to reach it.
 * const connectionInfo = (server: MockSfoxServerService) => ({ SFOX_BASE_URL: server.url, PORT: server.port })
 * const info = Effect.map(MockSfoxServer, connectionInfo)
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface MockSfoxServerService extends SfoxSimulator.SfoxSimulator {
  /** `http://127.0.0.1:<port>`: pass it as `baseUrl`. */
  readonly url: string
  readonly port: number
}

/**
 * Options of `MockSfoxServer.make` and `MockSfoxServer.layer`: the
 * simulator's options, plus where to listen.
 *
 * @example
 * ```ts
 * import type { MockSfoxServerOptions } from "@sfox-effect/effect4-node/testing"
 *
 * // A fixed port, for a demo that another program points at.
 * const demo: MockSfoxServerOptions = { port: 8787, apiKey: "demo-key", latency: "30 millis" }
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface MockSfoxServerOptions extends SfoxSimulator.SimulatorOptions {
  /** Port to listen on. @default 0 (an ephemeral port) */
  readonly port?: number | undefined
  /** Largest request body read; more gets a 413. @default 1 MiB */
  readonly maxRequestBytes?: number | undefined
}

/**
 * The sFOX simulation listening on `127.0.0.1`: `yield* MockSfoxServer`
 * gives its `url`, its key, `enqueue(faults)` and the `requests` it saw.
 *
 * @example
 * ```ts
 * import { assert } from "@effect/vitest"
 * import { NodeSfox } from "@sfox-effect/effect4-node"
 * import { MockSfoxServer } from "@sfox-effect/effect4-node/testing"
 * import { UserTokenService } from "@sfox-effect/effect4-core"
 * import { Fault } from "@sfox-effect/effect4-core/testing"
 * import { Effect, Schedule } from "effect"
 *
 * // In `it.effect`, TestClock cannot be moved in step with a socket: a retry
 * // with no delay keeps the clock out of it (or run the test with `it.live`).
 * const program = Effect.gen(function*() {
 *   const server = yield* MockSfoxServer // e.g. http://127.0.0.1:43117
 *   yield* server.enqueue(Fault.status(503)) // the first request fails, the retry succeeds
 *   const tokens = yield* UserTokenService.make({
 *     apiKey: server.apiKey,
 *     baseUrl: server.url,
 *     retry: Schedule.recurs(1)
 *   })
 *   const token = yield* tokens.create("user-1")
 *   assert.deepStrictEqual((yield* server.requests).map((request) => request.status), [503, 201])
 *   return token
 * }).pipe(
 *   Effect.scoped,
 *   Effect.provide(MockSfoxServer.layer({ apiKey: "test-key" })),
 *   Effect.provide(NodeSfox.httpClient)
 * )
 * ```
 *
 * @since 0.1.0
 * @category services
 */
export class MockSfoxServer extends Context.Service<MockSfoxServer, MockSfoxServerService>()(
  "@sfox-effect/effect4-node/MockSfoxServer"
) {
  /**
   * Starts the server; it stops, and every connection it holds is closed,
   * when the scope closes. The scoped value, for a test that wants the
   * server without a layer, or two servers at once.
   *
   * @example
   * ```ts
   * import { MockSfoxServer } from "@sfox-effect/effect4-node/testing"
   * import { Effect } from "effect"
   *
   * // Two sFOX hosts, to test a failover between them.
   * const pair = Effect.all([MockSfoxServer.make(), MockSfoxServer.make({ latency: "2 seconds" })])
   * const urls = Effect.map(pair, ([fast, slow]) => [fast.url, slow.url]).pipe(Effect.scoped)
   * ```
   *
   * @since 0.1.0
   */
  static readonly make = (
    options: MockSfoxServerOptions = {}
  ): Effect.Effect<MockSfoxServerService, never, Scope.Scope> => internal.make(options)

  /**
   * The server as a layer: it listens from when the layer is built until
   * the program's scope ends.
   *
   * @example
   * ```ts
   * import { NodeSfox } from "@sfox-effect/effect4-node"
   * import { MockSfoxServer } from "@sfox-effect/effect4-node/testing"
   * import { UserTokenService } from "@sfox-effect/effect4-core"
   * import { Effect, Layer, Redacted } from "effect"
   *
   * // The service pointed at the server's random port.
   * const Tokens = Layer.unwrap(
   *   Effect.map(MockSfoxServer, (server) =>
   *     UserTokenService.layer({ apiKey: Redacted.make("test-key"), baseUrl: server.url }))
   * ).pipe(Layer.provideMerge(MockSfoxServer.layer({ apiKey: "test-key" })), Layer.provide(NodeSfox.httpClient))
   * ```
   *
   * @since 0.1.0
   */
  static readonly layer = (options: MockSfoxServerOptions = {}): Layer.Layer<MockSfoxServer> =>
    Layer.effect(MockSfoxServer, internal.make(options))
}
