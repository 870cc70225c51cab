/**
 * Shared by the Effect 4 edition's `NodeSfox.*.test.ts` suites: a
 * MockSfoxServer with a service over `NodeSfox.httpClientWith`, a raw
 * loopback server for what the mock cannot do, a service pointed at one, and
 * the checks every suite makes. The port of test/utils/nodeSfox.ts.
 */
import { assert } from "@effect/vitest"
import { type UserTokenError, UserTokenService } from "@sfox-effect/effect4-core"
import { NodeSfox } from "@sfox-effect/effect4-node"
import {
  MockSfoxServer,
  type MockSfoxServerOptions,
  type MockSfoxServerService
} from "@sfox-effect/effect4-node/testing"
import { Deferred, Effect, Exit, Layer, Redacted, type Scope } from "effect"
import { type HttpClient, HttpClientRequest } from "effect/http"
import * as Http from "node:http"
import type * as Net from "node:net"
import { inspect } from "node:util"
import { expectTag, fastRetry, leakFree, tcpSockets } from "./harness.js"

export const KEY = "sk-node-test-3f9b1c77a2"

export interface Setup {
  readonly server?: MockSfoxServerOptions
  readonly service?: Partial<UserTokenService.Options>
  readonly http?: NodeSfox.HttpClientOptions
}

export interface Ctx {
  readonly server: MockSfoxServerService
  readonly tokens: UserTokenService.Service
  /** TCP sockets open before the server started. */
  readonly baseline: number
}

/**
 * A fresh MockSfoxServer and a service over `NodeSfox.httpClientWith`
 * (attempt timeout 400 ms, `fastRetry`, no client rate limit unless `service`
 * says otherwise), both closed when `body` ends; then checks that no TCP
 * handle outlived them.
 */
export const run = <A, E>(setup: Setup, body: (ctx: Ctx) => Effect.Effect<A, E, Scope.Scope>) =>
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

/** A MockSfoxServer and the default client, for tests that call the client (or the service layer) themselves. */
export const mockAndClient = Layer.merge(MockSfoxServer.layer({ apiKey: KEY }), NodeSfox.httpClient)

/** A POST to the mock's token endpoint (`path` after it: `/<user id>` for one), with the test key. */
export const tokensRequest = (server: { readonly url: string }, path = "") =>
  HttpClientRequest.post(`${server.url}/v1/enterprise/user-tokens${path}`).pipe(HttpClientRequest.bearerToken(KEY))

/** A service with the test key, no client rate limit, and `options`, minting at `baseUrl`. */
export const serviceAt = (baseUrl: string, options: Partial<UserTokenService.Options> = {}) =>
  UserTokenService.make({ apiKey: Redacted.make(KEY), baseUrl, rateLimit: false, ...options })

export const expectTransport = (error: UserTokenError, reason: string) => {
  const transport = expectTag(error, "TransportError")
  assert.strictEqual(transport.reason, reason, transport.message)
  return transport
}

/** No rendering of an error may show the key. */
export const assertNoKey = (error: unknown) => {
  for (const text of [String(error), JSON.stringify(error), inspect(error, { depth: 10 })]) {
    assert.isFalse(text.includes(KEY), `the API key leaked: ${text.slice(0, 300)}`)
  }
}

/** A raw server for what MockSfoxServer cannot do, listening on loopback; closed with the scope. */
export const rawServer = <S extends Net.Server>(server: S) =>
  Effect.acquireRelease(
    Effect.callback<number>((resume) => {
      server.listen(0, "127.0.0.1", () => resume(Effect.succeed((server.address() as Net.AddressInfo).port)))
    }),
    () =>
      Effect.callback<void>((resume) => {
        server.close(() => resume(Effect.void))
        if (server instanceof Http.Server) server.closeAllConnections()
      })
  )

/**
 * A loopback server that takes every request and never answers, and a latch
 * it completes when the first request has arrived: the test waits for the
 * server's own event, not for time to pass.
 */
export const silentServer = Effect.gen(function*() {
  const arrived = yield* Deferred.make<void>()
  const port = yield* rawServer(Http.createServer(() => Deferred.doneUnsafe(arrived, Exit.void)))
  return { port, url: `http://127.0.0.1:${port}`, arrived: Deferred.await(arrived) }
})

/** The client both ways: plain (the service's path), and through the platform's `HttpClient.make` (`tracing`). */
export const modes: ReadonlyArray<readonly [string, Layer.Layer<HttpClient.HttpClient>]> = [
  ["plain", NodeSfox.httpClient],
  ["tracing", Layer.orDie(NodeSfox.httpClientWith({ tracing: true }))]
]
