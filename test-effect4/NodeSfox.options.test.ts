/**
 * `NodeSfox`'s client options: one schema, every bad option reported at once
 * as a `ConfigError` naming it (never a defect), the defaults filled in.
 * The Effect 4 edition's twin of test/NodeSfox.options.test.ts.
 */
import { assert, describe, it } from "@effect/vitest"
import { NodeSfox } from "@sfox-effect/effect4-node"
import { ConfigProvider, Duration, Effect, Exit, Layer } from "effect"
import { assertConfigError, configErrorOf } from "../packages/effect4-core/test/utils/configError.js"

/** Runs `effect` with only `env` as its configuration (no variable of the machine running the tests). */
const withEnv = (env: Record<string, string>) => <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.provideService(effect, ConfigProvider.ConfigProvider, ConfigProvider.fromEnv({ env }))

const build = (options: NodeSfox.HttpClientOptions) =>
  Effect.exit(Effect.scoped(Layer.build(NodeSfox.httpClientWith(options)))).pipe(
    // No proxy variable of the machine running the tests gets in.
    withEnv({})
  )

describe("NodeSfox.httpClientWith options", () => {
  it.effect("a bad option is a ConfigError naming it, not a defect", () =>
    Effect.gen(function*() {
      const refused: ReadonlyArray<readonly [string, NodeSfox.HttpClientOptions]> = [
        ["maxResponseBytes", { maxResponseBytes: -1 }],
        ["maxResponseBytes", { maxResponseBytes: 1.5 }],
        ["connections", { connections: 0 }],
        ["connectTimeout", { connectTimeout: "0 millis" }],
        ["connectTimeout", { connectTimeout: Duration.infinity }],
        ["headersTimeout", { headersTimeout: "soon" as never }],
        ["keepAliveTimeout", { keepAliveTimeout: -5 }],
        ["tracing", { tracing: "yes" as never }],
        ["proxy", { proxy: "not a url" }]
      ]
      for (const [option, options] of refused) {
        assertConfigError(yield* build(options), [`InvalidData ${option}`], JSON.stringify(options))
      }
    }))

  it.effect("every bad option is reported, not only the first", () =>
    Effect.gen(function*() {
      const exit = yield* build({ connectTimeout: 0, maxResponseBytes: 0, connections: -1, proxy: "::" })
      assertConfigError(exit, [
        "InvalidData connectTimeout",
        "InvalidData maxResponseBytes",
        "InvalidData connections",
        "InvalidData proxy"
      ])
      assert.include(
        String(configErrorOf(exit)),
        // Effect 4 renders the ConfigError through its SchemaError: each message, then its path.
        `must be a positive integer or Infinity\n  at ["connections"]`
      )
    }))

  it.effect("a bad option and a bad proxy variable are reported together", () =>
    Effect.gen(function*() {
      const exit = yield* Effect.exit(Effect.scoped(Layer.build(NodeSfox.httpClientWith({ connections: 0 })))).pipe(
        withEnv({ HTTPS_PROXY: "nope" })
      )
      assertConfigError(exit, ["InvalidData connections", "InvalidData HTTPS_PROXY"])
    }))

  it.effect("the documented values are accepted: Infinity connections, no header or body timer", () =>
    Effect.gen(function*() {
      const exit = yield* build({
        connections: Infinity,
        headersTimeout: Duration.infinity,
        bodyTimeout: Duration.infinity,
        maxResponseBytes: 1,
        proxy: false,
        tracing: true
      })
      assert.isTrue(Exit.isSuccess(exit))
      assert.isTrue(Exit.isSuccess(yield* build({})))
    }))
})
