import * as ClientProtocol from "@sfox-effect/effect4-core/internal/clientProtocol"
import * as OptionSchema from "@sfox-effect/effect4-core/internal/optionSchema"
import * as Config from "effect/Config"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as HttpClient from "effect/http/HttpClient"
import * as HttpClientError from "effect/http/HttpClientError"
import type * as HttpClientRequest from "effect/http/HttpClientRequest"
import type * as HttpClientResponse from "effect/http/HttpClientResponse"
import * as Option from "effect/Option"
import * as Result from "effect/Result"
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
 * lower-case name first. An empty variable is unset under Effect 4's default
 * `ConfigProvider` (3.x read it as set, which let an empty lower-case name
 * hide the upper-case one); "" here means none.
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
  Config.all([Config.option(Config.String(lower)), Config.option(Config.String(upper))]).pipe(
    Config.mapEffect(([fromLower, fromUpper]) => {
      const [name, value] = Option.isSome(fromLower)
        ? [lower, fromLower.value]
        : Option.isSome(fromUpper)
        ? [upper, fromUpper.value]
        : [upper, ""]
      return !isUrl || value === "" || isProxyUrl(value)
        ? Effect.succeed(value)
        : Effect.fail(OptionSchema.invalidOption(
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

const route = (proxy: Resolved["proxy"]): Effect.Effect<Route, Config.ConfigError> => {
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
 * The 3.x line (undici 7) added this to stop a reconnect storm: undici 7
 * handed a tunnel the proxy dropped (`UND_ERR_SOCKET`, "other side closed")
 * to the origin's pool as a blip of a live connection, and the pool dialled
 * the proxy again at once, without end (over a thousand connections a
 * second after one failed call). undici 8 no longer does: its `ProxyAgent`
 * fails such a tunnel with `ProxyConnectionError` (`UND_ERR_PRX_CONN`), which
 * the pool takes as final. Seen here with undici 8.14.1, against a proxy
 * that drops every connection: the request fails in about 10 ms after one
 * connection, and nothing dials again (undici 7.30.2, the same: no outcome
 * after 3 s, about 9,000 connections a second). So that workaround is
 * dropped as such; what this pool still does is say what a failed tunnel
 * means, which undici 8 leaves to the code it happens to carry:
 *
 * - A tunnel the proxy closed or reset before it was open fails with a code
 *   of its own, read as `Connect` (nothing was sent to the origin, so even a
 *   request that is not idempotent may be sent again): undici 8 reports a
 *   close as `UND_ERR_PRX_CONN` (a code the transport mapping does not know)
 *   and a reset as `ECONNRESET` (read as a `Reset`, after which a `POST` is
 *   never sent again). Other failures (refused, a certificate, a `CONNECT`
 *   refused with a status) keep their code.
 * - The `CONNECT` answer is awaited for `connectTimeout`, as a direct
 *   connection is, rather than `headersTimeout`, and its expiry is a connect
 *   timeout: a proxy that accepts and never answers holds a waiting request
 *   no longer than a host that never answers does. It is the pool's own
 *   header timer, not an abort: undici reconnects once after an aborted
 *   request, which here would open another connection to the silent proxy
 *   after the call had failed.
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
    // undici 8 speaks HTTP/2 to a TLS server that offers it (undici 7 did
    // not): the pool is tuned, and measured, for HTTP/1.1 connections
    // (`connections`, keep-alive, one request per connection at a time).
    allowH2: false,
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
    // process.env behind the ConfigProvider's back. undici 8 gives its direct
    // route (no_proxy) `requestTls` too: the connect timeout and the CA.
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
): Effect.Effect<HttpClient.HttpClient, Config.ConfigError, Scope.Scope> =>
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
): Effect.Effect<{ readonly settings: Resolved; readonly route: Route }, Config.ConfigError> => {
  const settings = NodeOptions.decode(options)
  // Bad options: the environment is still read (its failures reported too) unless a `proxy` was given.
  const proxy = Result.isSuccess(settings)
    ? settings.success.proxy
    : (options as { proxy?: unknown }).proxy === undefined
    ? undefined
    : false
  return Effect.flatMap(Effect.result(route(proxy)), (routed) =>
    Result.isSuccess(settings) && Result.isSuccess(routed)
      ? Effect.succeed({ settings: settings.success, route: routed.success })
      : Effect.fail(OptionSchema.allFailures([settings, routed])!))
}

/**
 * An `HttpClient` over a dispatcher someone else owns.
 *
 * Without `tracing`, requests skip Effect's `HttpClient.make`: its span (a
 * dozen attributes and a header-redaction pass per request), its
 * `AbortController` and its response wrapper were most of the client's cost
 * in the benchmark. What it does that matters is kept: interruption aborts
 * the request (and a body being read), and a response dropped with its body
 * still arriving releases its connection when collected. This client also
 * ends the service's attempts at their deadline itself (`AttemptDeadline`),
 * by aborting the request. With `tracing`, Effect's spans are back, and the
 * service races the attempts against a timer as for any client; requests go
 * the same way (`internal/exchange.ts`), aborted by `HttpClient.make`'s signal as
 * well.
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
  ): Effect.Effect<HttpClientResponse.HttpClientResponse, HttpClientError.HttpClientError> => {
    let target: RequestTarget.Target
    try {
      target = targets.of(request)
    } catch (cause) {
      return Effect.fail(
        new HttpClientError.HttpClientError({ reason: new HttpClientError.InvalidUrlError({ request, cause }) })
      )
    }
    // The attempt's deadline belongs to the fiber that runs the request: read on it, not captured.
    return Effect.withFiber((fiber) =>
      Exchange.send(dispatcher, maxResponseBytes, request, target, undefined, ClientProtocol.unsafeCurrent(fiber), true)
    )
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
