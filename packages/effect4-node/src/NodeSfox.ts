/**
 * `UserTokenService` on Node: an `HttpClient` over undici tuned for sFOX
 * (keep-alive pool, connect / header / body timeouts, a response-size
 * limit), and the service from environment configuration on top of it.
 *
 * Each layer swaps freely with any other: `NodeSfox.httpClient` is a plain
 * `Layer<HttpClient>`, usable under `UserTokenService.layer(options)` or
 * anything else that needs an `HttpClient`.
 *
 * @since 0.1.0
 */
import { UserTokenService } from "@sfox-effect/effect4-core"
import type * as Config from "effect/Config"
import type * as Duration from "effect/Duration"
import type * as Effect from "effect/Effect"
import * as HttpClient from "effect/http/HttpClient"
import * as Layer from "effect/Layer"
import type * as Scope from "effect/Scope"
import * as Internal from "./internal/undiciClient.js"

/**
 * Tuning of the undici client. Every field is optional.
 *
 * undici checks its connect, header and body timers on a clock that ticks
 * about every half second, so each fires up to a second after its nominal
 * value. They are backstops; the exact bound on an attempt is
 * `UserTokenService`'s own `timeout`.
 *
 * @example
 * ```ts
 * import { NodeSfox } from "@sfox-effect/effect4-node"
 *
 * // Batches of 5,000 tokens: a larger body limit, more time for the body.
 * const bigBatches: NodeSfox.HttpClientOptions = {
 *   maxResponseBytes: 4 * 1024 * 1024,
 *   bodyTimeout: "60 seconds",
 *   connections: 8
 * }
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface HttpClientOptions {
  /**
   * Time allowed to open a connection (TCP, and TLS for `https:`).
   * @default "5 seconds"
   */
  readonly connectTimeout?: Duration.Input | undefined
  /**
   * Time allowed from sending a request to receiving all of the answer's
   * headers. `Duration.infinity` disables it.
   * @default "30 seconds"
   */
  readonly headersTimeout?: Duration.Input | undefined
  /**
   * Longest silence allowed between two pieces of a body.
   * `Duration.infinity` disables it.
   * @default "30 seconds"
   */
  readonly bodyTimeout?: Duration.Input | undefined
  /**
   * Largest answer body accepted, in bytes. A bigger one fails with an
   * `HttpClientError` (reason `DecodeError`) whose cause has the code
   * `"SFOX_RESPONSE_TOO_LARGE"` (declared by `Content-Length`) or
   * `"UND_ERR_RES_EXCEEDED_MAX_SIZE"` (found while reading), which `UserTokenService` reports as
   * `TransportError` with reason `"TooLarge"`. The default holds a batch of
   * 1,000 tokens (about 150 KB) several times over. Response headers have
   * their own limit, undici's (16 KiB, Node's `--max-http-header-size`):
   * headers over it fail with `UND_ERR_HEADERS_OVERFLOW`, reported as
   * `TransportError` `"TooLarge"` as well and never retried.
   * @default 1048576 (1 MiB)
   */
  readonly maxResponseBytes?: number | undefined
  /**
   * Most connections open to one origin at once; more requests wait for a
   * free one. `Infinity` for no limit.
   * @default 32
   */
  readonly connections?: number | undefined
  /**
   * How long an idle connection is kept for reuse when the server does not
   * say (`Keep-Alive: timeout=` from the server is honoured, up to a minute).
   * @default "10 seconds"
   */
  readonly keepAliveTimeout?: Duration.Input | undefined
  /**
   * Effect's `HttpClient` span for every HTTP request (method, URL, status,
   * header names; under `UserTokenService` every header value is redacted,
   * since a server may echo the key or a token in any header). Off by default: `UserTokenService` already opens a
   * span per call and per attempt, and Effect's span costs more than
   * the rest of the client together.
   * @default false
   */
  readonly tracing?: boolean | undefined
  /**
   * The HTTP proxy requests go through.
   *
   * - `undefined` (the default): the environment's, as undici's
   *   `EnvHttpProxyAgent` reads it — `https_proxy`/`HTTPS_PROXY` for
   *   `https:` targets, `http_proxy`/`HTTP_PROXY` for `http:` ones (and for
   *   `https:` ones when no HTTPS proxy is set), `no_proxy`/`NO_PROXY` for
   *   the hosts (`host`, `.domain`, `host:port`, `*`) that bypass it; the
   *   lower-case name wins, and an empty one counts as unset. The variables
   *   are read once, when the layer is built, through Effect's
   *   `ConfigProvider` (unless the program sets another, the process
   *   environment as Effect's default provider saw it at the program's first
   *   read of configuration), so `NodeSfox.layer` takes them from where it
   *   takes the key. With none of them set, the client is the plain direct
   *   one and pays nothing for proxy support.
   * - a URL: that proxy for every request, whatever the environment says.
   * - `false`: no proxy, whatever the environment says.
   *
   * An `https:` target (sFOX itself) is reached through a `CONNECT` tunnel:
   * the proxy sees the host and port, never the key, the request or the
   * tokens. An `http:` target (only loopback is allowed) is sent to the
   * proxy as a forward request, which the proxy reads whole, key included.
   * The connection, header and body timeouts, `connections` and
   * `maxResponseBytes` apply through the proxy as well. Credentials for
   * the proxy go in its URL (`http://user:password@proxy:3128`).
   *
   * @example
   * ```ts
   * import { NodeSfox } from "@sfox-effect/effect4-node"
   *
   * // Through the corporate proxy, whatever the environment says.
   * const ViaProxy = NodeSfox.httpClientWith({ proxy: "http://proxy.internal:3128" })
   * // Straight to sFOX even when HTTPS_PROXY is set.
   * const Direct = NodeSfox.httpClientWith({ proxy: false })
   * ```
   *
   * @since 0.2.0
   */
  readonly proxy?: string | URL | false | undefined
}

/**
 * The values `HttpClientOptions` falls back to.
 *
 * @example
 * ```ts
 * import { NodeSfox } from "@sfox-effect/effect4-node"
 *
 * // Twice the default limit, whatever the default is.
 * const Client = NodeSfox.httpClientWith({ maxResponseBytes: NodeSfox.defaults.maxResponseBytes * 2 })
 * ```
 *
 * @since 0.1.0
 * @category constants
 */
export const defaults: {
  readonly connectTimeout: Duration.Duration
  readonly headersTimeout: Duration.Duration
  readonly bodyTimeout: Duration.Duration
  readonly maxResponseBytes: number
  readonly connections: number
  readonly keepAliveTimeout: Duration.Duration
} = Internal.defaults

/**
 * The error code of an answer refused because its `Content-Length` is over
 * `maxResponseBytes`.
 *
 * @example
 * ```ts
 * import { NodeSfox } from "@sfox-effect/effect4-node"
 *
 * // Under UserTokenService this arrives as TransportError "TooLarge"; with the
 * // bare client, it is the code of the `HttpClientError`'s cause.
 * const isTooLarge = (cause: unknown): boolean =>
 *   typeof cause === "object" && cause !== null && "code" in cause && cause.code === NodeSfox.responseTooLargeCode
 * ```
 *
 * @since 0.1.0
 * @category constants
 */
export const responseTooLargeCode: "SFOX_RESPONSE_TOO_LARGE" = Internal.tooLargeCode

/**
 * The undici client as a scoped value: its connection pool is destroyed when
 * the scope closes. Fails with a `ConfigError` naming every bad option (and
 * a bad proxy variable) when it is built.
 *
 * @example
 * ```ts
 * import { NodeSfox } from "@sfox-effect/effect4-node"
 * import { UserTokenService } from "@sfox-effect/effect4-core"
 * import { HttpClient } from "effect/http"
 * import { Effect, Redacted } from "effect"
 *
 * // One client, built in the program's own scope, for the service and our other calls.
 * const program = Effect.gen(function*() {
 *   const client = yield* NodeSfox.makeHttpClient({ connectTimeout: "2 seconds" })
 *   const tokens = yield* UserTokenService.make({ apiKey: Redacted.make("my-enterprise-key") }).pipe(
 *     Effect.provideService(HttpClient.HttpClient, client)
 *   )
 *   return yield* tokens.create("user-1")
 * }).pipe(Effect.scoped)
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const makeHttpClient: (
  options?: HttpClientOptions
) => Effect.Effect<HttpClient.HttpClient, Config.ConfigError, Scope.Scope> = (options) => Internal.make(options)

/**
 * The undici `HttpClient` with custom tuning. Building it fails with a
 * `ConfigError` naming every bad option, and a bad proxy variable
 * (`HTTPS_PROXY`, …) when `proxy` is unset.
 *
 * @example
 * ```ts
 * import { NodeSfox } from "@sfox-effect/effect4-node"
 * import { UserTokenService } from "@sfox-effect/effect4-core"
 * import { Layer, Redacted } from "effect"
 *
 * const Tokens = UserTokenService.layer({ apiKey: Redacted.make("key"), maxBatchSize: 1000 }).pipe(
 *   Layer.provide(NodeSfox.httpClientWith({ connectTimeout: "2 seconds", maxResponseBytes: 2 * 1024 * 1024 }))
 * )
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const httpClientWith = (
  options: HttpClientOptions
): Layer.Layer<HttpClient.HttpClient, Config.ConfigError> => Layer.effect(HttpClient.HttpClient, Internal.make(options))

/**
 * The undici `HttpClient` with the default tuning (see `defaults`). With no
 * option to be wrong it keeps an error-free type: a proxy variable that is
 * not a URL (`HTTPS_PROXY=nope`) is a defect here, and a `ConfigError` from
 * `httpClientWith`, `layer` and `layerWith`.
 *
 * @example
 * ```ts
 * import { NodeSfox } from "@sfox-effect/effect4-node"
 * import { UserTokenService } from "@sfox-effect/effect4-core"
 * import { Layer, Redacted } from "effect"
 *
 * const Tokens = UserTokenService.layer({ apiKey: Redacted.make("my-enterprise-key") }).pipe(
 *   Layer.provide(NodeSfox.httpClient)
 * )
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const httpClient: Layer.Layer<HttpClient.HttpClient> = Layer.orDie(httpClientWith({}))

/**
 * `UserTokenService` from environment configuration (`SFOX_ENTERPRISE_API_KEY`
 * or `ENTERPRISE_API_KEY`, and `SFOX_BASE_URL`) over `httpClient`.
 *
 * @example
 * ```ts
 * import { NodeSfox } from "@sfox-effect/effect4-node"
 * import { UserTokenService } from "@sfox-effect/effect4-core"
 * import { Effect } from "effect"
 *
 * const program = Effect.gen(function*() {
 *   const tokens = yield* UserTokenService
 *   return yield* tokens.create("156c5beb-7c9f-4f68-83c0-9479703ac490")
 * }).pipe(Effect.provide(NodeSfox.layer))
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layer: Layer.Layer<UserTokenService, Config.ConfigError> = UserTokenService.layerConfig().pipe(
  Layer.provide(httpClientWith({}))
)

/**
 * `layer` with service options (as for `UserTokenService.layerConfig`) and
 * client tuning.
 *
 * @example
 * ```ts
 * import { NodeSfox } from "@sfox-effect/effect4-node"
 *
 * const Tokens = NodeSfox.layerWith({
 *   service: { cache: true, timeout: "5 seconds" },
 *   http: { connections: 64 }
 * })
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layerWith = (
  options: {
    readonly service?: UserTokenService.ConfigOptions | undefined
    readonly http?: HttpClientOptions | undefined
  } = {}
): Layer.Layer<UserTokenService, Config.ConfigError> =>
  UserTokenService.layerConfig(options.service).pipe(Layer.provide(httpClientWith(options.http ?? {})))
