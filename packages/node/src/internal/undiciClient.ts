import * as Cookies from "@effect/platform/Cookies"
import * as Headers from "@effect/platform/Headers"
import type * as HttpBody from "@effect/platform/HttpBody"
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientError from "@effect/platform/HttpClientError"
import type * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import * as HttpIncomingMessage from "@effect/platform/HttpIncomingMessage"
import * as UrlParams from "@effect/platform/UrlParams"
import { AttemptDeadline, PlainClient } from "@sfox-effect/core"
import * as Chunk from "effect/Chunk"
import * as Config from "effect/Config"
import * as ConfigError from "effect/ConfigError"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Inspectable from "effect/Inspectable"
import * as Option from "effect/Option"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import { Readable } from "node:stream"
import * as Undici from "undici"
import type { HttpClientOptions } from "../NodeSfox.js"

/** Options as the user gives them; documented on the public type. */
export type Options = HttpClientOptions

export const defaults = {
  connectTimeout: Duration.seconds(5),
  headersTimeout: Duration.seconds(30),
  bodyTimeout: Duration.seconds(30),
  // A batch answer is about 150 bytes a token; 1,000 tokens is ~150 KB.
  maxResponseBytes: 1024 * 1024,
  connections: 32,
  keepAliveTimeout: Duration.seconds(10)
} as const

/** The error code a response over the size limit fails with, when its `Content-Length` already says so. */
export const tooLargeCode = "SFOX_RESPONSE_TOO_LARGE"

/**
 * A response whose `Content-Length` is over the limit: refused before a
 * byte of the body is read.
 */
export class ResponseTooLargeError extends Error {
  readonly code = tooLargeCode
  constructor(readonly contentLength: number, readonly limit: number) {
    super(`response of ${contentLength} bytes exceeds the limit of ${limit} bytes`)
    this.name = "ResponseTooLargeError"
  }
}

interface Resolved {
  readonly connectTimeout: number
  readonly headersTimeout: number
  readonly bodyTimeout: number
  readonly maxResponseBytes: number
  readonly connections: number | null
  readonly keepAliveTimeout: number
}

const invalid = (name: string, expected: string): never => {
  throw new TypeError(`NodeSfox.httpClientWith: ${name} must be ${expected}`)
}

/** undici wants whole milliseconds; 0 disables its header and body timers. */
const millis = (
  name: string,
  input: Duration.DurationInput | undefined,
  fallback: Duration.Duration,
  infinite: "zero" | "refuse"
): number => {
  const decoded = input === undefined ? Option.some(fallback) : Duration.decodeUnknown(input)
  if (Option.isNone(decoded) || !Duration.greaterThan(decoded.value, Duration.zero)) {
    return invalid(name, "a positive duration")
  }
  if (!Duration.isFinite(decoded.value)) {
    return infinite === "zero" ? 0 : invalid(name, "a finite duration")
  }
  return Math.max(1, Math.ceil(Duration.toMillis(decoded.value)))
}

const resolve = (options: Options): Resolved => {
  const maxResponseBytes = options.maxResponseBytes ?? defaults.maxResponseBytes
  if (!Number.isSafeInteger(maxResponseBytes) || maxResponseBytes < 1) {
    invalid("maxResponseBytes", "a positive integer")
  }
  const connections = options.connections ?? defaults.connections
  if (connections !== Number.POSITIVE_INFINITY && (!Number.isSafeInteger(connections) || connections < 1)) {
    invalid("connections", "a positive integer or Infinity")
  }
  return {
    connectTimeout: millis("connectTimeout", options.connectTimeout, defaults.connectTimeout, "refuse"),
    headersTimeout: millis("headersTimeout", options.headersTimeout, defaults.headersTimeout, "zero"),
    bodyTimeout: millis("bodyTimeout", options.bodyTimeout, defaults.bodyTimeout, "zero"),
    maxResponseBytes,
    connections: connections === Number.POSITIVE_INFINITY ? null : connections,
    keepAliveTimeout: millis("keepAliveTimeout", options.keepAliveTimeout, defaults.keepAliveTimeout, "refuse")
  }
}

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

const route = (proxy: Options["proxy"]): Effect.Effect<Route, ConfigError.ConfigError> => {
  if (proxy === false) return Effect.succeed({ _tag: "Direct" })
  if (proxy !== undefined) {
    return Effect.sync(() => {
      let uri: URL
      try {
        uri = new URL(proxy)
      } catch {
        return invalid("proxy", "a URL, false or undefined")
      }
      return { _tag: "Fixed", uri: uri.href }
    })
  }
  return Effect.map(
    proxyEnv,
    (env): Route => env.httpProxy === "" && env.httpsProxy === "" ? { _tag: "Direct" } : { _tag: "Env", env }
  )
}

/** Test-only TLS settings (a private CA); not part of the public options. */
export interface Tls {
  readonly ca?: string | Buffer | undefined
}

/**
 * Without a proxy: the plain `Agent`, as before proxies were supported (the
 * benchmark's path). Through one, the same pool settings reach every pool
 * undici builds: the pools to sFOX inside a tunnel, and the pool to the proxy
 * itself (for `CONNECT` and for forwarded `http:` requests).
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
    clientFactory: (origin: URL, options: object) => new Undici.Pool(origin, { ...pool, ...options })
  }
  return route._tag === "Fixed"
    ? new Undici.ProxyAgent({ ...proxied, uri: route.uri })
    // Passed explicitly (empty when unset) so that undici does not read
    // process.env behind the ConfigProvider's back.
    : new Undici.EnvHttpProxyAgent({ ...proxied, ...route.env })
}

/**
 * A pool of keep-alive connections per origin, destroyed with the scope.
 * Options are checked eagerly: a bad one is a defect of the program, raised
 * when the layer is built rather than on the first request.
 */
export const make = (
  options: Options = {},
  tls: Tls = {}
): Effect.Effect<HttpClient.HttpClient, ConfigError.ConfigError, Scope.Scope> =>
  Effect.map(
    Effect.acquireRelease(
      Effect.flatMap(route(options.proxy), (route) =>
        Effect.sync(() => {
          const settings = resolve(options)
          return { agent: dispatcherOf(settings, route, tls), settings }
        })),
      // Destroy, not close: by the time the scope closes nobody is waiting
      // for an answer, and a hung request must not hold the scope open.
      ({ agent }) => Effect.promise(() => agent.destroy().catch(() => undefined))
    ),
    ({ agent, settings }) => fromAgent(agent, settings.maxResponseBytes, options.tracing ?? false)
  )

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
 * races the attempts against a timer as for any client.
 */
export const fromAgent = (
  dispatcher: Undici.Dispatcher,
  maxResponseBytes: number,
  tracing = false
): HttpClient.HttpClient =>
  tracing
    ? HttpClient.make((request, url, signal) =>
      send(dispatcher, maxResponseBytes, request, url, signal, undefined, undefined)
    )
    // Follows no redirect (undici's `request` does not) and records nothing: a plain client.
    : PlainClient.declare(AttemptDeadline.enforcedBy(HttpClient.makeWith(
      (effect) =>
        Effect.flatMap(effect, (request) => {
          const url = UrlParams.makeUrl(request.url, request.urlParams, request.hash)
          if (url._tag === "Left") {
            return Effect.fail(new HttpClientError.RequestError({ request, reason: "InvalidUrl", cause: url.left }))
          }
          return Effect.withFiberRuntime((fiber) => {
            const abort = new Abort()
            const deadline = AttemptDeadline.unsafeCurrent(fiber)
            return send(dispatcher, maxResponseBytes, request, url.right, abort, abort, deadline)
          })
        }),
      Effect.succeed as HttpClient.HttpClient.Preprocess<never, never>
    )))

/**
 * What undici needs of an `AbortSignal`, and no more: an `AbortController`
 * per request (and the `DOMException` its `abort()` makes) was a measurable
 * part of a mint. undici listens with `addEventListener("abort", …)` and
 * removes its listener once the body is closed; with no `reason`, it aborts
 * with its own `RequestAbortedError`.
 */
class Abort {
  aborted = false
  readonly reason: unknown = undefined
  // undici adds one listener per request: a slot, and an array past it.
  private listener: (() => void) | undefined = undefined
  private more: Array<() => void> | undefined = undefined

  addEventListener(_type: "abort", listener: () => void): void {
    if (this.listener === undefined) this.listener = listener
    else (this.more ??= []).push(listener)
  }

  removeEventListener(_type: "abort", listener: () => void): void {
    if (this.listener === listener) this.listener = undefined
    else if (this.more !== undefined) this.more = this.more.filter((f) => f !== listener)
  }

  abort(): void {
    if (this.aborted) return
    this.aborted = true
    const listener = this.listener
    const more = this.more
    this.listener = this.more = undefined
    listener?.()
    if (more !== undefined) { for (const f of more) f() }
  }
}

// Aborts the request of a response collected while its body was still
// arriving, so that its connection is dropped rather than held (as
// HttpClient.make does). A body that had arrived whole when the response was
// handed out holds no connection (undici frees it at the end of the
// message), so such a response, the usual one, is not registered.
const unreadResponses = typeof FinalizationRegistry === "function"
  ? new FinalizationRegistry<Abort>((abort) => abort.abort())
  : undefined

/** Whether undici has pushed the end of `body` (`push(null)`), read or not: Node's own stream state. */
const arrivedWhole = (body: Readable): boolean =>
  (body as { readonly _readableState?: { readonly ended?: boolean } })._readableState?.ended === true ||
  body.destroyed

const send = (
  dispatcher: Undici.Dispatcher,
  maxResponseBytes: number,
  request: HttpClientRequest.HttpClientRequest,
  url: URL,
  signal: AbortSignal | Abort,
  own: Abort | undefined,
  deadline: AttemptDeadline.AttemptDeadline | undefined
): Effect.Effect<HttpClientResponse.HttpClientResponse, HttpClientError.RequestError> => {
  const body = request.body
  return body._tag === "Stream"
    ? Effect.suspend(() =>
      dispatch(dispatcher, maxResponseBytes, request, url, signal, own, deadline, readableOf(body.stream))
    )
    : dispatch(dispatcher, maxResponseBytes, request, url, signal, own, deadline, bodyOf(body))
}

/**
 * A request body stream as the `Readable` undici sends. When undici gives up
 * on the request (abort, reset) it destroys the `Readable`, which ends the
 * iteration and so interrupts the stream; a failure of the stream destroys
 * the `Readable` with it, and undici fails the request.
 */
const readableOf = (stream: Stream.Stream<Uint8Array, unknown>): Readable =>
  Readable.from(Stream.toAsyncIterable(stream), { objectMode: false })

type DispatchBody = Exclude<Undici.Dispatcher.DispatchOptions["body"], undefined>

const bodyOf = (body: Exclude<HttpBody.HttpBody, HttpBody.Stream>): DispatchBody => {
  switch (body._tag) {
    case "Empty":
      return null
    case "Uint8Array":
      return body.body
    case "Raw":
      return body.body as DispatchBody
    case "FormData":
      return body.formData as unknown as DispatchBody
  }
}

/**
 * `own` is the signal this client made for the request (not the platform's,
 * under `tracing`): interruption aborts it, and it is what a response
 * dropped with its body still arriving is registered with. Under `tracing`,
 * `HttpClient.make` does both with its own signal. At the attempt's
 * `deadline` it is aborted too: a body being read then fails, and a request
 * still waiting for its answer fails at once. undici would reject it only
 * once it had a connection, and one queued for a connection of a busy pool
 * would wait for one to free.
 */
const dispatch = (
  dispatcher: Undici.Dispatcher,
  maxResponseBytes: number,
  request: HttpClientRequest.HttpClientRequest,
  url: URL,
  signal: AbortSignal | Abort,
  own: Abort | undefined,
  deadline: AttemptDeadline.AttemptDeadline | undefined,
  body: DispatchBody | Readable
): Effect.Effect<HttpClientResponse.HttpClientResponse, HttpClientError.RequestError> =>
  Effect.async((resume) => {
    let answered = false
    const answer = (effect: Effect.Effect<HttpClientResponse.HttpClientResponse, HttpClientError.RequestError>) => {
      if (answered) return
      answered = true
      resume(effect)
    }
    if (own !== undefined && deadline !== undefined) {
      deadline.onExpiry(() => {
        own.abort()
        answer(Effect.fail(new HttpClientError.RequestError({ request, reason: "Transport", cause: deadlinePassed })))
      })
    }
    dispatcher.request({
      origin: url.origin,
      // The fragment never goes on the wire.
      path: url.pathname + url.search,
      method: request.method as Undici.Dispatcher.HttpMethod,
      headers: request.headers,
      body,
      // `Abort` has every member of an `AbortSignal` that undici reads.
      signal: signal as AbortSignal
    }).then(
      (source) => {
        const response = new UndiciResponse(request, source, maxResponseBytes)
        if (own !== undefined && !arrivedWhole(source.body)) unreadResponses?.register(response, own)
        answer(Effect.succeed(response))
      },
      (cause) => answer(Effect.fail(new HttpClientError.RequestError({ request, reason: "Transport", cause })))
    )
    // Interrupted while waiting for the answer: undici then destroys the socket.
    if (own !== undefined) return Effect.sync(() => own.abort())
  })

/**
 * The body as a `Stream`, pulled: one pull takes every chunk the body has
 * buffered, and waits only when there is none, so the cost is per pull, not
 * per chunk. Ended early (an interrupted or short-circuited consumer), it
 * destroys the body: undici then aborts the request and drops the
 * connection, since a half-read one cannot go back to the pool.
 */
const streamOf = <E>(body: Readable, onError: (cause: unknown) => E): Stream.Stream<Uint8Array, E> =>
  Stream.suspend(() => {
    // Opened by every event that can change what a pull finds.
    const changed = Effect.unsafeMakeLatch(false)
    const wake = () => changed.unsafeOpen()
    const events = ["readable", "end", "error", "close"] as const
    for (const event of events) body.on(event, wake)
    const pull: Effect.Effect<Chunk.Chunk<Uint8Array>, Option.Option<E>> = Effect.suspend(() => {
      // Closed before reading: an event after the read opens it again, so none is missed.
      changed.unsafeClose()
      let chunk = body.read() as Uint8Array | null
      if (chunk !== null) {
        const chunks = [chunk]
        while ((chunk = body.read() as Uint8Array | null) !== null) chunks.push(chunk)
        return Effect.succeed(Chunk.unsafeFromArray(chunks))
      }
      if (body.errored !== null) return Effect.fail(Option.some(onError(body.errored)))
      if (body.readableEnded) return Effect.fail(Option.none())
      // Destroyed without an error and before its end (someone else closed it): the body is cut short.
      if (body.destroyed) return Effect.fail(Option.some(onError(new Error("response body closed before its end"))))
      return Effect.zipRight(changed.await, pull)
    })
    return Stream.repeatEffectChunkOption(pull).pipe(
      Stream.ensuring(Effect.sync(() => {
        for (const event of events) body.off(event, wake)
        if (!body.readableEnded) body.destroy()
      }))
    )
  })

const noop = () => {}

// What a request ended by the attempt's deadline fails with; the service reports the timeout instead.
const deadlinePassed = new Error("request aborted at the attempt's deadline")
const decoder = new TextDecoder()

class UndiciResponse extends Inspectable.Class implements HttpClientResponse.HttpClientResponse {
  readonly [HttpIncomingMessage.TypeId]: HttpIncomingMessage.TypeId = HttpIncomingMessage.TypeId
  readonly [HttpClientResponse.TypeId]: HttpClientResponse.TypeId = HttpClientResponse.TypeId
  private bodyBytes: Promise<Uint8Array> | undefined
  private cachedHeaders: Headers.Headers | undefined
  private cachedCookies: Cookies.Cookies | undefined

  constructor(
    readonly request: HttpClientRequest.HttpClientRequest,
    private readonly source: Undici.Dispatcher.ResponseData,
    private readonly maxBytes: number
  ) {
    super()
    // A body nobody reads can still fail (a reset); unlistened, that error
    // would crash the process. Readers see it through their own promise.
    source.body.on("error", noop)
  }

  get status(): number {
    return this.source.statusCode
  }

  get headers(): Headers.Headers {
    return this.cachedHeaders ??= Headers.fromInput(this.source.headers)
  }

  get cookies(): Cookies.Cookies {
    if (this.cachedCookies !== undefined) return this.cachedCookies
    const header = this.source.headers["set-cookie"]
    return this.cachedCookies = header === undefined
      ? Cookies.empty
      : Cookies.fromSetCookie(Array.isArray(header) ? header : [header])
  }

  get remoteAddress(): Option.Option<string> {
    return Option.none()
  }

  /**
   * The whole body, read once and shared by every accessor. A declared
   * length over the limit is refused before reading; an undeclared one is
   * cut off by the agent's `maxResponseSize`.
   */
  private bytes(): Promise<Uint8Array> {
    if (this.bodyBytes !== undefined) return this.bodyBytes
    const declared = this.source.headers["content-length"]
    const length = typeof declared === "string" ? Number(declared) : Number.NaN
    if (length > this.maxBytes) {
      const error = new ResponseTooLargeError(length, this.maxBytes)
      // Drops the connection: the rest of an oversized body is not worth reading.
      this.source.body.destroy(error)
      return this.bodyBytes = Promise.reject(error)
    }
    return this.bodyBytes = this.source.body.bytes()
  }

  private decodeError(cause: unknown): HttpClientError.ResponseError {
    return new HttpClientError.ResponseError({ request: this.request, response: this, reason: "Decode", cause })
  }

  private read<A>(f: (bytes: Uint8Array) => A): Effect.Effect<A, HttpClientError.ResponseError> {
    // One async step per read: this sits on the path of every call.
    return Effect.async((resume) => {
      const cancel = Effect.sync(() => {
        // An interrupted read leaves the body half-read: drop the connection.
        if (!this.source.body.readableEnded) this.source.body.destroy()
      })
      this.bytes().then(
        (bytes) => {
          let result: A
          try {
            result = f(bytes)
          } catch (cause) {
            return resume(Effect.fail(this.decodeError(cause)))
          }
          resume(Effect.succeed(result))
        },
        (cause) => resume(Effect.fail(this.decodeError(cause)))
      )
      return cancel
    })
  }

  get text(): Effect.Effect<string, HttpClientError.ResponseError> {
    return this.read((bytes) => decoder.decode(bytes))
  }

  get json(): Effect.Effect<unknown, HttpClientError.ResponseError> {
    return this.read((bytes) => {
      const text = decoder.decode(bytes)
      return text === "" ? null : JSON.parse(text) as unknown
    })
  }

  get urlParamsBody(): Effect.Effect<UrlParams.UrlParams, HttpClientError.ResponseError> {
    return this.read((bytes) => UrlParams.fromInput(new URLSearchParams(decoder.decode(bytes))))
  }

  get arrayBuffer(): Effect.Effect<ArrayBuffer, HttpClientError.ResponseError> {
    return this.read((bytes) =>
      bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength && bytes.buffer instanceof ArrayBuffer
        ? bytes.buffer
        : bytes.slice().buffer as ArrayBuffer
    )
  }

  get formData(): Effect.Effect<FormData, HttpClientError.ResponseError> {
    return Effect.flatMap(
      this.read((bytes) =>
        new Response(bytes as Uint8Array<ArrayBuffer>, {
          headers: { "content-type": this.headers["content-type"] ?? "" }
        })
      ),
      (response) => Effect.tryPromise({ try: () => response.formData(), catch: (cause) => this.decodeError(cause) })
    )
  }

  get stream(): Stream.Stream<Uint8Array, HttpClientError.ResponseError> {
    // Once the body has been read whole, it is replayed from memory.
    if (this.bodyBytes !== undefined) return Stream.fromEffect(this.read((bytes) => bytes))
    return streamOf(this.source.body, (cause) => this.decodeError(cause))
  }

  toJSON(): unknown {
    // Neither the request's headers (the API key) nor the body (tokens).
    return {
      _id: "@effect/platform/HttpClientResponse",
      request: { method: this.request.method, url: this.request.url },
      status: this.status,
      headers: Inspectable.redact(this.headers)
    }
  }
}
