import * as HttpClient from "effect/http/HttpClient"
import * as HttpClientError from "effect/http/HttpClientError"
import type * as HttpClientRequest from "effect/http/HttpClientRequest"
import type * as HttpClientResponse from "effect/http/HttpClientResponse"
import * as ClientProtocol from "@sfox-effect/effect4-core/internal/clientProtocol"
import * as OptionSchema from "@sfox-effect/effect4-core/internal/optionSchema"
import * as Config from "effect/Config"
import * as ConfigError from "effect/ConfigError"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Exit from "effect/Exit"
import * as Option from "effect/Option"
import type * as Scope from "effect/Scope"
import * as Undici from "undici"
import type { HttpClientOptions } from "../NodeSfox.js"
import * as Exchange from "./exchange.js"
import * as NodeOptions from "./httpClientOptions.js"
import * as RequestTarget from "./requestTarget.js"

/** Options as the user gives them; documented on the public type. */
export type Options = HttpClientOptions

export { defaults } from "./httpClientOptions.js"

export { ResponseTooLargeError, tooLargeCode } from "./undiciResponse.js"

type Resolved = NodeOptions.Settings

/**
 * The proxy variables as undici's `EnvHttpProxyAgent` reads them: the
 * lower-case name first, and an empty value counts as set (and disables).
 */
interface ProxyEnv {
  readonly httpProxy: string
  readonly httpsProxy: string
  readonly noProxy: string
}

const isProxyUrl = (value: string): boolean => {
  try {
    const url = new URL(value)
    return url.protocol === "http:" || url.protocol === "https:"
  } catch {
    return false
  }
}

/**
 * The lower-case variable when set, else the upper-case one, else "". A
 * proxy URL that does not parse is a `ConfigError` naming the variable read,
 * never its value (which may hold the proxy's password); undici would
 * otherwise throw when the client is built, or send everything direct.
 */
const variable = (lower: string, upper: string, isUrl: boolean): Config.Config<string> =>
  Config.all([Config.option(Config.string(lower)), Config.option(Config.string(upper))]).pipe(
    Config.mapOrFail(([fromLower, fromUpper]) => {
      const [name, value] = Option.isSome(fromLower)
        ? [lower, fromLower.value]
        : Option.isSome(fromUpper)
        ? [upper, fromUpper.value]
        : [upper, ""]
      return !isUrl || value === "" || isProxyUrl(value)
        ? Either.right(value)
        : Either.left(ConfigError.InvalidData(
          [name],
          `${name} must be an http: or https: URL such as http://proxy.example:3128 (its value is not shown: it may hold a password)`
        ))
    })
  )

/**
 * Read through Effect's `ConfigProvider` (the process environment unless the
 * program says otherwise), so that `NodeSfox.layer` takes the proxy from the
 * same place as the key and the base URL.
 */
export const proxyEnv: Config.Config<ProxyEnv> = Config.all({
  httpProxy: variable("http_proxy", "HTTP_PROXY", true),
  httpsProxy: variable("https_proxy", "HTTPS_PROXY", true),
  noProxy: variable("no_proxy", "NO_PROXY", false)
})

/** What decides the dispatcher: no proxy, one for every request, or the environment's. */
type Route =
  | { readonly _tag: "Direct" }
  | { readonly _tag: "Fixed"; readonly uri: string }
  | { readonly _tag: "Env"; readonly env: ProxyEnv }

const route = (proxy: Resolved["proxy"]): Effect.Effect<Route, ConfigError.ConfigError> => {
  if (proxy === false) return Effect.succeed({ _tag: "Direct" })
  if (proxy !== undefined) return Effect.succeed({ _tag: "Fixed", uri: proxy })
  return Effect.map(
    proxyEnv,
    (env): Route => env.httpProxy === "" && env.httpsProxy === "" ? { _tag: "Direct" } : { _tag: "Env", env }
  )
}

/** Test-only TLS settings (a private CA); not part of the public options. */
export interface Tls {
  readonly ca?: string | Buffer | undefined
}

/** The code of a tunnel the proxy closed before it was open (core's transport mapping reads it as `Connect`). */
const tunnelClosedCode = "SFOX_PROXY_TUNNEL_CLOSED"

/**
 * The proxy closed the connection before answering `CONNECT`. Nothing was
 * sent to the origin: nothing can have been acted on.
 */
class ProxyTunnelClosedError extends Error {
  readonly code = tunnelClosedCode
  constructor(cause: unknown) {
    super("the proxy closed the connection before the tunnel was open", { cause })
    this.name = "ProxyTunnelClosedError"
  }
}

// A connection closed under a request: undici's own codes for it, and Node's.
const closedCodes = new Set(["UND_ERR_SOCKET", "UND_ERR_INFO", "ECONNRESET", "EPIPE", "ECONNABORTED"])

/** What a failed `CONNECT` exchange fails the requests waiting for its tunnel with. */
const tunnelFailure = (error: unknown, connectTimeout: number): unknown => {
  const code = (error as { code?: unknown } | null)?.code
  if (typeof code !== "string") return error
  if (closedCodes.has(code)) return new ProxyTunnelClosedError(error)
  return code === "UND_ERR_HEADERS_TIMEOUT"
    ? new Undici.errors.ConnectTimeoutError(`the proxy did not answer CONNECT within ${connectTimeout} ms`)
    : error
}

type ConnectCallback = (err: Error | null, data: Undici.Dispatcher.ConnectData) => void

/**
 * The pool to a proxy, through which `ProxyAgent` opens its `CONNECT` tunnels
 * (and nothing else: forwarded `http:` requests go through a pool of their own).
 *
 * `ProxyAgent` hands a tunnel that failed to the origin's pool as that
 * pool's connection error, and the pool takes the one a proxy that drops the
 * connection gives (`UND_ERR_SOCKET`, "other side closed") for a blip of a
 * live connection: it keeps the requests waiting for a connection and dials
 * again at once, without end, while any is waiting. An ended attempt's
 * request waits on (undici cannot take a request out of a queue before it is
 * written, see exchange.ts), so behind a proxy that accepts and drops every
 * connection one failed call left the client dialling it over a thousand
 * times a second for as long as it lived (undici's `ProxyAgent` alone does
 * the same: it ignores `AbortSignal` there). So a tunnel closed before it
 * opened fails here with a code of its own, which the origin's pool takes as
 * final: the requests waiting for it fail at once, typed (`Connect`: none
 * was sent), and whether to try again is the caller's retry policy's call,
 * one tunnel per attempt. Other failures (refused, a certificate) keep their
 * code: the pool takes them as final already.
 *
 * The `CONNECT` answer is awaited for `connectTimeout`, as a direct
 * connection is, rather than `headersTimeout`: a proxy that accepts and
 * never answers holds a waiting request no longer than a host that never
 * answers does. It is the pool's own header timer, not an abort: undici
 * reconnects once after an aborted request, which here would open another
 * connection to the silent proxy after the call had failed.
 */
const proxyPool = (origin: URL, options: Undici.Pool.Options, connectTimeout: number): Undici.Pool => {
  const pool = new Undici.Pool(origin, { ...options, headersTimeout: connectTimeout })
  const connect = pool.connect.bind(pool) as (
    options: Undici.Dispatcher.ConnectOptions,
    callback?: ConnectCallback
  ) => Promise<Undici.Dispatcher.ConnectData> | undefined
  const tunnel = (options: Undici.Dispatcher.ConnectOptions, callback?: ConnectCallback) =>
    callback === undefined
      ? connect(options)!.catch((error: unknown) => {
        throw tunnelFailure(error, connectTimeout)
      })
      : connect(options, (error, data) => callback(error && (tunnelFailure(error, connectTimeout) as Error), data))
  pool.connect = tunnel as typeof pool.connect
  return pool
}

/**
 * Without a proxy: the plain `Agent`, as before proxies were supported (the
 * benchmark's path). Through one, the same pool settings reach every pool
 * undici builds: the pools to sFOX inside a tunnel, and the pools to the proxy
 * itself (one for forwarded `http:` requests, one for `CONNECT`: `proxyPool`).
 */
const dispatcherOf = (settings: Resolved, route: Route, tls: Tls): Undici.Dispatcher => {
  const pool = {
    headersTimeout: settings.headersTimeout,
    bodyTimeout: settings.bodyTimeout,
    keepAliveTimeout: settings.keepAliveTimeout,
    // A server's `Keep-Alive: timeout=` hint is honoured up to this.
    keepAliveMaxTimeout: Math.max(settings.keepAliveTimeout, 60_000),
    connections: settings.connections,
    // The wire-level guard for bodies without a `Content-Length`
    // (chunked): undici drops the connection once the body passes it.
    maxResponseSize: settings.maxResponseBytes
  }
  if (route._tag === "Direct") {
    return new Undici.Agent({ connect: { timeout: settings.connectTimeout, ...tls }, ...pool })
  }
  const proxied = {
    ...pool,
    // The proxy's own connection, then the TLS handshake with sFOX inside the tunnel.
    proxyTls: { timeout: settings.connectTimeout },
    requestTls: { timeout: settings.connectTimeout, ...tls },
    // `http:` targets (loopback only) go as forward requests, as most proxies
    // expect; `https:` ones always through a CONNECT tunnel, whatever this says.
    proxyTunnel: false,
    factory: (origin: string | URL, options: object) => new Undici.Pool(origin, { ...pool, ...options }),
    // The pool that opens the tunnels: see `proxyPool`.
    clientFactory: (origin: URL, options: object) => proxyPool(origin, { ...pool, ...options }, settings.connectTimeout)
  }
  return route._tag === "Fixed"
    ? new Undici.ProxyAgent({ ...proxied, uri: route.uri })
    // Passed explicitly (empty when unset) so that undici does not read
    // process.env behind the ConfigProvider's back.
    : new Undici.EnvHttpProxyAgent({ ...proxied, ...route.env })
}

/**
 * A pool of keep-alive connections per origin, destroyed with the scope.
 * Options are checked when the layer is built rather than on the first
 * request: every bad one, and a bad proxy variable, in one `ConfigError`.
 */
export const make = (
  options: Options = {},
  tls: Tls = {}
): Effect.Effect<HttpClient.HttpClient, ConfigError.ConfigError, Scope.Scope> =>
  Effect.map(
    Effect.acquireRelease(
      Effect.flatMap(settingsAndRoute(options), ({ route, settings }) =>
        Effect.sync(() => ({ agent: dispatcherOf(settings, route, tls), settings }))),
      // Destroy, not close: by the time the scope closes nobody is waiting
      // for an answer, and a hung request must not hold the scope open.
      ({ agent }) =>
        Effect.promise(() => agent.destroy().catch(() => undefined))
    ),
    ({ agent, settings }) => fromAgent(agent, settings.maxResponseBytes, settings.tracing)
  )

/** The options and the proxy variables (read only when `proxy` is unset), every bad value reported at once. */
const settingsAndRoute = (
  options: Options
): Effect.Effect<{ readonly settings: Resolved; readonly route: Route }, ConfigError.ConfigError> => {
  const settings = NodeOptions.decode(options)
  const proxy = Either.isRight(settings) ? settings.right.proxy : (options as { proxy?: unknown }).proxy
  return Effect.flatMap(
    proxy === undefined ? Effect.either(route(undefined)) : Effect.succeed(Either.right<Route>({ _tag: "Direct" })),
    (env) => {
      const failed = OptionSchema.allFailures([settings, env])
      if (failed !== undefined) return Effect.fail(failed)
      const decoded = (settings as Either.Right<never, Resolved>).right
      return Effect.map(route(decoded.proxy), (route) => ({ settings: decoded, route }))
    }
  )
}

/**
 * An `HttpClient` over a dispatcher someone else owns.
 *
 * Without `tracing`, requests skip @effect/platform's `HttpClient.make`: its
 * span (a dozen attributes and a header-redaction pass per request) and its
 * response wrapper were most of the client's cost in the benchmark. What it
 * does that matters is kept: interruption aborts the request (and a body
 * being read), and a response dropped with its body still arriving releases
 * its connection when collected. This client also ends the service's
 * attempts at their deadline itself (`AttemptDeadline`), by aborting the
 * request. With `tracing`, the platform's spans are back, and the service
 * races the attempts against a timer as for any client; requests go the same
 * way (`internal/exchange.ts`), aborted by the platform's signal as well.
 */
export const fromAgent = (
  dispatcher: Undici.Dispatcher,
  maxResponseBytes: number,
  tracing = false
): HttpClient.HttpClient => {
  if (tracing) {
    return HttpClient.make((request, url, signal) =>
      Exchange.send(dispatcher, maxResponseBytes, request, RequestTarget.targetOf(url), signal, undefined, false)
    )
  }
  const targets = new RequestTarget.Targets()
  const send = (
    request: HttpClientRequest.HttpClientRequest
  ): Effect.Effect<HttpClientResponse.HttpClientResponse, HttpClientError.RequestError> => {
    let target: RequestTarget.Target
    try {
      target = targets.of(request)
    } catch (cause) {
      return Effect.fail(new HttpClientError.RequestError({ request, reason: "InvalidUrl", cause }))
    }
    return Effect.withFiberRuntime((fiber) => {
      const deadline = ClientProtocol.unsafeCurrent(fiber)
      return Exchange.send(dispatcher, maxResponseBytes, request, target, undefined, deadline, true)
    })
  }
  // Follows no redirect (undici's `dispatch` does not) and records nothing: a plain client.
  return ClientProtocol.declare(ClientProtocol.enforcedBy(HttpClient.makeWith(
    (effect) =>
      // The request as `execute` hands it (no `mapRequest` in front) is taken as it is, without a step of the fiber.
      Exit.isExit(effect) && Exit.isSuccess(effect)
        ? send(effect.value as HttpClientRequest.HttpClientRequest)
        : Effect.flatMap(effect, send),
    Effect.succeed as HttpClient.HttpClient.Preprocess<never, never>
  )))
}
