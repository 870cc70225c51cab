/**
 * `PlainClient`: around a declared client the service sets neither fetch's
 * `redirect: "manual"` nor the redacted header names; around any other it
 * sets both. A redirect is refused from either, and a foreign origin never
 * reaches either.
 */
import { assert, describe, it } from "@effect/vitest"
import { UserTokenService } from "@sfox-effect/effect4-core"
import * as PlainClient from "@sfox-effect/effect4-core/internal/clientProtocol"
import { Effect, Layer, Option, Redacted, Schedule } from "effect"
import * as FetchHttpClient from "effect/http/FetchHttpClient"
import * as Headers from "effect/http/Headers"
import * as HttpClient from "effect/http/HttpClient"
import * as HttpClientResponse from "effect/http/HttpClientResponse"

const body = () =>
  JSON.stringify({
    data: { token: "a".repeat(64), partner_user_id: "u1", expires: new Date(Date.now() + 86_400_000).toISOString() }
  })

/** A client that answers `status` and records what the fiber of each request had set. */
const recording = (status: number) => {
  const seen: Array<{ readonly redirect: string | undefined; readonly redactsAll: boolean }> = []
  const client = HttpClient.make((request) =>
    Effect.gen(function*() {
      const init = yield* Effect.serviceOption(FetchHttpClient.RequestInit)
      const redacted = yield* Headers.CurrentRedactedNames
      seen.push({
        redirect: Option.getOrUndefined(init)?.redirect,
        redactsAll: redacted.some((name) => typeof name !== "string" && name.test("x-anything"))
      })
      return HttpClientResponse.fromWeb(
        request,
        new Response(status === 201 ? body() : "", {
          status,
          headers: status === 302 ? { location: "https://elsewhere.example/" } : {}
        })
      )
    })
  )
  return { client, seen }
}

const service = (client: HttpClient.HttpClient) =>
  UserTokenService.layer({ apiKey: Redacted.make("k"), retry: Schedule.recurs(0), rateLimit: false }).pipe(
    Layer.provide(Layer.succeed(HttpClient.HttpClient, client))
  )

const mint = Effect.flatMap(UserTokenService, (tokens) => Effect.result(tokens.create("u1")))

describe("PlainClient", () => {
  it.effect("a declared client gets its request as it is: no RequestInit, no redaction set around it", () => {
    const { client, seen } = recording(201)
    assert.isTrue(PlainClient.isDeclared(PlainClient.declare(client)))
    return Effect.gen(function*() {
      const result = yield* mint
      assert.isTrue(result._tag === "Success")
      assert.deepStrictEqual(seen, [{ redirect: undefined, redactsAll: false }])
    }).pipe(Effect.provide(service(client)))
  })

  it.effect("any other client: fetch told not to follow redirects, every header name redacted", () => {
    const { client, seen } = recording(201)
    assert.isFalse(PlainClient.isDeclared(client))
    return Effect.gen(function*() {
      yield* mint
      assert.deepStrictEqual(seen, [{ redirect: "manual", redactsAll: true }])
    }).pipe(Effect.provide(service(client)))
  })

  it.effect("a redirect answered through a declared client ends the call as a 302 HttpFailure", () => {
    const { client } = recording(302)
    return Effect.gen(function*() {
      const result = yield* mint
      assert.isTrue(result._tag === "Failure" && result.failure._tag === "HttpFailure" && result.failure.status === 302)
    }).pipe(Effect.provide(service(PlainClient.declare(client))))
  })

  it.effect("a client made from a declared one by a combinator is not declared", () =>
    Effect.sync(() => {
      const { client } = recording(201)
      const declared = PlainClient.declare(client)
      assert.isFalse(PlainClient.isDeclared(HttpClient.followRedirects(declared)))
    }))
})
