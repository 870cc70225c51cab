/**
 * A stand-in for sFOX's "initiate ACH deposit" endpoint, so that `pnpm start`
 * runs with no key and no network: an `HttpRouter` served on `127.0.0.1`.
 * (The token endpoints are `MockSfoxServer` from `@sfox-effect/node/testing`.)
 *
 * It takes any token shaped like the ones sFOX (and the simulator) mint, and
 * refuses deposits over $10,000 with a 422, as a real limit would.
 */
import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import * as HttpRouter from "@effect/platform/HttpRouter"
import * as HttpServer from "@effect/platform/HttpServer"
import type * as HttpServerError from "@effect/platform/HttpServerError"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import type * as Scope from "effect/Scope"
import * as Crypto from "node:crypto"
import * as Http from "node:http"

export const depositLimit = 10_000

const DepositBody = Schema.Struct({ amount: Schema.Number })

export const router = HttpRouter.empty.pipe(
  HttpRouter.post(
    "/v1/user/bank/deposit",
    Effect.gen(function*() {
      const request = yield* HttpServerRequest.HttpServerRequest
      if (!/^Bearer [0-9a-f]{64}$/.test(request.headers["authorization"] ?? "")) {
        return yield* HttpServerResponse.json({ error: "invalid user auth token" }, { status: 401 })
      }
      const body = yield* Effect.option(HttpServerRequest.schemaBodyJson(DepositBody))
      if (body._tag === "None" || !(body.value.amount > 0)) {
        return yield* HttpServerResponse.json({ error: "amount must be a positive number" }, { status: 400 })
      }
      if (body.value.amount > depositLimit) {
        return yield* HttpServerResponse.json({ error: `amount exceeds the $${depositLimit} ACH deposit limit` }, {
          status: 422
        })
      }
      return yield* HttpServerResponse.json(
        { id: `ach_${Crypto.randomUUID()}`, amount: body.value.amount, status: "pending" },
        { status: 201 }
      )
    })
  )
)

/** Serves `router` on an ephemeral loopback port until the scope closes. */
export const make: Effect.Effect<{ readonly url: string }, HttpServerError.ServeError, Scope.Scope> = Effect.gen(
  function*() {
    const server = yield* NodeHttpServer.make(() => Http.createServer(), { port: 0, host: "127.0.0.1" })
    yield* server.serve(router)
    return { url: HttpServer.formatAddress(server.address) }
  }
)
