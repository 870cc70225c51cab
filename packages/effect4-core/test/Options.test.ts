import { assert, describe, it } from "@effect/vitest"
import { UserTokenService, version } from "@sfox-effect/effect4-core"
import { FakeSfox } from "@sfox-effect/effect4-core/testing"
import { Cause, ConfigProvider, Effect, Exit, Layer, Redacted } from "effect"
import * as HttpClient from "effect/http/HttpClient"
import * as Fs from "node:fs"
import * as Path from "node:path"
import { userAgent } from "../src/internal/version.js"
import { assertConfigError, configErrorOf } from "./utils/configError.js"

const key = Redacted.make("sfox-test-key")

/**
 * The environment `env` as Effect 4's default provider reads it (an empty
 * variable reads as unset), or, with `preserveEmptyStrings`, as 3.x's
 * providers did (an empty variable is set, to "").
 */
const withEnv = (env: Record<string, string>, options: { readonly preserveEmptyStrings?: boolean } = {}) =>
  Effect.provideService(ConfigProvider.ConfigProvider, ConfigProvider.fromEnv({ env, ...options }))

/**
 * One bad option as Effect 4 prints it inside a `ConfigError`: the rule,
 * then the path it is at (3.x printed `(Invalid data at path: "rule")`).
 */
const printedAt = (rule: string, ...path: ReadonlyArray<string>) =>
  `${rule}\n  at ${path.map((segment) => `["${segment}"]`).join("")}`

const build = (options: Partial<UserTokenService.Options>) =>
  Effect.exit(
    Effect.scoped(UserTokenService.make({ apiKey: key, ...options })).pipe(Effect.provide(FakeSfox.layer()))
  )

describe("options", () => {
  it.effect("baseUrl: https anywhere, http only on loopback, no credentials, query or fragment", () =>
    Effect.gen(function*() {
      const accepted = [
        "https://api.sfox.com",
        "https://api.staging.sfox.com/",
        "https://proxy.example/sfox",
        "http://127.0.0.1:8080",
        "http://localhost:3000",
        "http://[::1]:3000"
      ]
      for (const baseUrl of accepted) assert.isTrue(Exit.isSuccess(yield* build({ baseUrl })), baseUrl)
      const refused = [
        "http://api.sfox.com",
        "ftp://api.sfox.com",
        "https://user:pass@api.sfox.com",
        "https://api.sfox.com/?a=1",
        "https://api.sfox.com/?",
        "https://api.sfox.com/#x",
        "api.sfox.com",
        "http://127.0.0.1.evil.com",
        "http://localhost.evil.com"
      ]
      for (const baseUrl of refused) assertConfigError(yield* build({ baseUrl }), ["InvalidData baseUrl"], baseUrl)
    }))

  it.effect("requests go to the base URL's path prefix", () =>
    Effect.gen(function*() {
      const urls: Array<string> = []
      const tokens = yield* UserTokenService.make({
        apiKey: key,
        baseUrl: "https://proxy.example/sfox/",
        transformClient: HttpClient.tapRequest((request) => Effect.sync(() => urls.push(request.url)))
      })
      yield* Effect.flip(tokens.create("u1"))
      assert.deepStrictEqual(urls, ["https://proxy.example/sfox/v1/enterprise/user-tokens/u1"])
    }).pipe(Effect.scoped, Effect.provide(FakeSfox.layer())))

  it.effect("numbers and durations out of range are refused", () =>
    Effect.gen(function*() {
      const refused: Array<readonly [string, Partial<UserTokenService.Options>]> = [
        ["maxBatchSize", { maxBatchSize: 0 }],
        ["maxBatchSize", { maxBatchSize: 1.5 }],
        ["batchConcurrency", { batchConcurrency: -1 }],
        ["timeout", { timeout: 0 }],
        ["deadline", { deadline: "-1 seconds" as never }],
        ["rateLimit.limit", { rateLimit: { limit: 0, interval: "1 second" } }],
        ["rateLimit.interval", { rateLimit: { limit: 1, interval: "0 millis" } }],
        ["apiKey", { apiKey: Redacted.make("") }],
        ["apiKey", { apiKey: Redacted.make("key\r\nX-Injected: 1") }],
        ["apiKey", { apiKey: "plain" as never }]
      ]
      for (const [option, options] of refused) {
        assertConfigError(yield* build(options), [`InvalidData ${option}`], JSON.stringify(options))
      }
      assert.isTrue(Exit.isSuccess(yield* build({ rateLimit: false })))
    }))

  it.effect("layerConfig reads SFOX_ENTERPRISE_API_KEY, falls back to ENTERPRISE_API_KEY, and SFOX_BASE_URL", () =>
    Effect.gen(function*() {
      const run = (env: Record<string, string>) =>
        Effect.gen(function*() {
          const fake = yield* FakeSfox
          const exit = yield* Effect.exit(Effect.flatMap(UserTokenService, (s) => s.create("u1")))
          return { exit, requests: yield* fake.requests }
        }).pipe(
          Effect.provide(UserTokenService.layerConfig({ rateLimit: false }).pipe(Layer.provideMerge(FakeSfox.layer()))),
          withEnv(env)
        )
      const primary = yield* run({ SFOX_ENTERPRISE_API_KEY: "sfox-test-key", ENTERPRISE_API_KEY: "other" })
      assert.isTrue(Exit.isSuccess(primary.exit))
      const fallback = yield* run({ ENTERPRISE_API_KEY: "sfox-test-key" })
      assert.isTrue(Exit.isSuccess(fallback.exit))
      const emptyPrimary = yield* run({ SFOX_ENTERPRISE_API_KEY: "", ENTERPRISE_API_KEY: "sfox-test-key" })
      assert.isTrue(Exit.isSuccess(emptyPrimary.exit))
    }))

  // One error that says what to set (both names: either would do), not
  // "(Missing data at SFOX_ENTERPRISE_API_KEY: "<redacted>") or (…)".
  it.effect("layerConfig without a key: one MissingData saying what to set", () =>
    Effect.gen(function*() {
      const build = (env: Record<string, string>, preserveEmptyStrings = true) =>
        Effect.exit(
          Layer.build(UserTokenService.layerConfig()).pipe(
            Effect.scoped,
            Effect.provide(FakeSfox.layer()),
            withEnv(env, { preserveEmptyStrings })
          )
        )
      const set = "set SFOX_ENTERPRISE_API_KEY (or ENTERPRISE_API_KEY) to your sFOX Enterprise API key"
      const cases: ReadonlyArray<readonly [Record<string, string>, string]> = [
        [{}, `no API key: ${set}`],
        [{ SFOX_ENTERPRISE_API_KEY: "" }, `no API key: SFOX_ENTERPRISE_API_KEY is set but empty; ${set}`],
        [
          { SFOX_ENTERPRISE_API_KEY: "", ENTERPRISE_API_KEY: "" },
          `no API key: SFOX_ENTERPRISE_API_KEY and ENTERPRISE_API_KEY are set but empty; ${set}`
        ]
      ]
      for (const [env, message] of cases) {
        const exit = yield* build(env)
        assertConfigError(exit, ["MissingData SFOX_ENTERPRISE_API_KEY"], JSON.stringify(env))
        const error = configErrorOf(exit)
        // Effect 4's ConfigError prints its SchemaError: the one message, at the one name.
        assert.strictEqual(error.message, `SchemaError(${printedAt(message, "SFOX_ENTERPRISE_API_KEY")})`)
        assert.strictEqual(String(error), `ConfigError(${error.message})`)
        assert.notInclude(Cause.pretty(Exit.isFailure(exit) ? exit.cause : Cause.empty), "<redacted>")
      }
      // Effect 4's default provider reads an empty variable as unset: the advice without the "set but empty".
      const unset = yield* build({ SFOX_ENTERPRISE_API_KEY: "" }, false)
      assertConfigError(unset, ["MissingData SFOX_ENTERPRISE_API_KEY"])
      assert.strictEqual(
        configErrorOf(unset).message,
        `SchemaError(${printedAt(`no API key: ${set}`, "SFOX_ENTERPRISE_API_KEY")})`
      )
    }))

  it.effect("a bad SFOX_BASE_URL is reported as SFOX_BASE_URL, not as the baseUrl option", () =>
    Effect.gen(function*() {
      const exit = yield* Effect.exit(
        Layer.build(UserTokenService.layerConfig()).pipe(
          Effect.scoped,
          Effect.provide(FakeSfox.layer()),
          withEnv({ SFOX_ENTERPRISE_API_KEY: "k", SFOX_BASE_URL: "http://api.sfox.com" })
        )
      )
      assertConfigError(exit, ["InvalidData SFOX_BASE_URL"])
      assert.strictEqual(
        String(configErrorOf(exit)),
        `ConfigError(SchemaError(${
          printedAt("must use https: (http: is allowed only for loopback hosts)", "SFOX_BASE_URL")
        }))`
      )
      // A base URL given in code is still the option's.
      assertConfigError(yield* build({ baseUrl: "http://api.sfox.com" }), ["InvalidData baseUrl"])
    }))

  it.effect("every bad option is reported, each naming its option, not only the first", () =>
    Effect.gen(function*() {
      const exit = yield* build({
        apiKey: "plain" as never,
        timeout: 0,
        maxBatchSize: 1.5,
        rateLimit: { limit: 0, interval: "0 millis" },
        cache: { refreshBefore: "24 hours" }
      })
      assertConfigError(exit, [
        "InvalidData apiKey",
        "InvalidData timeout",
        "InvalidData maxBatchSize",
        "InvalidData rateLimit.limit",
        "InvalidData rateLimit.interval",
        "InvalidData cache.refreshBefore"
      ])
      const printed = String(configErrorOf(exit))
      assert.include(printed, printedAt("must be a positive duration of at most 10m", "timeout"))
      assert.include(printed, printedAt("must be an integer from 1 to 100000", "maxBatchSize"))
      // The refusal names the rule, never the value.
      assert.notInclude(printed, "plain")
    }))

  it.effect("layerConfig: a bad SFOX_BASE_URL and a bad option are reported together", () =>
    Effect.gen(function*() {
      const exit = yield* Effect.exit(
        Layer.build(UserTokenService.layerConfig({ timeout: "2 hours", batchConcurrency: 0 })).pipe(
          Effect.scoped,
          Effect.provide(FakeSfox.layer()),
          withEnv({ SFOX_ENTERPRISE_API_KEY: "k", SFOX_BASE_URL: "http://api.sfox.com" })
        )
      )
      assertConfigError(exit, ["InvalidData SFOX_BASE_URL", "InvalidData timeout", "InvalidData batchConcurrency"])
    }))

  it("the User-Agent names the package version", () => {
    const pkg = JSON.parse(Fs.readFileSync(Path.join(__dirname, "..", "package.json"), "utf8"))
    assert.strictEqual(userAgent, `sfox-effect/${pkg.version}`)
  })

  it("every package is at the one version in code (sfox-tokens --version prints it)", () => {
    // The Effect 4 edition's packages (the 3.x line's test checks core, node, redis and cli).
    for (const dir of ["effect4-core", "effect4-node", "effect4-redis"]) {
      const pkg = JSON.parse(Fs.readFileSync(Path.join(__dirname, "..", "..", dir, "package.json"), "utf8"))
      assert.strictEqual(pkg.version, version, `packages/${dir}/package.json`)
    }
  })
})
