import * as Headers from "@effect/platform/Headers"
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientError from "@effect/platform/HttpClientError"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import * as HttpIncomingMessage from "@effect/platform/HttpIncomingMessage"
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Inspectable from "effect/Inspectable"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Stream from "effect/Stream"
import type { InvalidUserId, RequestFailure, UserTokenError } from "../SfoxError.js"
import type { UserAuthToken } from "../UserAuthToken.js"
import { maxErrorBodyBytes, readBody } from "./answerBody.js"
import { failureOf } from "./classify.js"
import { isReplayable } from "./replayable.js"
import type * as Pipeline from "./request.js"
import { Unwelcome } from "./request.js"
import * as Telemetry from "./telemetry.js"
import { timeoutFail } from "./timeout.js"
import { timeout as timeoutError } from "./transport.js"
import { userAgent } from "./version.js"

export interface UserClientOptions {
  readonly pipeline: Pipeline.Pipeline
  /** Origin plus optional path prefix, no trailing slash. */
  readonly baseUrl: string
  readonly get: (userId: string) => Effect.Effect<UserAuthToken, InvalidUserId | RequestFailure>
  readonly invalidate: (userId: string) => Effect.Effect<void>
  readonly secrets: ReadonlyArray<string>
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

// Marks an answer whose body the client does not read: it is the caller's.
const bodyLeftToCaller = "(answer body left to the caller)"

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
  request.headers["authorization"] === undefined
    ? request
    : HttpClientRequest.setBody(
      HttpClientRequest.make(request.method)(request.url, {
        urlParams: request.urlParams,
        hash: Option.getOrUndefined(request.hash),
        headers: Headers.remove(request.headers, "authorization")
      }),
      request.body
    )

/**
 * The response as the caller gets it: the same answer, whose `request` is
 * the one without the token. The platform's response would hand out the
 * header it was sent with, in `request`, in its renderings and in the
 * `ResponseError` of a body that fails to read or decode.
 *
 * The attempt ended with the headers; each read of the body is allowed the
 * attempt's time (`timeout`, "one attempt, body included") from its start,
 * and fails past it with a `ResponseError` whose cause is a `TransportError`
 * `Timeout`: a body that trickles in is bounded by the service, not by the
 * client's own timers (undici's 30 s gap between two chunks, or none). The
 * interrupted read drops the connection (NodeSfox's client does).
 */
class PresentedResponse implements HttpClientResponse.HttpClientResponse {
  readonly [HttpClientResponse.TypeId]: HttpClientResponse.TypeId = HttpClientResponse.TypeId
  readonly [HttpIncomingMessage.TypeId]: HttpIncomingMessage.TypeId = HttpIncomingMessage.TypeId

  constructor(
    private readonly original: HttpClientResponse.HttpClientResponse,
    readonly request: HttpClientRequest.HttpClientRequest,
    private readonly readMillis: number
  ) {}

  get status() {
    return this.original.status
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
  /** Bounded as a whole, from its first pull: a reader slower than `timeout` buffers or reads `arrayBuffer`. */
  get stream() {
    return Stream.mapError(this.original.stream, (error) => this.ownError(error)).pipe(
      Stream.interruptWhen(
        Effect.zipRight(Effect.sleep(Duration.millis(this.readMillis)), Effect.failSync(() => this.readTimedOut()))
      )
    )
  }

  private own<A, E>(read: Effect.Effect<A, E>): Effect.Effect<A, E | HttpClientError.ResponseError> {
    return timeoutFail(
      Effect.mapError(read, (error) => this.ownError(error)),
      this.readMillis,
      () => this.readTimedOut()
    )
  }

  private readTimedOut(): HttpClientError.ResponseError {
    return new HttpClientError.ResponseError({
      request: this.request,
      response: this,
      reason: "Decode",
      cause: timeoutError("reading the answer's body", this.readMillis),
      description: `the body did not come within ${this.readMillis} ms (the service's timeout)`
    })
  }

  private ownError<E>(error: E): E {
    return HttpClientError.isHttpClientError(error) && error._tag === "ResponseError"
      ? new HttpClientError.ResponseError({
        request: this.request,
        response: this,
        reason: error.reason,
        cause: error.cause,
        ...(error.description === undefined ? {} : { description: error.description })
      }) as E
      : error
  }

  toJSON(): unknown {
    return { _id: "@effect/platform/HttpClientResponse", request: this.request.toJSON(), status: this.status }
  }
  toString(): string {
    return Inspectable.format(this.toJSON())
  }
  [Inspectable.NodeInspectSymbol](): unknown {
    return this.toJSON()
  }
}

/**
 * Reads a little of a body nobody will use, so its connection can serve the
 * next request; within the attempt's time, as any read of a body (the retry
 * or the new token waits for it). Given up, the read drops the connection.
 */
const discard = (response: HttpClientResponse.HttpClientResponse, millis: number): Effect.Effect<void> =>
  Effect.ignore(timeoutFail(readBody(response, maxErrorBodyBytes), millis, () => undefined))

/**
 * `clientFor(userId)`: an `HttpClient` that acts as one end user. Every
 * request goes through the service's pipeline (its rate limiter, timeouts,
 * deadline, retries and telemetry) with `Authorization: Bearer <token>`,
 * the token from `get`.
 */
export const make = (options: UserClientOptions) => {
  const { baseUrl, get, invalidate, pipeline, secrets, timeoutMillis } = options
  const origin = new URL(baseUrl).origin
  const server = Telemetry.serverOf(baseUrl)
  // A caller's path may hold ids: these requests have no URL template.
  const endpoints = new Map<string, Telemetry.Endpoint>()
  const endpointOf = (method: string): Telemetry.Endpoint => {
    let found = endpoints.get(method)
    if (found === undefined) {
      found = Telemetry.endpoint(method, server)
      endpoints.set(method, found)
    }
    return found
  }

  const judge = (response: HttpClientResponse.HttpClientResponse) => {
    const status = response.status
    if (!isUnwelcome(status)) return Effect.succeed(response)
    return Effect.flatMap(Clock.currentTimeMillis, (receivedAt) =>
      Effect.fail(
        new Unwelcome(
          response,
          failureOf(
            {
              status,
              headers: response.headers,
              body: bodyLeftToCaller,
              receivedAt
            },
            receivedAt,
            secrets
          ),
          discard(response, timeoutMillis)
        )
      ))
  }

  return (userId: string): HttpClient.HttpClient.With<HttpClientError.HttpClientError | UserTokenError> => {
    const send = (
      request: HttpClientRequest.HttpClientRequest,
      token: UserAuthToken
    ): Effect.Effect<HttpClientResponse.HttpClientResponse, RequestFailure> =>
      pipeline.send({
        request: HttpClientRequest.setHeader(request, "authorization", `Bearer ${Redacted.value(token.token)}`),
        receive: Effect.succeed,
        statusOf: (response) => response.status,
        judge,
        // A body that cannot be replayed is never sent again: the pipeline's own rule.
        mayResend: idempotent.has(request.method) ? undefined : surelyNotActedOn,
        endpoint: endpointOf(request.method)
      })

    const execute = (
      request: HttpClientRequest.HttpClientRequest
    ): Effect.Effect<HttpClientResponse.HttpClientResponse, HttpClientError.HttpClientError | UserTokenError> => {
      const url = resolve(request.url, baseUrl, origin)
      if (url === undefined) {
        return Effect.fail(
          new HttpClientError.RequestError({
            // Method and URL only: whatever headers it had stay with the caller.
            request: HttpClientRequest.make(request.method)(request.url),
            reason: "InvalidUrl",
            cause: new ForeignOrigin()
          })
        )
      }
      let visible = withoutCredentials(HttpClientRequest.setUrl(request, url))
      if (visible.headers["accept"] === undefined) visible = HttpClientRequest.acceptJson(visible)
      if (visible.headers["user-agent"] === undefined) {
        visible = HttpClientRequest.setHeader(visible, "user-agent", userAgent)
      }
      const outgoing = visible
      return Effect.flatMap(
        get(userId),
        (token) =>
          Effect.flatMap(send(outgoing, token), (response) =>
            response.status !== 401
              ? Effect.succeed(new PresentedResponse(response, outgoing, timeoutMillis))
              // A body that cannot be sent again: the 401 is the answer, and the
              // refused token goes (the next request mints a fresh one first).
              : !isReplayable(outgoing.body)
              ? Effect.as(invalidate(userId), new PresentedResponse(response, outgoing, timeoutMillis))
              // The token was refused (revoked, say): once, a fresh one.
              : discard(response, timeoutMillis).pipe(
                Effect.zipRight(invalidate(userId)),
                Effect.zipRight(get(userId)),
                Effect.flatMap((fresh) => send(outgoing, fresh)),
                Effect.map((again) => new PresentedResponse(again, outgoing, timeoutMillis))
              ))
      ).pipe(Telemetry.userRequestSpan(request.method))
    }

    return HttpClient.makeWith(
      (request) => Effect.flatMap(request, execute),
      Effect.succeed as HttpClient.HttpClient.Preprocess<never, never>
    )
  }
}
