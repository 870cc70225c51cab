/**
 * `clientFor(userId)`: acting as an end user over the in-memory fake, under
 * `TestClock`. The fake's user endpoints accept only tokens it minted and
 * has not revoked, and refuse the enterprise key, so an accepted request
 * proves it carried a live user token.
 */
import { assert, describe, it } from "@effect/vitest"
import { type TransportError, type UserTokenError, UserTokenService } from "@sfox-effect/effect4-core"
import { FakeSfox, Fault } from "@sfox-effect/effect4-core/testing"
import { Effect, Fiber, Formatter, Redacted, Schedule, Schema, Stream } from "effect"
import * as HttpBody from "effect/http/HttpBody"
import * as HttpClient from "effect/http/HttpClient"
import * as HttpClientError from "effect/http/HttpClientError"
import * as HttpClientRequest from "effect/http/HttpClientRequest"
import * as HttpClientResponse from "effect/http/HttpClientResponse"
import { TestClock } from "effect/testing"

const Balance = Schema.Array(Schema.Struct({ currency: Schema.String, available: Schema.Number }))

const cached = { cache: true } as const
const order = { currency_pair: "btcusd", side: "buy", quantity: 0.1 }

/** The user requests the fake saw (the mints left out), as `METHOD path status`. */
const userCalls = Effect.map(
  FakeSfox,
  (fake) =>
    Effect.map(
      fake.requests,
      (requests) =>
        requests.filter((r) => r.path.startsWith("/v1/user/")).map((r) => `${r.method} ${r.path} ${r.status}`)
    )
).pipe(Effect.flatten)

const mints = Effect.flatMap(
  FakeSfox,
  (fake) => Effect.map(fake.requests, (requests) => requests.filter((r) => r.path.startsWith("/v1/enterprise")).length)
)

/** A token minted ahead, so that the faults queued next meet the user call and not its mint. */
const warm = (userId: string) => Effect.flatMap(UserTokenService, (tokens) => tokens.get(userId))

describe("clientFor: requests as the user", () => {
  it.effect("a relative path goes to baseUrl with the user's token, not the key; the body decodes", () =>
    Effect.gen(function*() {
      const fake = yield* FakeSfox
      const client = (yield* UserTokenService).clientFor("u1").pipe(HttpClient.filterStatusOk)
      const response = yield* client.get("/v1/user/balance")
      const balance = yield* HttpClientResponse.schemaBodyJson(Balance)(response)
      assert.deepStrictEqual(balance.map((b) => b.currency), ["usd", "btc"])
      const [mint, call] = yield* fake.requests
      assert.strictEqual(mint!.path, "/v1/enterprise/user-tokens")
      assert.deepStrictEqual(mint!.userIds, ["u1"])
      assert.strictEqual(call!.path, "/v1/user/balance")
      // "valid" on a user endpoint: a live token of u1 (the fake refuses the key there).
      assert.strictEqual(call!.authorization, "valid")
      assert.deepStrictEqual(call!.userIds, ["u1"])
      assert.strictEqual(call!.headers["accept"], "application/json")
      assert.match(call!.headers["user-agent"]!, /^sfox-effect\//)
    }).pipe(Effect.provide(FakeSfox.layerTest())))

  it.effect("the fake refuses the enterprise key on a user endpoint (what makes the test above mean something)", () =>
    Effect.gen(function*() {
      const fake = yield* FakeSfox
      const response = yield* HttpClient.execute(
        HttpClientRequest.get("https://api.sfox.com/v1/user/balance").pipe(
          HttpClientRequest.bearerToken(Redacted.value(fake.apiKey))
        )
      )
      assert.strictEqual(response.status, 401)
    }).pipe(Effect.provide(FakeSfox.layerTest())))

  it.effect("an absolute URL on baseUrl's origin is sent; any other origin is refused and nothing is sent", () =>
    Effect.gen(function*() {
      const fake = yield* FakeSfox
      const client = (yield* UserTokenService).clientFor("u1")
      const ok = yield* client.get("https://api.sfox.com/v1/user/balance")
      assert.strictEqual(ok.status, 200)
      yield* fake.reset
      for (
        const url of [
          "https://evil.example/v1/user/balance",
          "http://api.sfox.com/v1/user/balance",
          "https://api.sfox.com:8443/v1/user/balance",
          "https://api.sfox.com.evil.example/v1/user/balance"
        ]
      ) {
        const error = yield* Effect.flip(client.get(url))
        assert.isTrue(HttpClientError.isHttpClientError(error), url)
        // Effect 4: one HttpClientError, its reason an InvalidUrlError (3.x: a RequestError of reason InvalidUrl).
        assert.strictEqual(error._tag, "HttpClientError")
        assert.strictEqual((error as HttpClientError.HttpClientError).reason._tag, "InvalidUrlError")
      }
      assert.deepStrictEqual(yield* fake.requests, [])
    }).pipe(Effect.provide(FakeSfox.layerTest())))

  it.effect("a POST carries its body; the answer is returned whatever its status", () =>
    Effect.gen(function*() {
      const client = (yield* UserTokenService).clientFor("u1")
      const placed = yield* client.execute(
        HttpClientRequest.post("/v1/user/orders").pipe(HttpClientRequest.bodyJsonUnsafe(order))
      )
      assert.strictEqual(placed.status, 201)
      const body = (yield* placed.json) as Record<string, unknown>
      assert.strictEqual(body["user_id"], "u1")
      assert.strictEqual(body["side"], "buy")
      const refused = yield* client.execute(
        HttpClientRequest.post("/v1/user/orders").pipe(HttpClientRequest.bodyText("not json"))
      )
      assert.strictEqual(refused.status, 400)
    }).pipe(Effect.provide(FakeSfox.layerTest())))

  it.effect("with cache on, requests as one user share one token: one mint", () =>
    Effect.gen(function*() {
      const client = (yield* UserTokenService).clientFor("u1")
      yield* Effect.forEach([1, 2, 3], () => client.get("/v1/user/balance"), { concurrency: "unbounded" })
      yield* client.get("/v1/user/balance")
      assert.strictEqual(yield* mints, 1)
      assert.deepStrictEqual(yield* userCalls, Array(4).fill("GET /v1/user/balance 200"))
    }).pipe(Effect.provide(FakeSfox.layerTest({}, cached))))
})

describe("clientFor: a refused token is minted again once", () => {
  it.effect("a revoked token: 401, invalidate, a new mint, the request sent once more", () =>
    Effect.gen(function*() {
      const fake = yield* FakeSfox
      const client = (yield* UserTokenService).clientFor("u1")
      assert.strictEqual((yield* client.get("/v1/user/balance")).status, 200)
      assert.strictEqual(yield* fake.revoke("u1"), 1)
      const again = yield* client.get("/v1/user/balance")
      assert.strictEqual(again.status, 200)
      assert.strictEqual(yield* mints, 2)
      assert.deepStrictEqual(yield* userCalls, [
        "GET /v1/user/balance 200",
        "GET /v1/user/balance 401",
        "GET /v1/user/balance 200"
      ])
    }).pipe(Effect.provide(FakeSfox.layerTest({}, cached))))

  it.effect("a second 401 is returned as it is: no third mint, no third send", () =>
    Effect.gen(function*() {
      const fake = yield* FakeSfox
      const client = (yield* UserTokenService).clientFor("u1")
      yield* warm("u1")
      // The user call, the mint between (a zero delay: answered normally), the second user call.
      yield* fake.enqueue([Fault.status(401), Fault.delay(0), Fault.status(401)])
      const response = yield* client.execute(
        HttpClientRequest.post("/v1/user/orders").pipe(HttpClientRequest.bodyJsonUnsafe(order))
      )
      assert.strictEqual(response.status, 401)
      assert.strictEqual(yield* mints, 2)
      assert.deepStrictEqual(yield* userCalls, ["POST /v1/user/orders 401", "POST /v1/user/orders 401"])
    }).pipe(Effect.provide(FakeSfox.layerTest({}, cached))))

  it.effect("a token that cannot be minted fails with the service's typed error, and no user call is made", () =>
    Effect.gen(function*() {
      const fake = yield* FakeSfox
      yield* fake.enqueue(Fault.status(403, { body: { error: "not allowed for this user" } }))
      const error = yield* Effect.flip((yield* UserTokenService).clientFor("u1").get("/v1/user/balance"))
      assert.strictEqual(error._tag, "Unauthorized")
      assert.deepStrictEqual(yield* userCalls, [])
    }).pipe(Effect.provide(FakeSfox.layerTest({}, cached))))

  it.effect("an invalid user id fails with InvalidUserId and sends nothing", () =>
    Effect.gen(function*() {
      const fake = yield* FakeSfox
      const error = yield* Effect.flip((yield* UserTokenService).clientFor(" u1").get("/v1/user/balance"))
      assert.strictEqual(error._tag, "InvalidUserId")
      assert.deepStrictEqual(yield* fake.requests, [])
    }).pipe(Effect.provide(FakeSfox.layerTest())))
})

describe("clientFor: retries", () => {
  it.effect("a 429 with Retry-After is waited out (on the clock) and retried, for a POST too", () =>
    Effect.gen(function*() {
      const fake = yield* FakeSfox
      const client = (yield* UserTokenService).clientFor("u1")
      yield* warm("u1")
      yield* fake.enqueue(Fault.status(429, { headers: { "retry-after": "2" } }))
      const fiber = yield* Effect.forkChild(
        client.execute(HttpClientRequest.post("/v1/user/orders").pipe(HttpClientRequest.bodyJsonUnsafe(order)))
      )
      yield* TestClock.adjust("1999 millis")
      assert.isUndefined(fiber.pollUnsafe())
      assert.deepStrictEqual(yield* userCalls, ["POST /v1/user/orders 429"])
      yield* TestClock.adjust("1 millis")
      const response = yield* Fiber.join(fiber)
      assert.strictEqual(response.status, 201)
      assert.deepStrictEqual(yield* userCalls, ["POST /v1/user/orders 429", "POST /v1/user/orders 201"])
    }).pipe(Effect.provide(FakeSfox.layerTest({}, cached))))

  it.effect("a 429 asking for more than maxRetryAfter (sFOX's 60 s lockout) is returned at once", () =>
    Effect.gen(function*() {
      const fake = yield* FakeSfox
      const client = (yield* UserTokenService).clientFor("u1")
      yield* warm("u1")
      yield* fake.enqueue(Fault.status(429))
      const response = yield* client.get("/v1/user/balance")
      assert.strictEqual(response.status, 429)
      assert.deepStrictEqual(yield* userCalls, ["GET /v1/user/balance 429"])
    }).pipe(Effect.provide(FakeSfox.layerTest({}, cached))))

  it.effect("a 503 to a GET is retried; the last 503 comes back as the response when retries run out", () =>
    Effect.gen(function*() {
      const fake = yield* FakeSfox
      const client = (yield* UserTokenService).clientFor("u1")
      yield* warm("u1")
      yield* fake.enqueue(Fault.status(503))
      assert.strictEqual((yield* client.get("/v1/user/balance")).status, 200)
      yield* fake.enqueue([Fault.status(503), Fault.status(503)])
      const last = yield* client.get("/v1/user/balance")
      assert.strictEqual(last.status, 503)
      // The response is the caller's: its body is still there to read.
      assert.deepStrictEqual(yield* last.json, { error: "scripted 503" })
      assert.deepStrictEqual(yield* userCalls, [
        "GET /v1/user/balance 503",
        "GET /v1/user/balance 200",
        "GET /v1/user/balance 503",
        "GET /v1/user/balance 503"
      ])
    }).pipe(Effect.provide(FakeSfox.layerTest({}, { ...cached, retry: Schedule.recurs(1) }))))

  it.effect("a 503 to a POST is never sent again: it may have placed the order", () =>
    Effect.gen(function*() {
      const fake = yield* FakeSfox
      const client = (yield* UserTokenService).clientFor("u1")
      yield* warm("u1")
      yield* fake.enqueue(Fault.status(503))
      const response = yield* client.execute(
        HttpClientRequest.post("/v1/user/orders").pipe(HttpClientRequest.bodyJsonUnsafe(order))
      )
      assert.strictEqual(response.status, 503)
      assert.deepStrictEqual(yield* userCalls, ["POST /v1/user/orders 503"])
    }).pipe(Effect.provide(FakeSfox.layerTest({}, cached))))

  it.effect("a connection cut after sending: a GET is sent again, a POST fails with TransportError", () =>
    Effect.gen(function*() {
      const fake = yield* FakeSfox
      const client = (yield* UserTokenService).clientFor("u1")
      yield* warm("u1")
      yield* fake.enqueue(Fault.reset())
      assert.strictEqual((yield* client.get("/v1/user/balance")).status, 200)
      yield* fake.enqueue(Fault.reset())
      const error = yield* Effect.flip(
        client.execute(HttpClientRequest.post("/v1/user/orders").pipe(HttpClientRequest.bodyJsonUnsafe(order)))
      )
      assert.strictEqual(error._tag, "TransportError")
      assert.strictEqual(yield* fake.stats.pipe(Effect.map((s) => s.requests)), 4)
      assert.deepStrictEqual(
        (yield* userCalls).map((call) => call.split(" ").slice(0, 2).join(" ")),
        ["GET /v1/user/balance", "GET /v1/user/balance", "POST /v1/user/orders"]
      )
    }).pipe(Effect.provide(FakeSfox.layerTest({}, { ...cached, retry: Schedule.recurs(3) }))))

  it.effect("a POST whose connection was refused before anything was written is sent again", () => {
    let refuseNext = false
    // A refused connection, as undici reports it: the request never left.
    const refusing = (client: HttpClient.HttpClient): HttpClient.HttpClient =>
      HttpClient.transformResponse(client, (response) =>
        Effect.suspend(() => {
          if (!refuseNext) return response
          refuseNext = false
          return Effect.fail(
            new HttpClientError.HttpClientError({
              reason: new HttpClientError.TransportError({
                request: HttpClientRequest.post("/"),
                cause: Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:443"), { code: "ECONNREFUSED" })
              })
            })
          )
        }))
    return Effect.gen(function*() {
      const client = (yield* UserTokenService).clientFor("u1")
      yield* warm("u1")
      refuseNext = true
      const response = yield* client.execute(
        HttpClientRequest.post("/v1/user/orders").pipe(HttpClientRequest.bodyJsonUnsafe(order))
      )
      assert.strictEqual(response.status, 201)
      assert.isFalse(refuseNext)
      assert.deepStrictEqual(yield* userCalls, ["POST /v1/user/orders 201"])
    }).pipe(Effect.provide(FakeSfox.layerTest({}, { ...cached, retry: Schedule.recurs(3), transformClient: refusing })))
  })
})

describe("clientFor: one rate limit with the mints", () => {
  it.effect("mints and user calls take turns of the same limiter: the third request in a second waits", () =>
    Effect.gen(function*() {
      const client = (yield* UserTokenService).clientFor("u1")
      // One mint and one user call use the two turns of the first second.
      assert.strictEqual((yield* client.get("/v1/user/balance")).status, 200)
      const fiber = yield* Effect.forkChild(client.get("/v1/user/balance"))
      yield* TestClock.adjust("999 millis")
      assert.isUndefined(fiber.pollUnsafe())
      assert.deepStrictEqual(yield* userCalls, ["GET /v1/user/balance 200"])
      yield* TestClock.adjust("1 second")
      assert.strictEqual((yield* Fiber.join(fiber)).status, 200)
      assert.deepStrictEqual(yield* userCalls, ["GET /v1/user/balance 200", "GET /v1/user/balance 200"])
    }).pipe(Effect.provide(FakeSfox.layerTest({}, { ...cached, rateLimit: { limit: 2, interval: "1 second" } }))))
})

describe("clientFor: no secret in what the caller gets back", () => {
  it.effect("the response's request has no Authorization; its renderings hold neither the token nor the key", () =>
    Effect.gen(function*() {
      const fake = yield* FakeSfox
      const tokens = yield* UserTokenService
      const token = Redacted.value((yield* tokens.get("u1")).token)
      const key = Redacted.value(fake.apiKey)
      const response = yield* tokens.clientFor("u1").get("/v1/user/balance")
      assert.isUndefined(response.request.headers["authorization"])
      for (
        const rendered of [
          JSON.stringify(response.toJSON()),
          Formatter.format(response),
          String(response),
          JSON.stringify(response.request)
        ]
      ) {
        assert.notInclude(rendered, token)
        assert.notInclude(rendered, key)
      }
      // A body that does not parse: the platform's error holds the request, without the token.
      yield* fake.enqueue(Fault.malformed("{not json", 200))
      const unreadable = yield* tokens.clientFor("u1").get("/v1/user/balance")
      const decodeError = yield* Effect.flip(unreadable.json)
      // Effect 4: one HttpClientError, its reason a DecodeError (3.x: a ResponseError).
      assert.strictEqual(decodeError._tag, "HttpClientError")
      assert.strictEqual(decodeError.reason._tag, "DecodeError")
      assert.isUndefined(decodeError.request.headers["authorization"])
      for (const rendered of [JSON.stringify(decodeError), String(decodeError), Formatter.format(decodeError)]) {
        assert.notInclude(rendered, token)
        assert.notInclude(rendered, key)
      }
      yield* fake.enqueue(Fault.reset())
      const error = yield* Effect.flip(
        tokens.clientFor("u1").execute(
          HttpClientRequest.post("/v1/user/orders").pipe(HttpClientRequest.bodyJsonUnsafe(order))
        )
      )
      const errorText = [JSON.stringify(error), String(error), Formatter.format(error)].join("\n")
      assert.notInclude(errorText, token)
      assert.notInclude(errorText, key)
    }).pipe(Effect.provide(FakeSfox.layerTest({}, cached))))
})

describe("clientFor: a body that cannot be replayed", () => {
  it.effect("a streamed body is sent once: its 503 and its 401 come back as they are", () =>
    Effect.gen(function*() {
      const fake = yield* FakeSfox
      const client = (yield* UserTokenService).clientFor("u1")
      yield* warm("u1")
      const streamed = () =>
        HttpClientRequest.put("/v1/user/orders").pipe(
          HttpClientRequest.bodyStream(Stream.make(new TextEncoder().encode(JSON.stringify(order))))
        )
      yield* fake.enqueue(Fault.status(503))
      assert.strictEqual((yield* client.execute(streamed())).status, 503)
      yield* fake.enqueue(Fault.status(401))
      const second = yield* client.execute(streamed())
      assert.strictEqual(second.status, 401, JSON.stringify(yield* userCalls))
      assert.strictEqual(yield* mints, 1)
      assert.deepStrictEqual(yield* userCalls, ["PUT /v1/user/orders 503", "PUT /v1/user/orders 401"])
    }).pipe(Effect.provide(FakeSfox.layerTest({}, { ...cached, retry: Schedule.recurs(3) }))))

  it.effect("a caller's own Authorization header is replaced by the user's token, never sent", () =>
    Effect.gen(function*() {
      const fake = yield* FakeSfox
      const client = (yield* UserTokenService).clientFor("u1")
      const response = yield* client.execute(
        HttpClientRequest.get("/v1/user/balance").pipe(HttpClientRequest.bearerToken(Redacted.value(fake.apiKey)))
      )
      assert.strictEqual(response.status, 200)
      assert.isUndefined(response.request.headers["authorization"])
      assert.deepStrictEqual(yield* userCalls, ["GET /v1/user/balance 200"])
    }).pipe(Effect.provide(FakeSfox.layerTest())))
})

describe("clientFor: a body read as it is sent goes out once, on every path that may send again", () => {
  async function* chunks() {
    yield new TextEncoder().encode(JSON.stringify(order))
  }
  const kinds: ReadonlyArray<readonly [string, () => HttpBody.HttpBody]> = [
    ["Stream", () => HttpBody.stream(Stream.make(new TextEncoder().encode(JSON.stringify(order))))],
    ["Raw(async iterable)", () => HttpBody.raw(chunks())],
    ["Raw(ReadableStream)", () => HttpBody.raw(new ReadableStream({ start: (c) => c.close() }))]
  ]
  const paths: ReadonlyArray<readonly [string, Fault, string, number | "TransportError"]> = [
    ["a 503 to a PUT", Fault.status(503), "PUT", 503],
    ["a 503 to a GET", Fault.status(503), "GET", 503],
    ["a connection cut after a DELETE was sent", Fault.reset(), "DELETE", "TransportError"],
    ["a 401 (the token refused)", Fault.status(401), "POST", 401]
  ]
  for (const [path, fault, method, first] of paths) {
    for (const [kind, body] of kinds) {
      it.effect(`${path}, ${kind}: one request, the first answer`, () =>
        Effect.gen(function*() {
          const fake = yield* FakeSfox
          const client = (yield* UserTokenService).clientFor("u1")
          yield* warm("u1")
          yield* fake.enqueue(fault)
          const request = HttpClientRequest.make(method as "GET")("/v1/user/orders").pipe(
            HttpClientRequest.setBody(body())
          )
          const outcome = yield* Effect.match(client.execute(request), {
            onFailure: (error) => error._tag,
            onSuccess: (response) => response.status
          })
          assert.strictEqual(outcome, first)
          assert.strictEqual((yield* userCalls).length, 1)
          assert.strictEqual(yield* mints, 1)
        }).pipe(Effect.provide(FakeSfox.layerTest({}, { ...cached, retry: Schedule.recurs(3) }))))
    }
  }
})

describe("clientFor: the 401 to a body sent once", () => {
  it.effect("drops the refused token all the same: the next request mints first, and is sent once", () =>
    Effect.gen(function*() {
      const fake = yield* FakeSfox
      const client = (yield* UserTokenService).clientFor("u1")
      yield* warm("u1")
      yield* fake.revoke("u1")
      const streamed = HttpClientRequest.post("/v1/user/orders").pipe(
        HttpClientRequest.bodyStream(Stream.make(new TextEncoder().encode(JSON.stringify(order))))
      )
      assert.strictEqual((yield* client.execute(streamed)).status, 401)
      assert.strictEqual((yield* client.get("/v1/user/balance")).status, 200)
      assert.deepStrictEqual(yield* userCalls, ["POST /v1/user/orders 401", "GET /v1/user/balance 200"])
      assert.strictEqual(yield* mints, 2)
    }).pipe(Effect.provide(FakeSfox.layerTest({}, cached))))
})

/**
 * Answers the next `count` user calls with their status and a body that
 * sends a first chunk and then nothing, ever.
 */
const stalling = (count: { n: number }) => (client: HttpClient.HttpClient): HttpClient.HttpClient =>
  HttpClient.transformResponse(client, (answer) =>
    Effect.map(answer, (response) => {
      if (count.n === 0 || !new URL(response.request.url).pathname.startsWith("/v1/user/")) return response
      count.n--
      const body = new ReadableStream<Uint8Array>({
        start: (controller) => controller.enqueue(new TextEncoder().encode("[{"))
      })
      return HttpClientResponse.fromWeb(response.request, new Response(body, { status: response.status }))
    }))

// Effect 4: one HttpClientError, its reason a DecodeError caused by the Timeout (3.x: a ResponseError).
const isBodyTimeout = (error: HttpClientError.HttpClientError | UserTokenError) => {
  assert.strictEqual(error._tag, "HttpClientError")
  const reason = (error as HttpClientError.HttpClientError).reason
  assert.strictEqual(reason._tag, "DecodeError")
  const cause = reason.cause as UserTokenError
  assert.strictEqual(cause._tag, "TransportError")
  assert.strictEqual((cause as TransportError).reason, "Timeout")
  assert.isUndefined(reason.request.headers["authorization"])
}

describe("clientFor: reading an answer's body takes at most the attempt's time", () => {
  const reads: ReadonlyArray<
    readonly [string, (response: HttpClientResponse.HttpClientResponse) => Effect.Effect<unknown, unknown>]
  > = [
    ["text", (response) => response.text],
    ["json", (response) => response.json],
    ["arrayBuffer", (response) => response.arrayBuffer],
    ["stream", (response) => Stream.runDrain(response.stream)]
  ]
  for (const [name, read] of reads) {
    it.effect(`a body that never ends: ${name} fails with a Timeout at the timeout, not before`, () => {
      const count = { n: 1 }
      return Effect.gen(function*() {
        const client = (yield* UserTokenService).clientFor("u1")
        const response = yield* client.get("/v1/user/balance")
        assert.strictEqual(response.status, 200)
        const reading = yield* Effect.forkChild(Effect.flip(read(response)))
        yield* TestClock.adjust("999 millis")
        assert.isUndefined(reading.pollUnsafe())
        yield* TestClock.adjust("1 millis")
        isBodyTimeout((yield* Fiber.join(reading)) as HttpClientError.HttpClientError)
      }).pipe(
        Effect.provide(FakeSfox.layerTest({}, { ...cached, timeout: "1 second", transformClient: stalling(count) }))
      )
    })
  }

  for (const [status, method] of [[503, "GET"], [401, "POST"]] as const) {
    it.effect(`the body of a ${status} thrown away before the next send is given up at the timeout`, () => {
      const count = { n: 1 }
      return Effect.gen(function*() {
        const fake = yield* FakeSfox
        const client = (yield* UserTokenService).clientFor("u1")
        yield* warm("u1")
        yield* fake.enqueue(Fault.status(status))
        const request = HttpClientRequest.make(method)(method === "GET" ? "/v1/user/balance" : "/v1/user/orders").pipe(
          HttpClientRequest.bodyJsonUnsafe(order)
        )
        const sending = yield* Effect.forkChild(client.execute(request))
        yield* TestClock.adjust("1 second")
        const response = yield* Fiber.join(sending)
        assert.strictEqual(response.status, method === "GET" ? 200 : 201)
        assert.strictEqual((yield* userCalls).length, 2)
      }).pipe(
        Effect.provide(
          FakeSfox.layerTest({}, {
            ...cached,
            timeout: "1 second",
            retry: Schedule.recurs(1),
            transformClient: stalling(count)
          })
        )
      )
    })
  }
})

describe("clientFor: no timer outlives a read of the body (live clock)", () => {
  const timers = () => process.getActiveResourcesInfo().filter((name) => name === "Timeout").length
  // Effect 4 resumes a fiber inside the callback that resumes it: a read ended by its own timer goes on inside
  // that timer's callback, and Node lists a timer as active until its callback returns. Counted after one turn of
  // the host, a timer left behind is still there; one that has just fired is not.
  const hostTurn = Effect.promise(() => new Promise<void>((resume) => setImmediate(resume)))

  it.live("a read that ends, and one that times out, leave the timers as they were", () => {
    const count = { n: 0 }
    return Effect.gen(function*() {
      const client = (yield* UserTokenService).clientFor("u1")
      yield* warm("u1")
      const before = timers()
      for (const read of ["text", "json", "arrayBuffer", "stream"] as const) {
        const response = yield* client.get("/v1/user/balance")
        const body = read === "stream" ? Stream.runDrain(response.stream) : response[read]
        yield* body
        yield* hostTurn
        assert.isAtMost(timers(), before, `after ${read}`)
      }
      count.n = 1
      const stalled = yield* client.get("/v1/user/balance")
      isBodyTimeout(yield* Effect.flip(stalled.text))
      yield* hostTurn
      assert.isAtMost(timers(), before, "after a read that timed out")
    }).pipe(
      Effect.provide(FakeSfox.layerTest({}, { ...cached, timeout: "50 millis", transformClient: stalling(count) }))
    )
  })
})
