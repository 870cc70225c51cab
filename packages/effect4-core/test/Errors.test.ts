import { assert, describe, it } from "@effect/vitest"
import { isRetryable, type UserTokenError, UserTokenService } from "@sfox-effect/effect4-core"
import * as Errors from "@sfox-effect/effect4-core"
import { FakeSfox, Fault } from "@sfox-effect/effect4-core/testing"
import { Duration, Effect, Fiber, Layer, Redacted, Ref, Schedule } from "effect"
import * as HttpClient from "effect/http/HttpClient"
import * as HttpClientError from "effect/http/HttpClientError"
import * as HttpClientRequest from "effect/http/HttpClientRequest"
import { TestClock } from "effect/testing"
import { fromHttpClientError } from "../src/internal/transport.js"

const noRetry = { retry: Schedule.recurs(0) }

/** Runs `create("u1")` against a fake scripted with `faults`; returns the error and the requests the fake saw. */
const failWith = (faults: ReadonlyArray<Fault>, options: Parameters<typeof FakeSfox.layerTest> = [{}, noRetry]) =>
  Effect.gen(function*() {
    const fake = yield* FakeSfox
    yield* fake.enqueue(faults)
    const error = yield* Effect.flip((yield* UserTokenService).create("u1"))
    return { error, requests: yield* fake.requests }
  }).pipe(Effect.provide(FakeSfox.layerTest(...options)))

function assertTag<T extends UserTokenError["_tag"]>(
  error: UserTokenError,
  tag: T
): asserts error is Extract<UserTokenError, { _tag: T }> {
  assert.strictEqual(error._tag, tag)
}

describe("typed errors", () => {
  it.effect("InvalidUserId: bad ids send nothing", () =>
    Effect.gen(function*() {
      const fake = yield* FakeSfox
      const tokens = yield* UserTokenService
      const bad: Array<unknown> = [
        "",
        " ",
        " a",
        "a\n",
        ".",
        "..",
        "a\r\nX-Injected: 1",
        "\u0000",
        "x".repeat(10_000),
        "\ud800",
        42,
        null,
        undefined,
        {}
      ]
      for (const id of bad) {
        const error = yield* Effect.flip(tokens.create(id as string))
        assertTag(error, "InvalidUserId")
        assert.isAtMost(error.preview.length, 50)
        const many = yield* Effect.flip(tokens.createMany(["ok", id as string]))
        assertTag(many, "InvalidUserId")
        assert.strictEqual(many.index, 1)
      }
      // `preview` is a rendering of the input, not the input: "" is shown as the two characters `""`.
      const empty = yield* Effect.flip(tokens.create(""))
      assertTag(empty, "InvalidUserId")
      assert.strictEqual(empty.preview, "\"\"")
      assert.strictEqual(empty.message, "Invalid user id \"\": must not be empty")
      assert.notProperty(empty, "userId")
      const notIterable = yield* Effect.flip(tokens.createMany("abc" as unknown as Iterable<string>))
      assertTag(notIterable, "InvalidUserId")
      assert.strictEqual((yield* fake.requests).length, 0)
    }).pipe(Effect.provide(FakeSfox.layerTest())))

  it.effect("EmptyBatch: no ids, no request", () =>
    Effect.gen(function*() {
      const fake = yield* FakeSfox
      const tokens = yield* UserTokenService
      assertTag(yield* Effect.flip(tokens.createMany([])), "EmptyBatch")
      assertTag(yield* Effect.flip(tokens.createMany(new Set<string>())), "EmptyBatch")
      assert.strictEqual((yield* fake.requests).length, 0)
    }).pipe(Effect.provide(FakeSfox.layerTest())))

  it.effect("Unauthorized: a wrong key is a 401, tried once", () =>
    Effect.gen(function*() {
      const fake = yield* FakeSfox
      const tokens = yield* UserTokenService.make({ apiKey: Redacted.make("wrong-key") })
      const error = yield* Effect.flip(tokens.create("u1"))
      assertTag(error, "Unauthorized")
      assert.strictEqual(error.status, 401)
      assert.strictEqual(error.description, "invalid api key")
      // What to check, and for which host: never the key.
      assert.strictEqual(error.origin, "https://api.sfox.com")
      assert.strictEqual(
        error.message,
        "sFOX answered 401: invalid api key; check the API key: that it is an sFOX Enterprise API key, " +
          "and one issued for https://api.sfox.com"
      )
      assert.notInclude(error.message, "wrong-key")
      const requests = yield* fake.requests
      assert.strictEqual(requests.length, 1)
      assert.strictEqual(requests[0]!.authorization, "invalid")
    }).pipe(Effect.scoped, Effect.provide(FakeSfox.layer())))

  it.effect("Unauthorized: 403 with sFOX's error text, never retried by the default policy", () =>
    Effect.gen(function*() {
      const { error, requests } = yield* failWith([Fault.status(403, { body: { error: "forbidden for this user" } })], [
        {},
        {}
      ])
      assertTag(error, "Unauthorized")
      assert.strictEqual(error.status, 403)
      assert.strictEqual(error.description, "forbidden for this user")
      assert.strictEqual(requests.length, 1)
    }))

  it.effect("RateLimited: a 429 without Retry-After carries sFOX's documented 60 s lockout", () =>
    Effect.gen(function*() {
      const { error, requests } = yield* failWith([Fault.status(429, { body: { error: "rate limit exceeded" } })], [
        {},
        {}
      ])
      assertTag(error, "RateLimited")
      assert.isTrue(Duration.equals(error.retryAfter, Duration.seconds(60)))
      assert.strictEqual(requests.length, 1)
    }))

  it.effect("RateLimited: Retry-After in seconds and as an HTTP date", () =>
    Effect.gen(function*() {
      const seconds = yield* failWith([Fault.status(429, { headers: { "retry-after": "120" } })])
      assertTag(seconds.error, "RateLimited")
      assert.isTrue(Duration.equals(seconds.error.retryAfter, Duration.seconds(120)))
      // TestClock stands at the epoch: this date is 90 s later.
      const date = yield* failWith([Fault.status(429, { headers: { "retry-after": "Thu, 01 Jan 1970 00:01:30 GMT" } })])
      assertTag(date.error, "RateLimited")
      assert.isTrue(Duration.equals(date.error.retryAfter, Duration.seconds(90)))
    }))

  it.effect("HttpFailure: an unknown user is sFOX's 404 with its error text", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip((yield* UserTokenService).create("stranger"))
      assertTag(error, "HttpFailure")
      assert.strictEqual(error.status, 404)
      assert.strictEqual(error.description, "user not found: stranger")
    }).pipe(Effect.provide(FakeSfox.layerTest({ users: ["u1"] }, noRetry))))

  it.effect("HttpFailure: a 502 HTML page gives a short, safe excerpt", () =>
    Effect.gen(function*() {
      const page = `<html><body><h1>502 Bad Gateway</h1>${"<p>filler</p>".repeat(100)}</body></html>`
      const { error } = yield* failWith([Fault.status(502, { body: page, headers: { "content-type": "text/html" } })])
      assertTag(error, "HttpFailure")
      assert.strictEqual(error.status, 502)
      assert.include(error.description, "502 Bad Gateway")
      assert.isAtMost(error.description.length, 201)
    }))

  for (const status of [400, 405, 406, 422, 500, 503]) {
    it.effect(`HttpFailure: ${status} keeps status and error text`, () =>
      Effect.gen(function*() {
        const { error } = yield* failWith([Fault.status(status, { body: { error: `reason ${status}` } })])
        assertTag(error, "HttpFailure")
        assert.strictEqual(error.status, status)
        assert.strictEqual(error.description, `reason ${status}`)
      }))
  }

  it.effect("TransportError: a reset connection", () =>
    Effect.gen(function*() {
      const { error } = yield* failWith([Fault.reset()])
      assertTag(error, "TransportError")
      assert.strictEqual(error.reason, "Reset")
    }))

  it.effect("TransportError: a body cut short", () =>
    Effect.gen(function*() {
      for (const fault of [Fault.resetAfterHeaders(), Fault.shortBody()]) {
        const { error } = yield* failWith([fault])
        assertTag(error, "TransportError")
        assert.strictEqual(error.reason, "Reset")
      }
    }))

  it.effect("TransportError: an attempt past its timeout ends as reason Timeout", () =>
    Effect.gen(function*() {
      const fake = yield* FakeSfox
      yield* fake.enqueue(Fault.noAnswer())
      const fiber = yield* Effect.forkChild(Effect.flip((yield* UserTokenService).create("u1")))
      yield* TestClock.adjust("1999 millis")
      assert.isUndefined(fiber.pollUnsafe())
      yield* TestClock.adjust("1 millis")
      const error = yield* Fiber.join(fiber)
      assertTag(error, "TransportError")
      assert.strictEqual(error.reason, "Timeout")
    }).pipe(Effect.provide(FakeSfox.layerTest({}, { retry: Schedule.recurs(0), timeout: "2 seconds" }))))

  it.effect("deadline: a retry that could not start in time is not made; the call ends with its last failure", () =>
    Effect.gen(function*() {
      const fake = yield* FakeSfox
      yield* fake.enqueue([Fault.status(503), Fault.status(503), Fault.status(503), Fault.status(503)])
      const fiber = yield* Effect.forkChild(Effect.flip((yield* UserTokenService).create("u1")))
      yield* TestClock.adjust("2 seconds")
      const error = yield* Fiber.join(fiber)
      assertTag(error, "HttpFailure")
      assert.strictEqual(error.status, 503)
      assert.deepStrictEqual((yield* fake.requests).map((r) => r.at), [0, 2000])
    }).pipe(
      Effect.provide(FakeSfox.layerTest({}, { retry: Schedule.spaced("2 seconds"), deadline: "3 seconds" }))
    ))

  it.effect("deadline: an attempt still running at the deadline ends as TransportError Timeout", () =>
    Effect.gen(function*() {
      const fake = yield* FakeSfox
      yield* fake.enqueue([Fault.status(503), Fault.noAnswer()])
      const fiber = yield* Effect.forkChild(Effect.flip((yield* UserTokenService).create("u1")))
      yield* TestClock.adjust("2999 millis")
      assert.isUndefined(fiber.pollUnsafe())
      yield* TestClock.adjust("1 millis")
      const error = yield* Fiber.join(fiber)
      assertTag(error, "TransportError")
      assert.strictEqual(error.reason, "Timeout")
      assert.include(error.description, "3000 ms")
      assert.strictEqual((yield* fake.requests).length, 2)
    }).pipe(
      Effect.provide(FakeSfox.layerTest({}, { retry: Schedule.spaced("1 second"), deadline: "3 seconds" }))
    ))

  it.effect("deadline: a caller waiting for a rate-limit turn past the deadline gets Timeout, and no request leaves", () =>
    Effect.gen(function*() {
      const fake = yield* FakeSfox
      const tokens = yield* UserTokenService
      yield* tokens.create("u1")
      const fiber = yield* Effect.forkChild(Effect.flip(tokens.create("u2")))
      yield* TestClock.adjust("2 seconds")
      const error = yield* Fiber.join(fiber)
      assertTag(error, "TransportError")
      assert.strictEqual(error.reason, "Timeout")
      assert.strictEqual((yield* fake.requests).length, 1)
      // The turn it never took is still there for the next caller once the window passes.
      yield* TestClock.adjust("10 seconds")
      assert.strictEqual((yield* tokens.create("u3")).userId, "u3")
    }).pipe(
      Effect.provide(FakeSfox.layerTest({}, { deadline: "2 seconds", rateLimit: { limit: 1, interval: "10 seconds" } }))
    ))

  it.effect("MalformedResponse: not JSON, wrong shape, an error under a 2xx, an empty body", () =>
    Effect.gen(function*() {
      const cases = [
        Fault.malformed("<html>oops</html>"),
        Fault.malformed(JSON.stringify({ data: { token: "t", partner_user_id: "u1" } })),
        Fault.malformed(
          JSON.stringify({ data: { token: "", partner_user_id: "u1", expires: "2024-05-14T19:22:09Z" } })
        ),
        Fault.malformed(JSON.stringify({ data: { token: "t", partner_user_id: "u1", expires: "not a date" } })),
        Fault.malformed(JSON.stringify({ error: "internal" }), 200),
        Fault.malformed("")
      ]
      for (const fault of cases) {
        const { error, requests } = yield* failWith([fault], [{}, {}])
        assertTag(error, "MalformedResponse")
        assert.strictEqual(requests.length, 1, "MalformedResponse is not retried by default")
      }
      const errorBody = yield* failWith([Fault.malformed(JSON.stringify({ error: "internal" }), 200)])
      assert.include(errorBody.error.message, "internal")
    }))
})

describe("the error family", () => {
  const every: ReadonlyArray<UserTokenError> = [
    new Errors.InvalidUserId({ preview: "\"x\"", description: "bad" }),
    new Errors.EmptyBatch(),
    new Errors.Unauthorized({ status: 401, description: "no" }),
    new Errors.RateLimited({ retryAfter: Duration.seconds(1), description: "slow down" }),
    new Errors.HttpFailure({ status: 503, description: "down" }),
    new Errors.TransportError({ reason: "Reset", description: "reset" }),
    new Errors.MalformedResponse({ status: 201, description: "odd" }),
    new Errors.RateLimiterUnavailable({ description: "redis down" })
  ]

  it("every class carries the brand, and the guard needs nothing else", () => {
    for (const error of every) {
      assert.isTrue(Errors.isUserTokenError(error), error._tag)
      assert.strictEqual(error[Errors.TypeId], Errors.TypeId)
    }
    // A look-alike with the right tag is not one of ours.
    assert.isFalse(Errors.isUserTokenError(Object.assign(new Error("x"), { _tag: "HttpFailure", status: 503 })))
    // The brand is a shared symbol: a second copy of the package in node_modules still recognises it.
    assert.strictEqual(Errors.TypeId, Symbol.for("@sfox-effect/effect4-core/UserTokenError"))
  })

  it("transience and retryability: each rule in one place, the transport rule shared", () => {
    const cap = Duration.seconds(30)
    assert.deepStrictEqual(
      every.map((error) => [error._tag, Errors.isTransient(error), isRetryable(error, cap)]),
      [
        ["InvalidUserId", false, false],
        ["EmptyBatch", false, false],
        ["Unauthorized", false, false],
        ["RateLimited", true, true],
        ["HttpFailure", true, true],
        ["TransportError", true, true],
        ["MalformedResponse", false, true],
        ["RateLimiterUnavailable", false, false]
      ]
    )
    for (const reason of ["Request", "Tls", "TooLarge"] as const) {
      const error = new Errors.TransportError({ reason, description: "" })
      assert.isFalse(Errors.isTransient(error))
      assert.isFalse(isRetryable(error, cap))
    }
  })
})

/** A transport failure as Node reports it: the code on the innermost cause, below a wrapper as fetch has it. */
const transportFailure = (code: string) => (request: Parameters<Parameters<typeof HttpClient.make>[0]>[0]) =>
  new HttpClientError.HttpClientError({
    reason: new HttpClientError.TransportError({
      request,
      cause: new TypeError("fetch failed", { cause: Object.assign(new Error(code), { code }) })
    })
  })

describe("a server certificate the client refused", () => {
  const tlsCodes = [
    "CERT_HAS_EXPIRED",
    "CERT_NOT_YET_VALID",
    "DEPTH_ZERO_SELF_SIGNED_CERT",
    "SELF_SIGNED_CERT_IN_CHAIN",
    "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
    "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
    "ERR_TLS_CERT_ALTNAME_INVALID"
  ]

  it("is TransportError Tls, neither transient nor retryable; a refused connection stays Connect", () => {
    const request = HttpClientRequest.post("https://api.sfox.com/v1/enterprise/user-tokens/u1")
    for (const code of tlsCodes) {
      const error = fromHttpClientError(transportFailure(code)(request))
      assert.strictEqual(error.reason, "Tls", code)
      assert.include(error.message, code)
      assert.isFalse(Errors.isTransient(error), code)
      assert.isFalse(isRetryable(error, Duration.seconds(30)), code)
    }
    const refused = fromHttpClientError(transportFailure("ECONNREFUSED")(request))
    assert.strictEqual(refused.reason, "Connect")
    assert.isTrue(Errors.isTransient(refused))
  })

  it.effect("is sent once under the default retry", () =>
    Effect.gen(function*() {
      const attempts = yield* Ref.make(0)
      const client = HttpClient.make((request) =>
        Effect.andThen(Ref.update(attempts, (n) => n + 1), Effect.fail(transportFailure("CERT_HAS_EXPIRED")(request)))
      )
      const error = yield* Effect.flip(
        Effect.flatMap(UserTokenService, (tokens) => tokens.create("u1")).pipe(
          Effect.provide(
            UserTokenService.layer({ apiKey: Redacted.make("k"), rateLimit: false }).pipe(
              Layer.provide(Layer.succeed(HttpClient.HttpClient, client)),
              Layer.orDie
            )
          )
        )
      )
      assertTag(error, "TransportError")
      assert.strictEqual(error.reason, "Tls")
      assert.strictEqual(yield* Ref.get(attempts), 1)
    }))
})
