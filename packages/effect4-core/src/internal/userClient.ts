import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Headers from "effect/http/Headers"
import * as HttpBody from "effect/http/HttpBody"
import * as HttpClient from "effect/http/HttpClient"
import * as HttpClientError from "effect/http/HttpClientError"
import * as HttpClientRequest from "effect/http/HttpClientRequest"
import * as HttpClientResponse from "effect/http/HttpClientResponse"
import * as HttpIncomingMessage from "effect/http/HttpIncomingMessage"
import * as UrlParams from "effect/http/UrlParams"
import * as Inspectable from "effect/Inspectable"
import * as Option from "effect/Option"
import { pipeArguments } from "effect/Pipeable"
import * as Result from "effect/Result"
import * as Stream from "effect/Stream"
import type { RequestFailure, UserTokenError } from "../SfoxError.js"
import { maxErrorBodyBytes, readBody } from "./answerBody.js"
import type * as AsUser from "./asUser.js"
import type { Endpoint } from "./endpoint.js"
import { timeoutOrFail } from "./timeout.js"
import { timeout as timeoutError } from "./transport.js"
import { userAgent } from "./version.js"

export interface UserClientOptions {
  /** Sends an endpoint as a user (`asUser.ts`). */
  readonly asUser: ReturnType<typeof AsUser.make>
  /** Origin plus optional path prefix, no trailing slash. */
  readonly baseUrl: string
  /** One attempt's time: what each read of an answer's body is allowed too. */
  readonly timeoutMillis: number
}

/** Methods whose request may be sent twice with the effect of once (RFC 9110, 9.2.2). */
const idempotent = new Set(["GET", "HEAD", "OPTIONS", "PUT", "DELETE", "TRACE"])

/**
 * A request that may have reached sFOX and is not idempotent is sent again
 * only when sFOX surely did not act on it: it refused it for the rate limit,
 * or the connection failed before the request was written.
 */
const surelyNotActedOn = (failure: RequestFailure): boolean =>
  failure._tag === "RateLimited" || (failure._tag === "TransportError" && failure.reason === "Connect")

/** Statuses retried when the request may be sent again: the same ones `isTransient` heals. */
const isUnwelcome = (status: number): boolean => status === 429 || status === 408 || status >= 500

/** The request the URL resolves to, or undefined when it leaves `baseUrl`'s origin. */
const resolve = (url: string, baseUrl: string, origin: string): string | undefined => {
  if (url.startsWith("/")) return `${baseUrl}${url}`
  let absolute: URL
  try {
    absolute = new URL(url)
  } catch {
    // A path without its leading slash.
    return `${baseUrl}/${url}`
  }
  return absolute.origin === origin ? absolute.href : undefined
}

class ForeignOrigin extends Error {
  constructor() {
    super("request to an origin other than baseUrl refused: it would carry a user's token")
    this.name = "ForeignOriginError"
  }
}

/**
 * A copy of `request` without its `Authorization` header: what the caller
 * sees of the request in a response or an error.
 */
const withoutCredentials = (request: HttpClientRequest.HttpClientRequest): HttpClientRequest.HttpClientRequest =>
  request.headers["authorization"] === undefined ? request : HttpClientRequest.removeHeader(request, "authorization")

/**
 * The response as the caller gets it: the same answer, whose `request` is
 * the one without the token. The platform's response would hand out the
 * header it was sent with, in `request`, in its renderings and in the
 * `HttpClientError` of a body that fails to read or decode (whatever its
 * reason: each one holds the request).
 *
 * The attempt ended with the headers; each read of the body is allowed the
 * attempt's time (`timeout`, "one attempt, body included") from its start,
 * and fails past it with an `HttpClientError` whose reason is a
 * `DecodeError` caused by a `TransportError` `Timeout`: a body that trickles
 * in is bounded by the service, not by the client's own timers (undici's 30 s
 * gap between two chunks, or none). The interrupted read drops the
 * connection (NodeSfox's client does, and so does the platform's).
 */
class PresentedResponse extends Inspectable.Class implements HttpClientResponse.HttpClientResponse {
  readonly [HttpClientResponse.TypeId]: typeof HttpClientResponse.TypeId = HttpClientResponse.TypeId
  readonly [HttpIncomingMessage.TypeId]: typeof HttpIncomingMessage.TypeId = HttpIncomingMessage.TypeId

  constructor(
    private readonly original: HttpClientResponse.HttpClientResponse,
    readonly request: HttpClientRequest.HttpClientRequest,
    private readonly readMillis: number
  ) {
    super()
  }

  get status() {
    return this.original.status
  }
  get url() {
    return this.original.url
  }
  get headers() {
    return this.original.headers
  }
  get cookies() {
    return this.original.cookies
  }
  get remoteAddress() {
    return this.original.remoteAddress
  }
  get formData() {
    return this.own(this.original.formData)
  }
  get text() {
    return this.own(this.original.text)
  }
  get json() {
    return this.own(this.original.json)
  }
  get urlParamsBody() {
    return this.own(this.original.urlParamsBody)
  }
  get arrayBuffer() {
    return this.own(this.original.arrayBuffer)
  }
  get upgrade() {
    return this.own(this.original.upgrade)
  }
  /** Bounded as a whole, from its first pull: a reader slower than `timeout` buffers or reads `arrayBuffer`. */
  get stream() {
    return Stream.mapError(this.original.stream, (error) => this.ownError(error)).pipe(
      Stream.interruptWhen(
        Effect.andThen(Effect.sleep(Duration.millis(this.readMillis)), Effect.failSync(() => this.readTimedOut()))
      )
    )
  }

  private own<A>(
    read: Effect.Effect<A, HttpClientError.HttpClientError>
  ): Effect.Effect<A, HttpClientError.HttpClientError> {
    return timeoutOrFail(
      Effect.mapError(read, (error) => this.ownError(error)),
      this.readMillis,
      () => this.readTimedOut()
    )
  }

  private readTimedOut(): HttpClientError.HttpClientError {
    return new HttpClientError.HttpClientError({
      reason: new HttpClientError.DecodeError({
        request: this.request,
        response: this,
        cause: timeoutError("reading the answer's body", this.readMillis),
        description: `the body did not come within ${this.readMillis} ms (the service's timeout)`
      })
    })
  }

  /** The same error, naming this response and the request without the token. */
  private ownError(error: HttpClientError.HttpClientError): HttpClientError.HttpClientError {
    return new HttpClientError.HttpClientError({ reason: this.ownReason(error.reason) })
  }

  private ownReason(reason: HttpClientError.HttpClientErrorReason): HttpClientError.HttpClientErrorReason {
    const { cause, description } = reason
    const sent = { request: this.request, cause, ...(description === undefined ? {} : { description }) }
    const answered = { ...sent, response: this as HttpClientResponse.HttpClientResponse }
    switch (reason._tag) {
      case "TransportError":
        return new HttpClientError.TransportError(sent)
      case "EncodeError":
        return new HttpClientError.EncodeError(sent)
      case "InvalidUrlError":
        return new HttpClientError.InvalidUrlError(sent)
      case "StatusCodeError":
        return new HttpClientError.StatusCodeError(answered)
      case "DecodeError":
        return new HttpClientError.DecodeError(answered)
      case "EmptyBodyError":
        return new HttpClientError.EmptyBodyError(answered)
    }
  }

  pipe() {
    return pipeArguments(this, arguments)
  }

  // Status and request only: the answer's headers are whatever the server chose to echo.
  toJSON(): unknown {
    return { _id: "HttpClientResponse", request: this.request.toJSON(), status: this.status }
  }
}

/**
 * Reads a little of a body nobody will use, so its connection can serve the
 * next request; within the attempt's time, as any read of a body (the retry
 * or the new token waits for it). Given up, the read drops the connection.
 */
const discard = (response: HttpClientResponse.HttpClientResponse, millis: number): Effect.Effect<void> =>
  Effect.ignore(timeoutOrFail(readBody(response, maxErrorBodyBytes), millis, () => undefined))

/** The endpoint of a caller's request with `method`: any path, its refusals the caller's answers. */
const userEndpoint = (
  method: string,
  readMillis: number
): Endpoint<HttpClientRequest.HttpClientRequest, HttpClientResponse.HttpClientResponse> => ({
  // A caller's path may hold ids: these requests have no URL template.
  method,
  request: (request) => request,
  decode: (answer) => Result.succeed(answer.response),
  refusal: {
    answer: (answer) => answer.response,
    retried: isUnwelcome,
    release: (answer) => discard(answer.response, readMillis)
  },
  // A body that cannot be replayed is never sent again: the pipeline's own rule.
  mayResend: idempotent.has(method) ? undefined : surelyNotActedOn
})

/** The caller's request as sent: on `baseUrl`, with `accept` and `user-agent` when it has none; `undefined` off the origin. */
const outgoingOf = (
  request: HttpClientRequest.HttpClientRequest,
  baseUrl: string,
  origin: string
): HttpClientRequest.HttpClientRequest | undefined => {
  const url = resolve(request.url, baseUrl, origin)
  if (url === undefined) return undefined
  let visible = withoutCredentials(HttpClientRequest.setUrl(request, url))
  if (visible.headers["accept"] === undefined) visible = HttpClientRequest.acceptJson(visible)
  if (visible.headers["user-agent"] === undefined) {
    visible = HttpClientRequest.setHeader(visible, "user-agent", userAgent)
  }
  return visible
}

const foreignOrigin = (request: HttpClientRequest.HttpClientRequest) =>
  new HttpClientError.HttpClientError({
    reason: new HttpClientError.InvalidUrlError({
      // Method and URL only: whatever headers it had stay with the caller.
      request: HttpClientRequest.makeWith(
        request.method,
        request.url,
        UrlParams.empty,
        Option.none(),
        Headers.empty,
        HttpBody.empty
      ),
      cause: new ForeignOrigin()
    })
  })

/**
 * `clientFor(userId)`: an `HttpClient` that acts as one end user, the
 * endpoint of any request sent as a user (`asUser.ts`: the token from `get`,
 * the one fresh token on a 401) through the service's pipeline.
 */
export const make = (options: UserClientOptions) => {
  const { asUser, baseUrl, timeoutMillis } = options
  const origin = new URL(baseUrl).origin
  const refusedToken = (response: HttpClientResponse.HttpClientResponse) =>
    response.status === 401 ? discard(response, timeoutMillis) : undefined
  const senders = new Map<string, ReturnType<typeof asUserWith>>()
  const asUserWith = (method: string) => asUser(userEndpoint(method, timeoutMillis), refusedToken)
  const senderOf = (method: string) => {
    let found = senders.get(method)
    if (found === undefined) {
      found = asUserWith(method)
      senders.set(method, found)
    }
    return found
  }

  return (userId: string): HttpClient.HttpClient.With<HttpClientError.HttpClientError | UserTokenError> => {
    const execute = (
      request: HttpClientRequest.HttpClientRequest
    ): Effect.Effect<HttpClientResponse.HttpClientResponse, HttpClientError.HttpClientError | UserTokenError> => {
      const outgoing = outgoingOf(request, baseUrl, origin)
      if (outgoing === undefined) return Effect.fail(foreignOrigin(request))
      return Effect.map(
        senderOf(outgoing.method)(userId, outgoing),
        (response) => new PresentedResponse(response, outgoing, timeoutMillis)
      )
    }
    return HttpClient.makeWith(
      (request) => Effect.flatMap(request, execute),
      Effect.succeed as HttpClient.HttpClient.Preprocess<never, never>
    )
  }
}
