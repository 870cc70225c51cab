import type * as NonEmpty from "effect/Array"
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Cookies from "effect/http/Cookies"
import * as Headers from "effect/http/Headers"
import * as HttpClientError from "effect/http/HttpClientError"
import * as HttpClientRequest from "effect/http/HttpClientRequest"
import * as HttpClientResponse from "effect/http/HttpClientResponse"
import * as HttpIncomingMessage from "effect/http/HttpIncomingMessage"
import * as UrlParams from "effect/http/UrlParams"
import * as Inspectable from "effect/Inspectable"
import * as Option from "effect/Option"
import { pipeArguments } from "effect/Pipeable"
import type * as Pull from "effect/Pull"
import * as Redactable from "effect/Redactable"
import type * as Schema from "effect/Schema"
import type * as Socket from "effect/socket/Socket"
import * as Stream from "effect/Stream"
import type { BufferedBody } from "./bufferedBody.js"

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

/**
 * The headers as undici 8 hands them to a handler (`onResponseStart`): parsed,
 * names in lower case, a list for a repeated name (`set-cookie`).
 */
export type HeaderRecord = Record<string, string | Array<string> | undefined>

const decoder = new TextDecoder()

type Chunks = NonEmpty.NonEmptyReadonlyArray<Uint8Array>

/**
 * What a `stream` reader's end does to its body: nothing once the body has
 * settled (the usual end); before, it aborts the request, one scheduler turn
 * later. Effect 4 runs a reader woken by a chunk at once, inside the wake-up
 * (Effect 3 scheduled it), so a stream cut short by that chunk would abort
 * the body before the other readers woken by the same chunk had taken it;
 * after the turn, every one of them has.
 */
const endOf = (body: BufferedBody): Effect.Effect<void> =>
  Effect.suspend(() => body.settled ? Effect.void : Effect.andThen(Effect.yieldNow, Effect.sync(() => body.abort())))

/**
 * An answer over its `BufferedBody`. Reading a body that has settled (the
 * usual case: a small answer comes in the same TCP read as its headers, and
 * undici has delivered all of it by the time the caller asks) is a
 * synchronous effect; only a body still arriving is waited for.
 */
export class UndiciResponse extends Inspectable.Class implements HttpClientResponse.HttpClientResponse {
  readonly [HttpIncomingMessage.TypeId]: typeof HttpIncomingMessage.TypeId = HttpIncomingMessage.TypeId
  readonly [HttpClientResponse.TypeId]: typeof HttpClientResponse.TypeId = HttpClientResponse.TypeId
  private sized = false
  private cachedHeaders: Headers.Headers | undefined = undefined
  private cachedCookies: Cookies.Cookies | undefined = undefined

  constructor(
    readonly request: HttpClientRequest.HttpClientRequest,
    readonly status: number,
    private readonly headerRecord: HeaderRecord,
    private readonly body: BufferedBody,
    private readonly maxBytes: number
  ) {
    super()
  }

  /** The request's URL without its fragment: this client follows no redirect, so it is where the answer came from. */
  get url(): string {
    const url = HttpClientRequest.toUrl(this.request)
    if (Option.isNone(url)) return ""
    url.value.hash = ""
    return url.value.href
  }

  get headers(): Headers.Headers {
    return this.cachedHeaders ??= Headers.fromInput(this.headerRecord)
  }

  get cookies(): Cookies.Cookies {
    if (this.cachedCookies !== undefined) return this.cachedCookies
    const header = this.headerRecord["set-cookie"]
    return this.cachedCookies = header === undefined ? Cookies.empty : Cookies.fromSetCookie(header)
  }

  get remoteAddress(): Option.Option<string> {
    return Option.none()
  }

  /**
   * A declared length over the limit is refused at the first read of the
   * whole body, before waiting for it (the connection is dropped: the rest
   * is not worth reading); an undeclared one is cut off by the agent's
   * `maxResponseSize`. `stream` does not check: a reader that bounds what it
   * takes (the service's `readBody`) reads an oversized body in part.
   */
  private checkSize(): void {
    if (this.sized) return
    this.sized = true
    const declared = this.headerRecord["content-length"]
    const length = typeof declared === "string" ? Number(declared) : Number.NaN
    if (length > this.maxBytes) this.body.refuse(new ResponseTooLargeError(length, this.maxBytes))
  }

  private decodeError(cause: unknown): HttpClientError.HttpClientError {
    return new HttpClientError.HttpClientError({
      reason: new HttpClientError.DecodeError({ request: this.request, response: this, cause })
    })
  }

  /** `f` of the whole body, which has settled. */
  private outcome<A>(f: (bytes: Uint8Array) => A): Effect.Effect<A, HttpClientError.HttpClientError> {
    try {
      this.checkSize()
      return Effect.succeed(f(this.body.bytes()))
    } catch (cause) {
      return Effect.fail(this.decodeError(cause))
    }
  }

  /** The whole body, read once and shared by every accessor. */
  private read<A>(f: (bytes: Uint8Array) => A): Effect.Effect<A, HttpClientError.HttpClientError> {
    // Settled now, settled when run: no suspension at all.
    if (this.body.settled) return Effect.suspend(() => this.outcome(f))
    // One parameter: `Effect.callback` makes an `AbortSignal` for a register function that takes two.
    return Effect.callback((resume) => {
      this.checkSize()
      const body = this.body
      if (body.settled) return resume(this.outcome(f))
      body.onSettled(() => resume(this.outcome(f)))
      // An interrupted read leaves the body half-read: drop the connection.
      return Effect.sync(() => body.abort())
    })
  }

  get text(): Effect.Effect<string, HttpClientError.HttpClientError> {
    return this.read((bytes) => decoder.decode(bytes))
  }

  get json(): Effect.Effect<Schema.Json, HttpClientError.HttpClientError> {
    return this.read((bytes) => {
      const text = decoder.decode(bytes)
      return text === "" ? null : JSON.parse(text) as Schema.Json
    })
  }

  get urlParamsBody(): Effect.Effect<UrlParams.UrlParams, HttpClientError.HttpClientError> {
    // A leading "?" is part of the form, as Effect's own responses read it (`URLSearchParams` would drop it).
    return this.read((bytes) => UrlParams.fromInput(new URLSearchParams(decoder.decode(bytes).replace(/^\?/, "%3F"))))
  }

  get arrayBuffer(): Effect.Effect<ArrayBuffer, HttpClientError.HttpClientError> {
    // A copy for each caller: the body is shared by every accessor, and a
    // caller writing into its buffer must not change what the others read
    // (undici's chunks are views into the socket's reads, too).
    return this.read((bytes) => new Uint8Array(bytes).buffer)
  }

  get formData(): Effect.Effect<FormData, HttpClientError.HttpClientError> {
    return Effect.flatMap(
      this.read((bytes) =>
        new Response(bytes as Uint8Array<ArrayBuffer>, {
          headers: { "content-type": this.headers["content-type"] ?? "" }
        })
      ),
      (response) => Effect.tryPromise({ try: () => response.formData(), catch: (cause) => this.decodeError(cause) })
    )
  }

  /** This client asks for no upgrade and hands over no connection: refused as Effect's fetch client refuses it. */
  get upgrade(): Effect.Effect<Socket.Socket, HttpClientError.HttpClientError> {
    return Effect.fail(
      new HttpClientError.HttpClientError({
        reason: new HttpClientError.StatusCodeError({
          request: this.request,
          response: this,
          description: "NodeSfox's client cannot hand over the connection of an HTTP upgrade"
        })
      })
    )
  }

  /**
   * The body as a `Stream`, pulled: one pull takes every chunk buffered since
   * the last, and waits only when there is none. A failed body fails at
   * once, whatever it had buffered (a reader of a failed body only learns
   * where it broke). Ended early (an interrupted or short-circuited
   * consumer), it aborts the request: a half-read connection cannot go back
   * to the pool.
   */
  get stream(): Stream.Stream<Uint8Array, HttpClientError.HttpClientError> {
    const body = this.body
    return Stream.suspend(() => {
      let next = 0
      const pull: Pull.Pull<Chunks, HttpClientError.HttpClientError> = Effect.suspend(() => {
        if (body.failure !== undefined) return Effect.fail(this.decodeError(body.failure))
        const chunks = body.chunks
        if (next < chunks.length) {
          const taken = next === 0 && body.ended ? chunks : chunks.slice(next)
          next = chunks.length
          return Effect.succeed(taken as unknown as Chunks)
        }
        if (body.ended) return Cause.done()
        return Effect.callback<Chunks, HttpClientError.HttpClientError | Cause.Done>((resume) =>
          body.onChange(() => resume(pull))
        )
      })
      return Stream.fromPull(Effect.succeed(pull)).pipe(Stream.ensuring(endOf(body)))
    })
  }

  toJSON(): unknown {
    // Neither the request's headers (the API key) nor the body (tokens).
    return {
      _id: "HttpClientResponse",
      request: { method: this.request.method, url: this.request.url },
      status: this.status,
      headers: Redactable.redact(this.headers)
    }
  }

  pipe() {
    return pipeArguments(this, arguments)
  }
}
