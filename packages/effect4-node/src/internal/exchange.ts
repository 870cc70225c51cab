import type { AttemptDeadline } from "@sfox-effect/effect4-core/internal/clientProtocol"
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
 * The caller is answered on a microtask queued from `onResponseStart`, and
 * every other resume that comes from undici (a failure, a reader waiting for
 * the body) is queued the same way. Effect 4 runs a resumed fiber at once, on
 * the stack of whoever resumes it (Effect 3 ran it on a later microtask, which
 * the 3.x line counted on); answered from inside undici's callbacks, the
 * caller would read the body before undici had delivered it, wait for it (a
 * suspension, and a response registered for collection: measured, none of 50
 * small answers was in when handed out, against all of them once queued),
 * and go on with its own code (a retry, the next request) inside undici's
 * parser, before the connection is free again. Queued, a body that came in
 * the same TCP read as its headers (an sFOX answer, as a rule) has been
 * delivered whole by the time the caller reads it, and reading it does not
 * suspend.
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
   * The wait for the answer was interrupted (`Effect.callback`'s cleanup):
   * the request is aborted, and undici destroys the socket (a no-op once the
   * body has settled).
   */
  readonly cancel: Effect.Effect<void> = Effect.sync(() => this.abort())

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
    this.reply(Effect.fail(transportError(this.request, deadlinePassed)), false)
  }

  /** Effect's signal (`HttpClient.make`'s, under `tracing`) aborted. */
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

  /** Answers the caller; from undici's callbacks (`queued`), on a microtask (see the class comment). */
  private reply(answer: Answer, queued: boolean): void {
    const resume = this.answer
    if (resume === undefined) return
    this.answer = undefined
    if (queued) queueMicrotask(() => resume(answer))
    else resume(answer)
  }

  /** The readers of the body wake on a microtask, out of undici's callbacks, for the same reasons. */
  protected override wake(wakers: ReadonlyArray<() => void>): void {
    queueMicrotask(() => {
      for (const wake of wakers) wake()
    })
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
    const resume = this.answer
    if (statusCode < 200 || resume === undefined) return
    this.answer = undefined
    const response = new UndiciResponse(this.request, statusCode, headers, this, this.maxBytes)
    queueMicrotask(() => {
      // Whether the body is still arriving is known only now, after the rest
      // of the TCP read. A response handed out with its body still arriving
      // holds its connection until the body ends: registered, it is aborted
      // if collected first.
      if (this.registers && !this.settled) unreadResponses?.register(response, this)
      resume(Effect.succeed(response))
    })
  }

  onResponseData(_controller: Controller, chunk: Buffer): void {
    this.push(chunk)
  }

  onResponseEnd(): void {
    this.end()
    this.finish()
  }

  onResponseError(_controller: Controller | null, error: Error): void {
    if (this.answer !== undefined) this.reply(Effect.fail(transportError(this.request, error)), true)
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
 * Interruption while waiting for the answer aborts the request, and the
 * request body is taken (a stream made) when the effect runs: each run of it
 * sends the request anew. `signal` is Effect's (under `tracing`): its abort
 * aborts the request, or the body being read. At the attempt's `deadline`
 * the request is aborted too: a body being read then fails, and a request
 * still waiting for its answer fails at once (undici would end one queued
 * for a connection of a busy pool only once it had one). `registers`: a
 * response handed out with its body still arriving is aborted when collected
 * (`HttpClient.make` does that itself under `tracing`).
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
  // The 3.x line waited in `uninterruptibleMask` + `matchCauseEffect`, fewer
  // steps than Effect 3's `Effect.async` with a canceller. Effect 4's
  // `Effect.callback` with a cleanup effect (one finalizer on the fiber's
  // stack) is the cheaper now: measured, about 0.3 µs a wait against 1.3 µs
  // for the 3.x shape. The register function takes one parameter:
  // `Effect.callback` makes an `AbortSignal` for one that takes two.
  Effect.callback<HttpClientResponse.HttpClientResponse, HttpClientError.HttpClientError>((resume) => {
    const body = bodyOf(request.body)
    if (body instanceof BodyReadAlready) {
      return resume(
        Effect.fail(
          new HttpClientError.HttpClientError({ reason: new HttpClientError.EncodeError({ request, cause: body }) })
        )
      )
    }
    const exchange = new Exchange(request, maxBytes, body, registers)
    exchange.start(resume, dispatcher, target, signal, deadline)
    return exchange.cancel
  })
