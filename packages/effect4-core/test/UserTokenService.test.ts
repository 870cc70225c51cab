import { assert, describe, it } from "@effect/vitest"
import { UserAuthToken, UserTokenService } from "@sfox-effect/effect4-core"
import { FakeSfox, Fault } from "@sfox-effect/effect4-core/testing"
import { DateTime, Effect, Fiber, Redacted, Result, Schedule } from "effect"
import { TestClock } from "effect/testing"

const TestClockAdjust = (millis: number) => TestClock.adjust(`${millis} millis`)

const noRetry = { retry: Schedule.recurs(0) }

describe("create", () => {
  it.effect("sends one POST with the documented headers and decodes the token", () =>
    Effect.gen(function*() {
      const fake = yield* FakeSfox
      const token = yield* (yield* UserTokenService).create("156c5beb-7c9f-4f68-83c0-9479703ac490")
      assert.instanceOf(token, UserAuthToken)
      assert.strictEqual(token.userId, "156c5beb-7c9f-4f68-83c0-9479703ac490")
      assert.match(Redacted.value(token.token), /^[0-9a-f]{64}$/)
      const [request, ...rest] = yield* fake.requests
      assert.strictEqual(rest.length, 0)
      assert.strictEqual(request!.method, "POST")
      assert.strictEqual(request!.path, "/v1/enterprise/user-tokens/156c5beb-7c9f-4f68-83c0-9479703ac490")
      assert.strictEqual(request!.authorization, "valid")
      assert.strictEqual(request!.headers["accept"], "application/json")
      assert.match(request!.headers["user-agent"]!, /^sfox-effect\/\d+\.\d+\.\d+/)
      assert.strictEqual(request!.body, "")
    }).pipe(Effect.provide(FakeSfox.layerTest())))

  it.effect("expires 24 h after minting, on the fake's clock", () =>
    Effect.gen(function*() {
      const token = yield* (yield* UserTokenService).create("u1")
      // TestClock starts at the epoch.
      assert.strictEqual(DateTime.toEpochMillis(token.expires), 24 * 60 * 60 * 1000)
    }).pipe(Effect.provide(FakeSfox.layerTest())))

  it.effect("sends an id with reserved characters as one encoded path segment", () =>
    Effect.gen(function*() {
      const fake = yield* FakeSfox
      const tokens = yield* UserTokenService
      for (
        const id of ["a/b", "a?b", "a#b", "%2e%2e", "x y", "émoji-🚀", "client_db29326e-5df6-4d8b-aaaa-b75dc194a0a2"]
      ) {
        const token = yield* tokens.create(id)
        assert.strictEqual(token.userId, id)
      }
      const requests = yield* fake.requests
      assert.deepStrictEqual(requests.map((r) => r.userIds[0]), [
        "a/b",
        "a?b",
        "a#b",
        "%2e%2e",
        "x y",
        "émoji-🚀",
        "client_db29326e-5df6-4d8b-aaaa-b75dc194a0a2"
      ])
      assert.strictEqual(requests[0]!.path, "/v1/enterprise/user-tokens/a%2Fb")
    }).pipe(Effect.provide(FakeSfox.layerTest())))

  it.effect("refuses a token minted for another user", () =>
    Effect.gen(function*() {
      const fake = yield* FakeSfox
      yield* fake.enqueue(
        Fault.malformed(
          JSON.stringify({
            data: { token: "a".repeat(64), partner_user_id: "u2", expires: "2024-05-14T19:22:09.901Z" }
          })
        )
      )
      const error = yield* Effect.flip((yield* UserTokenService).create("u1"))
      assert.strictEqual(error._tag, "MalformedResponse")
    }).pipe(Effect.provide(FakeSfox.layerTest({}, noRetry))))
})

describe("createMany", () => {
  it.effect("250 ids with maxBatchSize 100 → three requests, each token matched to its user while the fake shuffles", () =>
    Effect.gen(function*() {
      const fake = yield* FakeSfox
      const ids = Array.from({ length: 250 }, (_, i) => `user-${i}`)
      const tokens = yield* (yield* UserTokenService).createMany(ids)
      assert.deepStrictEqual(tokens.map((t) => t.userId), ids)
      const requests = yield* fake.requests
      assert.strictEqual(requests.length, 3)
      assert.deepStrictEqual(requests.map((r) => r.userIds.length).sort(), [100, 100, 50])
      assert.deepStrictEqual(requests.flatMap((r) => r.userIds).sort(), [...ids].sort())
      for (const r of requests) {
        assert.strictEqual(r.path, "/v1/enterprise/user-tokens")
        assert.strictEqual(r.headers["content-type"], "application/json")
        assert.deepStrictEqual(JSON.parse(r.body), { data: r.userIds })
      }
      // Distinct tokens: none handed out twice.
      assert.strictEqual(new Set(tokens.map((t) => Redacted.value(t.token))).size, 250)
    }).pipe(Effect.provide(FakeSfox.layerTest({ shuffle: true }, { maxBatchSize: 100 }))))

  it.effect("distinct ids in first-seen order; duplicates are minted once", () =>
    Effect.gen(function*() {
      const fake = yield* FakeSfox
      const tokens = yield* (yield* UserTokenService).createMany(new Set(["b", "a"]).values())
      assert.deepStrictEqual(tokens.map((t) => t.userId), ["b", "a"])
      const again = yield* (yield* UserTokenService).createMany(["c", "a", "c", "b", "a"])
      assert.deepStrictEqual(again.map((t) => t.userId), ["c", "a", "b"])
      const requests = yield* fake.requests
      assert.deepStrictEqual(requests[1]!.userIds, ["c", "a", "b"])
    }).pipe(Effect.provide(FakeSfox.layerTest({ shuffle: true }))))

  it.effect("sends chunks up to batchConcurrency at once", () =>
    Effect.gen(function*() {
      const fake = yield* FakeSfox
      const fiber = yield* Effect.forkChild(
        (yield* UserTokenService).createMany(Array.from({ length: 10 }, (_, i) => `u${i}`))
      )
      yield* TestClockAdjust(5000)
      const tokens = yield* Fiber.join(fiber)
      assert.strictEqual(tokens.length, 10)
      // Each answer takes a second on the TestClock, so the arrival times
      // show how many were in flight: two at once, never more, never fewer.
      assert.deepStrictEqual((yield* fake.requests).map((r) => r.at), [0, 0, 1000, 1000, 2000])
    }).pipe(Effect.provide(FakeSfox.layerTest({ latency: "1 second" }, { maxBatchSize: 2, batchConcurrency: 2 }))))

  for (const mode of ["drop", "add", "duplicate", "mislabel"] as const) {
    it.effect(`a batch answer that ${mode}s a user fails as MalformedResponse and hands out nothing`, () =>
      Effect.gen(function*() {
        const fake = yield* FakeSfox
        yield* fake.enqueue(Fault.batch(mode))
        const result = yield* Effect.result((yield* UserTokenService).createMany(["u1", "u2", "u3"]))
        assert.isTrue(Result.isFailure(result))
        if (Result.isFailure(result)) assert.strictEqual(result.failure._tag, "MalformedResponse")
        assert.strictEqual((yield* fake.requests).length, 1)
      }).pipe(Effect.provide(FakeSfox.layerTest({}, noRetry))))
  }

  it.effect("a reordered batch answer is matched by partner_user_id", () =>
    Effect.gen(function*() {
      const fake = yield* FakeSfox
      yield* fake.enqueue(Fault.batch("reorder"))
      const tokens = yield* (yield* UserTokenService).createMany(["u1", "u2", "u3"])
      assert.deepStrictEqual(tokens.map((t) => t.userId), ["u1", "u2", "u3"])
    }).pipe(Effect.provide(FakeSfox.layerTest({}, noRetry))))
})
