/**
 * `NodeSfox`'s client through an HTTP proxy, over real sockets: a recording
 * proxy (test/utils/proxy.ts) between the client and MockSfoxServer, reached
 * as `http:` (a forward request) or as `https:` through a TLS front (a
 * `CONNECT` tunnel). The Effect 4 edition's twin of test/NodeSfox.proxy.test.ts.
 */
import { assert, describe, it } from "@effect/vitest"
import { UserTokenService } from "@sfox-effect/effect4-core"
import { Fault } from "@sfox-effect/effect4-core/testing"
import { NodeSfox } from "@sfox-effect/effect4-node"
import { MockSfoxServer } from "@sfox-effect/effect4-node/testing"
import { Cause, ConfigProvider, Context, Effect, Exit, Layer, Redacted, type Scope } from "effect"
import { HttpClient } from "effect/http"
import { assertConfigError, configErrorOf, configLeaves } from "../packages/effect4-core/test/utils/configError.js"
import * as Internal from "../packages/effect4-node/src/internal/undiciClient.js"
import { closedPort, expectTag, fastRetry, leakFree } from "./utils/harness.js"
import { makeProxy, makeTlsFront, testCertificate } from "./utils/proxy.js"

const KEY = "sk-proxy-test-5d21e08c9b"

const PROXY_VARIABLES = ["http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "no_proxy", "NO_PROXY"] as const

/**
 * Runs `effect` with exactly `variables` as the proxy environment (every
 * other proxy variable unset, whatever the machine has), then puts
 * `process.env` back as it was. Effect 4's default ConfigProvider snapshots
 * process.env at the process's first config read: `effect` gets a fresh one,
 * which reads the variables just set.
 */
const withProxyEnv = <A, E, R>(
  variables: Partial<Record<(typeof PROXY_VARIABLES)[number], string>>,
  effect: Effect.Effect<A, E, R>
) =>
  Effect.acquireUseRelease(
    Effect.sync(() => {
      const saved = PROXY_VARIABLES.map((name) => [name, process.env[name]] as const)
      for (const name of PROXY_VARIABLES) delete process.env[name]
      Object.assign(process.env, variables)
      return saved
    }),
    () => Effect.provideService(effect, ConfigProvider.ConfigProvider, ConfigProvider.fromEnv()),
    (saved) =>
      Effect.sync(() => {
        for (const [name, value] of saved) {
          if (value === undefined) delete process.env[name]
          else process.env[name] = value
        }
      })
  )

/** Runs `effect` with only `env` as its configuration (no variable of the machine running the tests). */
const withEnv = (env: Record<string, string>) => <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.provideService(effect, ConfigProvider.ConfigProvider, ConfigProvider.fromEnv({ env }))

/** A MockSfoxServer and a recording proxy, both closed with the scope. */
const setup = Effect.gen(function*() {
  const context = yield* Layer.build(MockSfoxServer.layer({ apiKey: KEY }))
  return { server: Context.get(context, MockSfoxServer), proxy: yield* makeProxy }
})

const mint = (client: HttpClient.HttpClient, baseUrl: string, userId = "u1") =>
  Effect.gen(function*() {
    const tokens = yield* Effect.orDie(UserTokenService.make({
      apiKey: Redacted.make(KEY),
      baseUrl,
      timeout: "2 seconds",
      retry: fastRetry,
      rateLimit: false
    }))
    return yield* tokens.create(userId)
  }).pipe(Effect.provideService(HttpClient.HttpClient, client))

/** Every test: its sockets and servers closed with it, none left behind. */
const live = <A, E>(effect: Effect.Effect<A, E, Scope.Scope>) => leakFree(Effect.scoped(effect))

describe("NodeSfox.httpClient through a proxy, http: target (forward request)", () => {
  it.live("`proxy` option: the mint succeeds and the proxy forwarded it, key included (plain http)", () =>
    live(Effect.gen(function*() {
      const { proxy, server } = yield* setup
      const client = yield* NodeSfox.makeHttpClient({ proxy: proxy.url })
      const token = yield* mint(client, server.url)
      assert.strictEqual(token.userId, "u1")
      assert.strictEqual(proxy.forwarded.length, 1)
      assert.strictEqual(proxy.forwarded[0]!.method, "POST")
      assert.strictEqual(proxy.forwarded[0]!.url, `${server.url}/v1/enterprise/user-tokens/u1`)
      // What the documentation warns of: a forward proxy reads an http: request whole.
      assert.strictEqual(proxy.forwarded[0]!.headers.authorization, `Bearer ${KEY}`)
      assert.deepStrictEqual(proxy.connects, [])
      assert.strictEqual((yield* server.requests)[0]!.authorization, "valid")
    })))

  it.live("`proxy` as a URL object: sequential calls all go through it", () =>
    live(Effect.gen(function*() {
      const { proxy, server } = yield* setup
      const client = yield* NodeSfox.makeHttpClient({ proxy: new URL(proxy.url) })
      for (const id of ["a", "b", "c"]) assert.strictEqual((yield* mint(client, server.url, id)).userId, id)
      assert.deepStrictEqual(proxy.forwarded.map((request) => request.url.split("/").at(-1)), ["a", "b", "c"])
    })))

  it.live("HTTP_PROXY: read when the client is built, and used after the variable is gone", () =>
    live(Effect.gen(function*() {
      const { proxy, server } = yield* setup
      const client = yield* withProxyEnv({ HTTP_PROXY: proxy.url }, NodeSfox.makeHttpClient())
      const token = yield* mint(client, server.url)
      assert.strictEqual(token.userId, "u1")
      assert.deepStrictEqual(proxy.forwarded.map((request) => request.url), [
        `${server.url}/v1/enterprise/user-tokens/u1`
      ])
    })))

  it.live("http_proxy (lower case) wins over HTTP_PROXY, as in undici and curl", () =>
    live(Effect.gen(function*() {
      const { proxy, server } = yield* setup
      const nobody = `http://127.0.0.1:${yield* closedPort}`
      const client = yield* withProxyEnv({ http_proxy: proxy.url, HTTP_PROXY: nobody }, NodeSfox.makeHttpClient())
      assert.strictEqual((yield* mint(client, server.url)).userId, "u1")
      assert.strictEqual(proxy.forwarded.length, 1)
    })))

  it.live("NodeSfox.layer reads HTTP_PROXY from the ConfigProvider that gives it the key", () =>
    live(Effect.gen(function*() {
      const { proxy, server } = yield* setup
      const token = yield* Effect.flatMap(UserTokenService, (tokens) => tokens.create("u1")).pipe(
        Effect.provide(NodeSfox.layer),
        withEnv({ SFOX_ENTERPRISE_API_KEY: KEY, SFOX_BASE_URL: server.url, HTTP_PROXY: proxy.url }),
        (effect) => withProxyEnv({}, effect)
      )
      assert.strictEqual(token.userId, "u1")
      assert.strictEqual(proxy.forwarded.length, 1)
    })))

  it.live("NO_PROXY covering the target: straight to it, the proxy sees nothing", () =>
    live(Effect.gen(function*() {
      const { proxy, server } = yield* setup
      const client = yield* withProxyEnv(
        { HTTP_PROXY: proxy.url, HTTPS_PROXY: proxy.url, NO_PROXY: "example.com, 127.0.0.1" },
        NodeSfox.makeHttpClient()
      )
      assert.strictEqual((yield* mint(client, server.url)).userId, "u1")
      assert.strictEqual((yield* server.requests).length, 1)
      assert.deepStrictEqual([proxy.forwarded, proxy.connects], [[], []])
    })))

  it.live("NO_PROXY for another port of the host: still through the proxy", () =>
    live(Effect.gen(function*() {
      const { proxy, server } = yield* setup
      const other = (Number(new URL(server.url).port) % 65535) + 1
      const client = yield* withProxyEnv(
        { HTTP_PROXY: proxy.url, NO_PROXY: `127.0.0.1:${other}` },
        NodeSfox.makeHttpClient()
      )
      assert.strictEqual((yield* mint(client, server.url)).userId, "u1")
      assert.strictEqual(proxy.forwarded.length, 1)
    })))

  it.live("`proxy: false` ignores HTTP_PROXY and HTTPS_PROXY", () =>
    live(Effect.gen(function*() {
      const { proxy, server } = yield* setup
      const client = yield* withProxyEnv(
        { HTTP_PROXY: proxy.url, HTTPS_PROXY: proxy.url },
        NodeSfox.makeHttpClient({ proxy: false })
      )
      assert.strictEqual((yield* mint(client, server.url)).userId, "u1")
      assert.strictEqual((yield* server.requests).length, 1)
      assert.deepStrictEqual([proxy.forwarded, proxy.connects], [[], []])
    })))

  it.live("maxResponseBytes still applies through the proxy: TooLarge", () =>
    live(Effect.gen(function*() {
      const { proxy, server } = yield* setup
      const client = yield* NodeSfox.makeHttpClient({ proxy: proxy.url, maxResponseBytes: 16 * 1024 })
      yield* server.enqueue(Fault.oversize(64 * 1024))
      const error = expectTag(yield* Effect.flip(mint(client, server.url)), "TransportError")
      assert.strictEqual(error.reason, "TooLarge")
      assert.strictEqual(proxy.forwarded.length, 1)
    })))

  it.live("a proxy nobody listens on: TransportError Connect", () =>
    live(Effect.gen(function*() {
      const { server } = yield* setup
      const client = yield* NodeSfox.makeHttpClient({ proxy: `http://127.0.0.1:${yield* closedPort}` })
      const error = expectTag(yield* Effect.flip(mint(client, server.url)), "TransportError")
      assert.strictEqual(error.reason, "Connect", error.message)
      assert.strictEqual((yield* server.requests).length, 0)
    })))

  it.effect("a proxy variable that is not an http(s) URL: NodeSfox.layer fails with a ConfigError naming it, not its value", () =>
    Effect.gen(function*() {
      for (
        const [variables, named] of [
          [{ HTTPS_PROXY: "http://user:s3cret@proxy.internal:3128 not a url" }, "HTTPS_PROXY"],
          [{ https_proxy: "proxy.internal:3128", HTTPS_PROXY: "http://proxy.internal:3128" }, "https_proxy"],
          [{ HTTP_PROXY: "socks5://proxy.internal:1080" }, "HTTP_PROXY"]
        ] as const
      ) {
        const error = yield* Layer.build(NodeSfox.layer).pipe(
          Effect.scoped,
          withEnv({ SFOX_ENTERPRISE_API_KEY: KEY, ...variables }),
          Effect.flip
        )
        // One bad value (3.x: a ConfigError whose `_op` is InvalidData).
        assert.deepStrictEqual(configLeaves(error).map((leaf) => leaf.split(" ")[0]), ["InvalidData"], String(error))
        assert.include(String(error), named)
        assert.include(String(error), "must be an http: or https: URL")
        assert.notInclude(String(error), "s3cret")
        assert.notInclude(String(error), "proxy.internal")
      }
      // The client layer alone keeps its error-free type: the same message, as a defect.
      const exit = yield* Layer.build(NodeSfox.httpClient).pipe(
        Effect.scoped,
        withEnv({ HTTPS_PROXY: "nope" }),
        Effect.exit
      )
      assert.isTrue(Exit.isFailure(exit) && Cause.hasDies(exit.cause))
      assert.include(
        Cause.pretty((exit as Exit.Failure<never, never>).cause),
        "HTTPS_PROXY must be an http: or https: URL"
      )
    }))

  it.live("a `proxy` that is not a URL is a ConfigError naming it when the client is built, its value unshown", () =>
    Effect.gen(function*() {
      const exit = yield* Effect.exit(Effect.scoped(NodeSfox.makeHttpClient({ proxy: "not a url s3cret" })))
      assertConfigError(exit, ["InvalidData proxy"])
      // Effect 4 renders the ConfigError through its SchemaError: the message, then the path.
      assert.strictEqual(
        String(configErrorOf(exit)),
        `ConfigError(SchemaError(must be a URL, false or undefined\n  at ["proxy"]))`
      )
    }))
})

describe("NodeSfox.httpClient through a proxy, https: target (CONNECT tunnel)", () => {
  for (
    const [name, build] of [
      ["`proxy` option", (proxy: string) => Internal.make({ proxy }, { ca: testCertificate.cert })],
      [
        "HTTPS_PROXY",
        (proxy: string) => withProxyEnv({ HTTPS_PROXY: proxy }, Internal.make({}, { ca: testCertificate.cert }))
      ]
    ] as const
  ) {
    it.live(`${name}: only CONNECT 127.0.0.1:<port> is seen; neither the key nor the token crosses in clear`, () =>
      live(Effect.gen(function*() {
        const { proxy, server } = yield* setup
        const origin = yield* makeTlsFront(server.url)
        const client = yield* build(proxy.url)
        const token = yield* mint(client, origin)
        assert.strictEqual(token.userId, "u1")
        assert.strictEqual((yield* server.requests)[0]!.authorization, "valid")

        assert.deepStrictEqual(proxy.connects.map((connect) => connect.target), [`127.0.0.1:${new URL(origin).port}`])
        assert.isUndefined(proxy.connects[0]!.headers.authorization)
        assert.deepStrictEqual(proxy.forwarded, [])
        const tunnelled = proxy.tunnelled()
        // Something did cross (the TLS records), and none of it in clear.
        assert.isAbove(tunnelled.length, 0)
        for (const secret of [KEY, Redacted.value(token.token), "user-tokens", "uthorization"]) {
          assert.strictEqual(tunnelled.indexOf(secret), -1, `"${secret}" crossed the proxy in clear`)
        }
      })))
  }

  it.live("an https: origin the client does not trust: TransportError Tls, one tunnel, nothing sent to sFOX", () =>
    live(Effect.gen(function*() {
      const { proxy, server } = yield* setup
      const origin = yield* makeTlsFront(server.url)
      const client = yield* NodeSfox.makeHttpClient({ proxy: proxy.url })
      const error = expectTag(yield* Effect.flip(mint(client, origin)), "TransportError")
      assert.strictEqual(error.reason, "Tls", error.message)
      // A refused certificate would be refused again: not retried, so one tunnel only.
      assert.strictEqual(proxy.connects.length, 1)
      assert.strictEqual((yield* server.requests).length, 0)
    })))
})
