/**
 * A typed endpoint is one descriptor plus one schema (ARCHITECTURE.md,
 * "Where to add an endpoint"): `GET /v1/user/balance` sent as a user over
 * the in-memory fake, under `TestClock`. The token comes from `get` (the
 * cache serves the second call), a refused token is minted again once, and
 * every way it can fail is a typed error.
 */
import { assert, describe, it } from "@effect/vitest"
import { Fault, httpClient, SfoxSimulator } from "@sfox-effect/effect4-core/testing"
import { Effect, Schedule, Schema } from "effect"
import * as HttpClient from "effect/http/HttpClient"
import * as HttpClientRequest from "effect/http/HttpClientRequest"
import { bodyLimit } from "../src/internal/answerBody.js"
import { decodeJson, type Endpoint } from "../src/internal/endpoint.js"
import * as Service from "../src/internal/userTokenService.js"
import type { UserTokenService } from "../src/UserTokenService.js"

// The schema: what the answer is.
const Balance = Schema.Array(Schema.Struct({
  currency: Schema.String,
  balance: Schema.Number,
  available: Schema.Number,
  held: Schema.Number
}))

// The descriptor: how the request is made, how much of the answer is read, how it decodes.
const request = HttpClientRequest.get("/v1/user/balance").pipe(HttpClientRequest.acceptJson)
const balance: Endpoint<void, typeof Balance.Type> = {
  method: "GET",
  template: "/v1/user/balance",
  request: () => request,
  bodyLimit: (status) => bodyLimit(status, 1),
  decode: decodeJson(Balance)
}

/** The fake, and the balance as a function of a user id, from a service over it. */
const setup = (options: Omit<UserTokenService.Options, "apiKey"> = {}) =>
  Effect.gen(function*() {
    const fake = yield* SfoxSimulator.make()
    const built = yield* Service.build({ ...options, apiKey: fake.apiKey }).pipe(
      Effect.provideService(HttpClient.HttpClient, httpClient(fake))
    )
    const calls = Effect.map(fake.requests, (requests) => requests.map((r) => `${r.method} ${r.path} ${r.status}`))
    return { fake, balanceOf: built.asUser(balance), service: built.service, calls }
  })

const mint = "POST /v1/enterprise/user-tokens 201"

describe("a typed endpoint: GET /v1/user/balance as a user", () => {
  it.effect("decodes the answer, sent with the user's token from `get`", () =>
    Effect.gen(function*() {
      const { balanceOf, calls, fake } = yield* setup({ cache: true })
      const first = yield* balanceOf("u1", undefined)
      assert.deepStrictEqual(first.map((b) => [b.currency, b.available]), [["usd", 1000], ["btc", 0.5]])
      yield* balanceOf("u1", undefined)
      // One mint: the second call's token came from the cache, through `get`.
      assert.deepStrictEqual(yield* calls, [mint, "GET /v1/user/balance 200", "GET /v1/user/balance 200"])
      const [, call] = yield* fake.requests
      // "valid" on a user endpoint: a live token of u1 (the fake refuses the key there).
      assert.strictEqual(call!.authorization, "valid")
      assert.deepStrictEqual(call!.userIds, ["u1"])
    }))

  it.effect("a revoked token: 401, a fresh token once, the request sent again", () =>
    Effect.gen(function*() {
      const { balanceOf, calls, fake } = yield* setup({ cache: true })
      yield* balanceOf("u1", undefined)
      assert.strictEqual(yield* fake.revoke("u1"), 1)
      const again = yield* balanceOf("u1", undefined)
      assert.strictEqual(again.length, 2)
      assert.deepStrictEqual(yield* calls, [
        mint,
        "GET /v1/user/balance 200",
        "GET /v1/user/balance 401",
        mint,
        "GET /v1/user/balance 200"
      ])
    }))

  it.effect("a second 401 is the typed Unauthorized: no third mint, no third send", () =>
    Effect.gen(function*() {
      const { balanceOf, calls, fake, service } = yield* setup({ cache: true })
      yield* service.get("u1")
      // The user call, the mint between (a zero delay: answered normally), the second user call.
      yield* fake.enqueue([Fault.status(401), Fault.delay(0), Fault.status(401)])
      const error = yield* Effect.flip(balanceOf("u1", undefined))
      assert.strictEqual(error._tag, "Unauthorized")
      assert.strictEqual(error._tag === "Unauthorized" ? error.status : 0, 401)
      assert.deepStrictEqual(yield* calls, [mint, "GET /v1/user/balance 401", mint, "GET /v1/user/balance 401"])
    }))

  it.effect("typed errors: an HTTP failure, an answer not of the schema, an invalid user id (nothing sent)", () =>
    Effect.gen(function*() {
      const { balanceOf, calls, fake, service } = yield* setup({ cache: true, retry: Schedule.recurs(0) })
      yield* service.get("u1")
      yield* fake.enqueue(Fault.status(404, { body: { error: "no such thing" } }))
      const notFound = yield* Effect.flip(balanceOf("u1", undefined))
      assert.strictEqual(notFound._tag, "HttpFailure")
      assert.strictEqual(notFound._tag === "HttpFailure" ? notFound.status : 0, 404)
      yield* fake.enqueue(Fault.malformed(JSON.stringify([{ currency: "usd" }]), 200))
      const malformed = yield* Effect.flip(balanceOf("u1", undefined))
      assert.strictEqual(malformed._tag, "MalformedResponse")
      assert.include(malformed.message, "missing")
      const before = (yield* calls).length
      const invalid = yield* Effect.flip(balanceOf("", undefined))
      assert.strictEqual(invalid._tag, "InvalidUserId")
      assert.strictEqual((yield* calls).length, before)
    }))
})
