import { SimulationDelivery } from "@sfox-effect/domain"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as HttpClientError from "effect/http/HttpClientError"
import type * as HttpClientRequest from "effect/http/HttpClientRequest"
import * as HttpClientResponse from "effect/http/HttpClientResponse"
import type { SimRequest, SimResponse } from "../../SfoxSimulator.js"

/**
 * The simulator served in memory (`FakeSfox.httpClient`): a platform request
 * read as the simulator's, and its answer acted out as a platform response,
 * transport faults included (as the domain's `SimulationDelivery` says), on
 * Effect's clock.
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
        new Response(SimulationDelivery.hasBody(answer.status) ? body : null, {
          status: answer.status,
          headers: answer.headers
        })
      )
    const delivery = answer.delivery
    switch (delivery._tag) {
      case "Normal":
        return Effect.succeed(respond(answer.body))
      case "ResetBeforeHeaders":
        return Effect.fail(
          transportError(request, SimulationDelivery.errorOf(SimulationDelivery.imitated.ResetBeforeHeaders))
        )
      case "NoAnswer":
        return Effect.never
      case "Trickle":
        return Effect.as(
          Effect.sleep(Duration.millis(SimulationDelivery.trickleMillis(answer.body, delivery))),
          respond(answer.body)
        )
      case "ResetAfterHeaders":
      case "ShortBody":
        return Effect.succeed(respond(SimulationDelivery.cutBody(answer.body, delivery._tag)))
    }
  }
