/**
 * `NodeSfox.layer` and `layerWith`: the service built from the environment,
 * a ConfigError that says what to set, options passed through, and the
 * client interchangeable with any other HttpClient layer. The Effect 4
 * edition's twin of test/NodeSfox.layer.test.ts.
 */
import { assert, describe, it } from "@effect/vitest"
import { UserTokenService } from "@sfox-effect/effect4-core"
import { Fault } from "@sfox-effect/effect4-core/testing"
import { NodeSfox } from "@sfox-effect/effect4-node"
import { MockSfoxServer } from "@sfox-effect/effect4-node/testing"
import { ConfigProvider, Effect, Redacted, Schedule } from "effect"
import { FetchHttpClient } from "effect/http"
import { assertConfigError, configErrorOf } from "../packages/effect4-core/test/utils/configError.js"

/** Runs `effect` with only `env` as its configuration (no variable of the machine running the tests). */
const withEnv = (env: Record<string, string>) => <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.provideService(effect, ConfigProvider.ConfigProvider, ConfigProvider.fromEnv({ env }))
import { leakFree } from "./utils/harness.js"
import { expectTransport, KEY } from "./utils/nodeSfox.js"

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
          withEnv({ SFOX_ENTERPRISE_API_KEY: KEY, SFOX_BASE_URL: server.url })
        )
        assert.strictEqual(token.userId, "u1")
        assert.strictEqual((yield* server.requests)[0]!.authorization, "valid")
      }).pipe(Effect.provide(MockSfoxServer.layer({ apiKey: KEY })))
    ))

  it.live("fails with a ConfigError that says what to set when no key is configured", () =>
    leakFree(Effect.gen(function*() {
      const exit = yield* Effect.flatMap(UserTokenService, (tokens) => tokens.create("u1")).pipe(
        Effect.provide(NodeSfox.layer),
        withEnv({}),
        Effect.exit
      )
      assertConfigError(exit, ["MissingData SFOX_ENTERPRISE_API_KEY"])
      // Effect 4's ConfigError message is its SchemaError's: the sentence, and the path under it.
      assert.include(
        configErrorOf(exit).message,
        "no API key: set SFOX_ENTERPRISE_API_KEY (or ENTERPRISE_API_KEY) to your sFOX Enterprise API key"
      )
    })))

  it.live("a bad SFOX_BASE_URL fails the layer naming SFOX_BASE_URL", () =>
    leakFree(Effect.gen(function*() {
      const exit = yield* Effect.flatMap(UserTokenService, (tokens) => tokens.create("u1")).pipe(
        Effect.provide(NodeSfox.layer),
        withEnv({ SFOX_ENTERPRISE_API_KEY: KEY, SFOX_BASE_URL: "api.sfox.com" }),
        Effect.exit
      )
      assertConfigError(exit, ["InvalidData SFOX_BASE_URL"])
      // Effect 4 renders the ConfigError through its SchemaError: the message, then the path.
      assert.strictEqual(
        String(configErrorOf(exit)),
        `ConfigError(SchemaError(is not an absolute URL\n  at ["SFOX_BASE_URL"]))`
      )
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
            service: { maxBatchSize: 2, rateLimit: false, retry: Schedule.recurs(0) },
            http: { maxResponseBytes: 4 * 1024 }
          })),
          withEnv({ ENTERPRISE_API_KEY: KEY, SFOX_BASE_URL: server.url })
        )
        expectTransport(result.tooLarge, "TooLarge")
        assert.strictEqual(result.many.length, 5)
        assert.deepStrictEqual((yield* server.requests).slice(1).map((r) => r.userIds.length), [2, 2, 1])
      }).pipe(Effect.provide(MockSfoxServer.layer({ apiKey: KEY })))
    ))
})
