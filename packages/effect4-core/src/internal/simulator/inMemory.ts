import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as HttpClientError from "effect/http/HttpClientError"
import type * as HttpClientRequest from "effect/http/HttpClientRequest"
import * as HttpClientResponse from "effect/http/HttpClientResponse"
import type { SimRequest, SimResponse } from "../../SfoxSimulator.js"

/**
 * The simulator served in memory (`FakeSfox.httpClient`): a platform request
 * read as the simulator's, and its answer acted out as a platform response,
 * transport faults included, on Effect's clock.
 */

const decoder = new TextDecoder()

const bodyText = (body: HttpClientRequest.HttpClientRequest["body"]): string => {
  switch (body._tag) {
    case "Uint8Array":
      // A text body keeps its text: no encoding to bytes and back.
      return body.text ?? decoder.decode(body.body)
    case "Raw":
      return typeof body.body === "string" ? body.body : ""
    default:
      return ""
  }
}

const networkError = (message: string, code: string): Error => Object.assign(new Error(message), { code })

// Statuses whose answers cannot carry a body in the Fetch API.
const nullBodyStatuses = new Set([101, 204, 205, 304])

const cutShort = (body: string, keep: number, error: Error): ReadableStream<Uint8Array> => {
  const bytes = new TextEncoder().encode(body)
  return new ReadableStream({
    start(controller) {
      controller.enqueue(bytes.slice(0, Math.min(keep, bytes.length)))
      controller.error(error)
    }
  })
}

/** The simulator's view of a platform request. */
export const simRequest = (request: HttpClientRequest.HttpClientRequest, url: URL): SimRequest => ({
  method: request.method,
  path: url.pathname,
  headers: request.body._tag === "Empty" || request.body.contentType === undefined
    ? { ...request.headers }
    : { ...request.headers, "content-type": request.body.contentType },
  body: bodyText(request.body)
})

const transportError = (request: HttpClientRequest.HttpClientRequest, cause: Error) =>
  new HttpClientError.HttpClientError({ reason: new HttpClientError.TransportError({ request, cause }) })

/** Acts a simulator's answer out as a platform response. */
export const act =
  (request: HttpClientRequest.HttpClientRequest) =>
  (answer: SimResponse): Effect.Effect<HttpClientResponse.HttpClientResponse, HttpClientError.HttpClientError> => {
    const respond = (body: BodyInit | null) =>
      HttpClientResponse.fromWeb(
        request,
        new Response(nullBodyStatuses.has(answer.status) ? null : body, {
          status: answer.status,
          headers: answer.headers
        })
      )
    const delivery = answer.delivery
    switch (delivery._tag) {
      case "Normal":
        return Effect.succeed(respond(answer.body))
      case "ResetBeforeHeaders":
        return Effect.fail(transportError(request, networkError("socket hang up", "ECONNRESET")))
      case "NoAnswer":
        return Effect.never
      case "Trickle": {
        const chunks = Math.ceil(new TextEncoder().encode(answer.body).length / delivery.chunkSize)
        return Effect.as(Effect.sleep(Duration.millis(chunks * delivery.intervalMillis)), respond(answer.body))
      }
      case "ResetAfterHeaders":
        return Effect.succeed(
          respond(cutShort(answer.body, answer.body.length >> 1, networkError("other side closed", "UND_ERR_SOCKET")))
        )
      case "ShortBody":
        return Effect.succeed(respond(cutShort(
          answer.body,
          answer.body.length,
          networkError("response body is shorter than its content-length", "UND_ERR_RES_CONTENT_LENGTH_MISMATCH")
        )))
    }
  }
