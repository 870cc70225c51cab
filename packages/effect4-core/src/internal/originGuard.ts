import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as FetchHttpClient from "effect/http/FetchHttpClient"
import * as Headers from "effect/http/Headers"
import * as HttpBody from "effect/http/HttpBody"
import * as HttpClient from "effect/http/HttpClient"
import * as HttpClientError from "effect/http/HttpClientError"
import * as HttpClientRequest from "effect/http/HttpClientRequest"
import type * as HttpClientResponse from "effect/http/HttpClientResponse"
import * as UrlParams from "effect/http/UrlParams"
import * as Option from "effect/Option"
import { declareEnforcesDeadline, enforcesDeadline, isPlain } from "./clientAbilities.js"

/** The cause code of a request the guard refused to send: it was going to another origin with the key. */
export const foreignOriginCode = "SFOX_FOREIGN_ORIGIN"

class ForeignOriginError extends Error {
  readonly code = foreignOriginCode
  constructor() {
    super("request to an origin other than baseUrl refused: it would carry the enterprise key")
    this.name = "ForeignOriginError"
  }
}

/** The description of the `StatusCodeError` a 3xx answer becomes under the guard. */
const redirectRefused = "sfox-effect: redirect refused"

// Every header value is redacted in the platform's spans: Effect 4 records
// headers on a client span only when a program asks for them
// (`HttpClient.TracerHeaderFilter`), and a server may echo the key or a token
// in any response header, under any name, which the span would then export.
// The names stay, so a trace still shows which headers came.
const everyHeader: ReadonlyArray<RegExp> = [/^/]

/**
 * Wraps the `HttpClient` the service sends its key through (below any
 * `transformClient`), so that the key never leaves for another origin:
 *
 * - a request whose URL is not on `origin` is not sent (it can only come
 *   from a redirect being followed above, or a transform that rewrote the
 *   URL);
 * - a 3xx answer fails before any redirect follower above sees it
 *   (`HttpClient.followRedirects`), and is reported as `HttpFailure` with
 *   its status;
 * - under `FetchHttpClient`, which follows redirects itself, the request is
 *   sent with `redirect: "manual"`, so the 3xx comes back instead.
 */
export const guard = (client: HttpClient.HttpClient, origin: string): HttpClient.HttpClient => {
  // A plain client follows no redirect and records no header: nothing to set around its requests.
  const guarded = guardOf(client, origin, isPlain(client))
  // The guard neither waits nor forks: a client that ends an attempt at its
  // deadline still does so under it.
  return enforcesDeadline(client) ? declareEnforcesDeadline(guarded) : guarded
}

const guardOf = (client: HttpClient.HttpClient, origin: string, plain: boolean): HttpClient.HttpClient =>
  // The check sits in the client's last step, not in a request mapping: a
  // mapping added above (`transformClient: HttpClient.mapRequest(...)`) runs
  // after every mapping below it, so only here is the final URL known.
  HttpClient.makeWith(
    (request) =>
      Effect.flatMap(request, (request) =>
        sameOrigin(request.url, origin)
          ? plain ? refuseRedirect(client.execute(request)) : send(client, request)
          : Effect.fail(
            new HttpClientError.HttpClientError({
              reason: new HttpClientError.InvalidUrlError({
                // The refused request is kept as its method and URL only: its headers hold the key.
                request: bare(request),
                cause: new ForeignOriginError()
              })
            })
          )),
    Effect.succeed as HttpClient.HttpClient.Preprocess<never, never>
  )

/** fetch's `redirect: "manual"` over whatever `RequestInit` the program gave, and every header redacted: one context. */
const send = (
  client: HttpClient.HttpClient,
  request: HttpClientRequest.HttpClientRequest
): Effect.Effect<HttpClientResponse.HttpClientResponse, HttpClientError.HttpClientError> =>
  refuseRedirect(
    Effect.updateContext(client.execute(request), (context: Context.Context<never>) =>
      Context.add(
        Context.add(context, FetchHttpClient.RequestInit, {
          ...Context.getOrUndefined(context, FetchHttpClient.RequestInit),
          redirect: "manual"
        }),
        Headers.CurrentRedactedNames,
        everyHeader
      ))
  )

/** A redirect is never followed with the key: it fails, and the pipeline reads it as the answer it was. */
const refuseRedirect = (
  response: Effect.Effect<HttpClientResponse.HttpClientResponse, HttpClientError.HttpClientError>
): Effect.Effect<HttpClientResponse.HttpClientResponse, HttpClientError.HttpClientError> =>
  Effect.flatMap(response, (response) =>
    response.status >= 300 && response.status < 400
      ? Effect.fail(
        new HttpClientError.HttpClientError({
          reason: new HttpClientError.StatusCodeError({
            request: bare(response.request),
            response,
            description: redirectRefused
          })
        })
      )
      : Effect.succeed(response))

const bare = (request: HttpClientRequest.HttpClientRequest): HttpClientRequest.HttpClientRequest =>
  HttpClientRequest.makeWith(request.method, request.url, UrlParams.empty, Option.none(), Headers.empty, HttpBody.empty)

/** The 3xx answer the guard refused to hand on, if `error` is one. */
export const refusedRedirectResponse = (
  error: HttpClientError.HttpClientError
): HttpClientResponse.HttpClientResponse | undefined =>
  error.reason._tag === "StatusCodeError" && error.reason.description === redirectRefused
    ? error.reason.response
    : undefined

// A prefix test, not `new URL` (this runs for every request): the service's
// own URLs are `${origin}/…` exactly, and anything else, even a spelling of
// the same origin (an explicit default port, upper case), is refused.
const sameOrigin = (url: string, origin: string): boolean =>
  url.startsWith(origin) && url.charCodeAt(origin.length) === 47 /* "/" */
