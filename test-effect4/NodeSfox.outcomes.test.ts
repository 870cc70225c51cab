/**
 * What the service over `NodeSfox.httpClient` makes of each answer sFOX can
 * give: every status and body shape, as a typed outcome, sent as often as the
 * retry policy allows and no more. The Effect 4 edition's twin of
 * test/NodeSfox.outcomes.test.ts.
 */
import { assert, describe, it } from "@effect/vitest"
import { Fault } from "@sfox-effect/effect4-core/testing"
import { DateTime, Duration, Effect, Redacted, Schedule } from "effect"
import { warnings, withCapturedLogs } from "../packages/effect4-core/test/utils/logs.js"
import { expectTag } from "./utils/harness.js"
import { run } from "./utils/nodeSfox.js"

describe("NodeSfox.httpClient against MockSfoxServer: every typed outcome", () => {
  it.live("201: one token, sent with the key and matched to its user", () =>
    run({}, ({ server, tokens }) =>
      Effect.gen(function*() {
        const token = yield* tokens.create("156c5beb-7c9f-4f68-83c0-9479703ac490")
        assert.strictEqual(token.userId, "156c5beb-7c9f-4f68-83c0-9479703ac490")
        assert.match(Redacted.value(token.token), /^[0-9a-f]{64}$/)
        const left = Duration.toMillis(DateTime.distance(yield* DateTime.now, token.expires))
        assert.isTrue(left > 23 * 3600_000 && left <= 24 * 3600_000)
        const requests = yield* server.requests
        assert.strictEqual(requests.length, 1)
        assert.strictEqual(requests[0]!.method, "POST")
        assert.strictEqual(requests[0]!.path, "/v1/enterprise/user-tokens/156c5beb-7c9f-4f68-83c0-9479703ac490")
        assert.strictEqual(requests[0]!.authorization, "valid")
      })))

  it.live("201: a batch split by maxBatchSize, every token matched to its user", () =>
    run({ server: { shuffle: true }, service: { maxBatchSize: 100 } }, ({ server, tokens }) =>
      Effect.gen(function*() {
        const ids = Array.from({ length: 250 }, (_, i) => `user-${i}`)
        const minted = yield* tokens.createMany(ids)
        assert.deepStrictEqual(minted.map((t) => t.userId), ids)
        const requests = yield* server.requests
        assert.deepStrictEqual(requests.map((r) => r.userIds.length).sort(), [100, 100, 50])
        assert.isTrue(requests.every((r) => r.path === "/v1/enterprise/user-tokens" && r.status === 201))
      })))

  it.live("201: a batch of 1,000 fits the default response-size limit", () =>
    run({ service: { maxBatchSize: 1000 } }, ({ server, tokens }) =>
      Effect.gen(function*() {
        const ids = Array.from({ length: 1000 }, (_, i) => `client_${i.toString().padStart(8, "0")}-aaaa-bbbb`)
        const minted = yield* tokens.createMany(ids)
        assert.strictEqual(minted.length, 1000)
        assert.strictEqual((yield* server.requests).length, 1)
      })))

  it.live("401: a wrong key is Unauthorized, sent once", () =>
    run({ service: { apiKey: Redacted.make("not-the-key") } }, ({ server, tokens }) =>
      Effect.gen(function*() {
        const error = expectTag(yield* Effect.flip(tokens.create("u1")), "Unauthorized")
        assert.strictEqual(error.status, 401)
        const requests = yield* server.requests
        assert.strictEqual(requests.length, 1)
        assert.strictEqual(requests[0]!.authorization, "invalid")
      })))

  it.live("403: Unauthorized, sent once", () =>
    run({}, ({ server, tokens }) =>
      Effect.gen(function*() {
        yield* server.enqueue(Fault.status(403, { body: { error: "forbidden for this user" } }))
        const error = expectTag(yield* Effect.flip(tokens.create("u1")), "Unauthorized")
        assert.strictEqual(error.status, 403)
        assert.strictEqual(error.description, "forbidden for this user")
        assert.strictEqual((yield* server.requests).length, 1)
      })))

  it.live("429: RateLimited with sFOX's 60 s lockout, not retried past maxRetryAfter", () =>
    run({}, ({ server, tokens }) =>
      Effect.gen(function*() {
        yield* server.enqueue(Fault.status(429))
        // The lockout's warning is kept, not printed.
        const [failure, logs] = yield* withCapturedLogs(Effect.flip(tokens.create("u1")))
        const error = expectTag(failure, "RateLimited")
        assert.isTrue(Duration.equals(error.retryAfter, Duration.seconds(60)))
        assert.strictEqual((yield* server.requests).length, 1)
        assert.deepStrictEqual(warnings(logs), [
          "sFOX locked this client out (429 with no Retry-After: its documented 1m lockout); not retried"
        ])
      })))

  it.live("429: the server's own rate limit and lockout", () =>
    run(
      { server: { rateLimit: { limit: 2, interval: "10 seconds" } } },
      ({ server, tokens }) =>
        Effect.gen(function*() {
          yield* tokens.create("a")
          yield* tokens.create("b")
          const [error, logs] = yield* withCapturedLogs(Effect.flip(tokens.create("c")))
          expectTag(error, "RateLimited")
          assert.deepStrictEqual((yield* server.requests).map((r) => r.status), [201, 201, 429])
          assert.strictEqual(warnings(logs).length, 1)
        })
    ))

  it.live("404: an unknown user is HttpFailure, not retried", () =>
    run({ server: { users: ["known"] } }, ({ server, tokens }) =>
      Effect.gen(function*() {
        const error = expectTag(yield* Effect.flip(tokens.create("stranger")), "HttpFailure")
        assert.strictEqual(error.status, 404)
        assert.include(error.description, "user not found")
        assert.strictEqual((yield* server.requests).length, 1)
      })))

  it.live("400: HttpFailure with sFOX's error text, not retried", () =>
    run({}, ({ server, tokens }) =>
      Effect.gen(function*() {
        yield* server.enqueue(Fault.status(400, { body: { error: "bad user_id" } }))
        const error = expectTag(yield* Effect.flip(tokens.create("u1")), "HttpFailure")
        assert.strictEqual(error.status, 400)
        assert.strictEqual(error.description, "bad user_id")
        assert.strictEqual((yield* server.requests).length, 1)
      })))

  for (const status of [500, 503]) {
    it.live(`${status}: HttpFailure after every allowed attempt (3)`, () =>
      run({}, ({ server, tokens }) =>
        Effect.gen(function*() {
          yield* server.enqueue([Fault.status(status), Fault.status(status), Fault.status(status)])
          const error = expectTag(yield* Effect.flip(tokens.create("u1")), "HttpFailure")
          assert.strictEqual(error.status, status)
          assert.strictEqual((yield* server.requests).length, 3)
        })))
  }

  it.live("503 with retries off: HttpFailure after one attempt", () =>
    run({ service: { retry: Schedule.recurs(0) } }, ({ server, tokens }) =>
      Effect.gen(function*() {
        yield* server.enqueue(Fault.status(503))
        expectTag(yield* Effect.flip(tokens.create("u1")), "HttpFailure")
        assert.strictEqual((yield* server.requests).length, 1)
      })))

  it.live("503, 503, 201: the token, after 3 requests", () =>
    run({}, ({ server, tokens }) =>
      Effect.gen(function*() {
        yield* server.enqueue([Fault.status(503), Fault.status(503)])
        const token = yield* tokens.create("u1")
        assert.strictEqual(token.userId, "u1")
        const requests = yield* server.requests
        assert.deepStrictEqual(requests.map((r) => r.status), [503, 503, 201])
        // Each retry came after fastRetry's 20 ms, by the server's clock (a timer may fire a millisecond early).
        for (let i = 1; i < requests.length; i++) assert.isAtLeast(requests[i]!.at - requests[i - 1]!.at, 19)
      })))

  it.live("malformed JSON: MalformedResponse, not retried", () =>
    run({}, ({ server, tokens }) =>
      Effect.gen(function*() {
        yield* server.enqueue(Fault.malformed("{\"data\": {\"token\": "))
        expectTag(yield* Effect.flip(tokens.create("u1")), "MalformedResponse")
        assert.strictEqual((yield* server.requests).length, 1)
      })))

  it.live("wrong shape: MalformedResponse, not retried", () =>
    run({}, ({ server, tokens }) =>
      Effect.gen(function*() {
        yield* server.enqueue(Fault.malformed(JSON.stringify({ data: { token: 42, expires: "soon" } })))
        const error = expectTag(yield* Effect.flip(tokens.create("u1")), "MalformedResponse")
        assert.strictEqual(error.status, 201)
        assert.strictEqual((yield* server.requests).length, 1)
      })))

  it.live("a batch answer that mislabels a user: MalformedResponse, no token handed out", () =>
    run({}, ({ server, tokens }) =>
      Effect.gen(function*() {
        yield* server.enqueue(Fault.batch("mislabel"))
        expectTag(yield* Effect.flip(tokens.createMany(["a", "b", "c"])), "MalformedResponse")
        assert.strictEqual((yield* server.requests).length, 1)
      })))
})
