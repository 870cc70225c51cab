import type { AttemptDeadline } from "@sfox-effect/effect4-core/internal/clientProtocol"
import type * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import type * as HttpBody from "effect/http/HttpBody"
import * as HttpClientError from "effect/http/HttpClientError"
import type * as HttpClientRequest from "effect/http/HttpClientRequest"
import type * as HttpClientResponse from "effect/http/HttpClientResponse"
import * as Stream from "effect/Stream"
import { Readable } from "node:stream"
import * as Undici from "undici"
import { BufferedBody } from "./bufferedBody.js"
import type { Target } from "./requestTarget.js"
import { type HeaderRecord, UndiciResponse } from "./undiciResponse.js"

type Answer = Effect.Effect<HttpClientResponse.HttpClientResponse, HttpClientError.HttpClientError>

type DispatchBody = Exclude<Undici.Dispatcher.DispatchOptions["body"], undefined>

type Controller = Undici.Dispatcher.DispatchController

/** A request that failed in the transport: what core's transport mapping reads the `cause` (its `code`) of. */
const transportError = (
  request: HttpClientRequest.HttpClientRequest,
  cause: unknown
): HttpClientError.HttpClientError =>
  new HttpClientError.HttpClientError({ reason: new HttpClientError.TransportError({ request, cause }) })

/**
 * One request through undici's `dispatch`, with this object as its handler:
 * the `Effect.callback` waiting for the answer, then the answer's body.
 *
 * `dispatcher.request()` would build, per request, a handler that extends
 * `AsyncResource`, a promise, and a `Readable` for the body (and its
 * `bytes()` another promise); over `dispatch` a request is this object and
 * its response. The handler is undici 8's (`onRequestStart`,
 * `onResponseStart`, …, with a controller), the only one it takes: undici 7's
 * older one (`onConnect`, `onHeaders`, …) is gone.
 *
 * The caller is answered from `onResponseStart`. Effect runs the resumed
 * fiber on a later microtask, so a body that came in the same TCP read as
 * its headers (an sFOX answer, as a rule) has been delivered whole by the
 * time the caller reads it, and reading it does not suspend.
 */
class Exchange extends BufferedBody {
  // undici's controller for this request, from `onRequestStart`; before then, an abort waits for it.
  private controller: Controller | undefined = undefined
  private abortWaits = false
  private abortReason: Error | undefined = undefined
  private signal: AbortSignal | undefined = undefined
  private answer: ((answer: Answer) => void) | undefined = undefined

  constructor(
    private readonly request: HttpClientRequest.HttpClientRequest,
    private readonly maxBytes: number,
    private readonly requestBody: DispatchBody | Readable,
    private readonly registers: boolean
  ) {
    super()
  }

  /**
   * The caller takes the response: Effect runs it on a later microtask than
   * `onResponseStart`, so whether the body is still arriving is known only
   * here. A response handed out with its body still arriving holds its
   * connection until the body ends: registered, it is aborted if collected
   * first.
   */
  readonly handOut = (response: HttpClientResponse.HttpClientResponse): Answer => {
    if (this.registers && !this.settled) unreadResponses?.register(response, this)
    return Effect.succeed(response)
  }

  /**
   * The wait for the answer ended in a failure: an interruption of the
   * caller, which aborts the request (undici then destroys the socket), or
   * the request's own failure (the abort is then a no-op).
   */
  readonly abandon = (cause: Cause.Cause<HttpClientError.HttpClientError>): Answer => {
    this.abort()
    return Effect.failCause(cause)
  }

  start(
    answer: (answer: Answer) => void,
    dispatcher: Undici.Dispatcher,
    target: Target,
    signal: AbortSignal | undefined,
    deadline: AttemptDeadline | undefined
  ): void {
    this.answer = answer
    if (deadline !== undefined) deadline.onExpiry(() => this.expire())
    if (signal !== undefined) {
      if (signal.aborted) this.abort(signal.reason as Error)
      else {
        // This object is the listener (`handleEvent`): no closure per request.
        signal.addEventListener("abort", this)
        this.signal = signal
      }
    }
    // Aborted before it went out (an attempt whose time was already up):
    // it never reaches the pool, where it would take a connection only to drop it.
    if (this.abortWaits) return this.onResponseError(null, this.abortReason ?? new Undici.errors.RequestAbortedError())
    // undici 8 reports a request refused at once (a bad argument, a closed
    // dispatcher) through `onResponseError` rather than by throwing; the
    // `try` is for a foreign dispatcher that throws all the same.
    try {
      dispatcher.dispatch({
        origin: target.origin,
        path: target.path,
        method: this.request.method as Undici.Dispatcher.HttpMethod,
        headers: this.request.headers,
        body: this.requestBody as DispatchBody
      }, this)
    } catch (error) {
      this.onResponseError(null, error as Error)
    }
  }

  /** The attempt's deadline: the request ends, and a caller still waiting for its answer fails at once. */
  private expire(): void {
    this.abort()
    this.reply(Effect.fail(transportError(this.request, deadlinePassed)))
  }

  /** The platform's signal (under `tracing`) aborted. */
  handleEvent(): void {
    this.abort(this.signal?.reason as Error | undefined)
  }

  /**
   * With no `reason`, undici fails the request with its own
   * `RequestAbortedError`. Before `onRequestStart` (queued for a connection)
   * the abort is kept for it, as undici's `request()` does for a request it
   * cannot reach: raw `dispatch` offers no way to take a request out of a
   * pool's queue (undici 8 has one, but only for its own `request()` and
   * `stream()`, through a private symbol). A request waiting for a
   * connection leaves the queue when the attempt to connect fails, which
   * fails every request waiting for it, and is bounded by `connectTimeout`,
   * through a proxy's tunnel too (the `CONNECT` pool's header timer in
   * undiciClient.ts): nothing dials on for an abandoned request.
   */
  abort(reason?: Error): void {
    if (this.settled) return
    if (this.controller !== undefined) return this.controller.abort(reason ?? new Undici.errors.RequestAbortedError())
    this.abortWaits = true
    this.abortReason = reason
  }

  private reply(answer: Answer): void {
    const resume = this.answer
    if (resume === undefined) return
    this.answer = undefined
    resume(answer)
  }

  /** undici is done with the request, one way or the other. */
  private finish(): void {
    this.controller = undefined
    if (this.signal !== undefined) {
      this.signal.removeEventListener("abort", this)
      this.signal = undefined
    }
  }

  // undici 8's handler interface

  onRequestStart(controller: Controller): void {
    // Calls `onResponseError` at once.
    if (this.abortWaits) return controller.abort(this.abortReason ?? new Undici.errors.RequestAbortedError())
    this.controller = controller
  }

  onResponseStart(_controller: Controller, statusCode: number, headers: HeaderRecord): void {
    // An informational answer (103 Early Hints): the real one follows.
    if (statusCode < 200 || this.answer === undefined) return
    this.reply(Effect.succeed(new UndiciResponse(this.request, statusCode, headers, this, this.maxBytes)))
  }

  onResponseData(_controller: Controller, chunk: Buffer): void {
    this.push(chunk)
  }

  onResponseEnd(): void {
    this.end()
    this.finish()
  }

  onResponseError(_controller: Controller | null, error: Error): void {
    if (this.answer !== undefined) this.reply(Effect.fail(transportError(this.request, error)))
    this.fail(error)
    this.finish()
    // As undici's `request()` does: a request body stream goes with the request.
    const body = this.requestBody as { on?: unknown; destroy?: unknown } | null
    if (
      body !== null && typeof body === "object" && typeof body.on === "function" && typeof body.destroy === "function"
    ) {
      const stream = body as Readable
      if (!stream.destroyed) stream.on("error", noop).destroy(error)
    }
  }
}

const noop = () => {}

// What a request ended by the attempt's deadline fails with; the service reports the timeout instead.
const deadlinePassed = new Error("request aborted at the attempt's deadline")

// Aborts the request of a response collected while its body was still
// arriving, so that its connection is dropped rather than held (as
// HttpClient.make does). A body that had arrived whole when the response was
// handed out holds no connection (undici frees it at the end of the
// message), so such a response, the usual one, is not registered. The
// exchange holds no reference to its response, or it could never be collected.
const unreadResponses = typeof FinalizationRegistry === "function"
  ? new FinalizationRegistry<Exchange>((exchange) => exchange.abort())
  : undefined

/**
 * A request body stream as the `Readable` undici sends. When undici gives up
 * on the request (abort, reset) it destroys the `Readable`, which ends the
 * iteration and so interrupts the stream; a failure of the stream destroys
 * the `Readable` with it, and undici fails the request.
 */
const readableOf = (stream: Stream.Stream<Uint8Array, unknown>): Readable =>
  Readable.from(Stream.toAsyncIterable(stream), { objectMode: false })

/**
 * A form as undici encodes it. undici 8 takes only its own `FormData` class
 * (not the global one, which is the copy of undici bundled in Node): it
 * refuses any other with `UND_ERR_INVALID_ARG` (undici 7 sent it as a
 * failed request). Entries are strings and `File`s, which its encoder reads
 * from their start at each send.
 */
const formOf = (form: FormData): Undici.FormData => {
  const own = new Undici.FormData()
  form.forEach((value, name) => own.append(name, value))
  return own
}

/**
 * Raw bodies sent so far that are read as they are sent (a `Readable`, an
 * async iterable, a `ReadableStream`): sent a second time, any of them would
 * go out empty or cut, silently. Weak: a body is never held by it.
 */
const sentOnce = new WeakSet<object>()

const isReadOnce = (value: unknown): value is object =>
  typeof value === "object" && value !== null && !Array.isArray(value) && !ArrayBuffer.isView(value) &&
  !(value instanceof ArrayBuffer) && !(value instanceof Blob) && !(value instanceof FormData)

class BodyReadAlready extends Error {
  constructor() {
    super("request body already read: a stream or an iterable can be sent only once")
    this.name = "BodyReadAlreadyError"
  }
}

/** What undici sends for `body`, or the error of a body that was read already. */
const bodyOf = (body: HttpBody.HttpBody): DispatchBody | Readable | BodyReadAlready => {
  switch (body._tag) {
    case "Empty":
      return null
    case "Uint8Array":
      return body.body
    case "Raw": {
      const raw = body.body
      if (raw instanceof FormData) return formOf(raw) as unknown as DispatchBody
      if (isReadOnce(raw)) {
        // Node's check reads a web `ReadableStream` too; read elsewhere first, it is as spent.
        if (sentOnce.has(raw) || (isStream(raw) && Readable.isDisturbed(raw as Readable))) return new BodyReadAlready()
        sentOnce.add(raw)
      }
      return raw as DispatchBody
    }
    case "FormData":
      return formOf(body.formData) as unknown as DispatchBody
    case "Stream":
      // Made when the effect runs: each run of it sends the stream anew.
      return readableOf(body.stream)
  }
}

const isStream = (value: object): boolean =>
  value instanceof ReadableStream || typeof (value as { pipe?: unknown }).pipe === "function"

/**
 * Sends `request` and answers with its response once the headers are in.
 *
 * Interruption while waiting for the answer aborts the request. `signal` is
 * the platform's (under `tracing`): its abort aborts the request, or the body
 * being read. At the attempt's `deadline` the request is aborted too: a body
 * being read then fails, and a request still waiting for its answer fails at
 * once (undici would end one queued for a connection of a busy pool only once
 * it had one). `registers`: a response handed out with its body still
 * arriving is aborted when collected (`HttpClient.make` does that itself
 * under `tracing`).
 */
export const send = (
  dispatcher: Undici.Dispatcher,
  maxBytes: number,
  request: HttpClientRequest.HttpClientRequest,
  target: Target,
  signal: AbortSignal | undefined,
  deadline: AttemptDeadline | undefined,
  registers: boolean
): Answer =>
  // What `Effect.callback` with a cleanup effect does (`onInterrupt`), in
  // fewer steps: this wait is on the path of every request.
  Effect.uninterruptibleMask((restore) => {
    const body = bodyOf(request.body)
    if (body instanceof BodyReadAlready) {
      return Effect.fail(
        new HttpClientError.HttpClientError({ reason: new HttpClientError.EncodeError({ request, cause: body }) })
      )
    }
    const exchange = new Exchange(request, maxBytes, body, registers)
    return Effect.matchCauseEffect(
      // One parameter only: `Effect.callback` makes an `AbortSignal` for a register function that takes two.
      restore(Effect.callback<HttpClientResponse.HttpClientResponse, HttpClientError.HttpClientError>((resume) =>
        exchange.start(resume, dispatcher, target, signal, deadline)
      )),
      { onFailure: exchange.abandon, onSuccess: exchange.handOut }
    )
  })
