import { assert, describe, it } from "@effect/vitest"
import { UserTokenService } from "@sfox-effect/effect4-core"
import { FakeSfox } from "@sfox-effect/effect4-core/testing"
import { Effect, Exit, Fiber } from "effect"
import { TestClock } from "effect/testing"

/**
 * The limiter's contract, checked on the times the server saw requests
 * arrive (`sent`, sorted), every one of them waiting from `start`:
 *
 * - a request holds its turn from its send until `interval` after its answer
 *   (`latency` later), so at no send are more than `limit` turns held;
 * - a turn is usable again once that window has passed: a waiting request
 *   goes no later than `margin` after a turn came free. A limiter may keep
 *   its window a little longer than asked (sFOX's clock is not ours); a
 *   tenth of the interval idle is more than any such margin.
 */
const assertWindowContract = (
  sent: ReadonlyArray<number>,
  o: {
    readonly limit: number
    readonly intervalMillis: number
    readonly latencyMillis: number
    readonly start: number
  }
) => {
  const margin = o.intervalMillis / 10
  const held = (at: number) => sent.filter((s) => s <= at && at < s + o.latencyMillis + o.intervalMillis).length
  sent.forEach((at, i) => {
    assert.isAtMost(held(at), o.limit, `request ${i}, sent at ${at} ms: ${held(at)} turns held`)
    // Answers come back in send order, so the turn request i waits for is
    // the one request i - limit took.
    const free = i < o.limit ? o.start : sent[i - o.limit]! + o.latencyMillis + o.intervalMillis
    assert.isAtMost(at, free + margin, `request ${i} sent at ${at} ms, though a turn was free at ${free} ms`)
  })
}

describe("client-side rate limit", () => {
  it.effect("never holds more than `limit` turns, counting each until `interval` after its answer; a turn is used again once that has passed", () =>
    Effect.gen(function*() {
      const fake = yield* FakeSfox
      const tokens = yield* UserTokenService
      const fiber = yield* Effect.forkChild(
        Effect.forEach(Array.from({ length: 12 }, (_, i) => `u${i}`), tokens.create, { concurrency: "unbounded" })
      )
      // Three windows and more than any margin: every request has had its turn.
      yield* TestClock.adjust("4 seconds")
      const exit = fiber.pollUnsafe()
      assert.isDefined(exit, "the calls have not all finished")
      if (exit !== undefined) assert.isTrue(Exit.isSuccess(exit), `a call failed: ${String(exit)}`)
      const requests = yield* fake.requests
      assert.strictEqual(requests.length, 12)
      assert.isTrue(requests.every((r) => r.status === 201), "the server refused a request")
      assertWindowContract(requests.map((r) => r.at), { limit: 5, intervalMillis: 1_000, latencyMillis: 100, start: 0 })
    }).pipe(
      Effect.provide(
        FakeSfox.layerTest({ latency: "100 millis", rateLimit: { limit: 5, interval: "1 second" } }, {
          rateLimit: { limit: 5, interval: "1 second" }
        })
      )
    ))

  it.effect("the server sees no 429 with the limiter on, even with many callers", () =>
    Effect.gen(function*() {
      const fake = yield* FakeSfox
      const tokens = yield* UserTokenService
      const fiber = yield* Effect.forkChild(
        Effect.forEach(Array.from({ length: 60 }, (_, i) => `u${i}`), tokens.create, { concurrency: 60 })
      )
      yield* TestClock.adjust("1 minute")
      assert.strictEqual((yield* Fiber.join(fiber)).length, 60)
      const requests = yield* fake.requests
      assert.isTrue(requests.every((r) => r.status === 201))
      assertWindowContract(requests.map((r) => r.at), { limit: 10, intervalMillis: 1_000, latencyMillis: 10, start: 0 })
    }).pipe(
      Effect.provide(
        FakeSfox.layerTest({ latency: "10 millis", rateLimit: { limit: 10, interval: "1 second" } }, {
          rateLimit: { limit: 10, interval: "1 second" }
        })
      )
    ))

  it.effect("with the limiter off, the same load trips the server's lockout", () =>
    Effect.gen(function*() {
      const tokens = yield* UserTokenService
      const fiber = yield* Effect.forkChild(
        Effect.result(Effect.forEach(Array.from({ length: 20 }, (_, i) => `u${i}`), tokens.create, { concurrency: 20 }))
      )
      yield* TestClock.adjust("1 minute")
      const result = yield* Fiber.join(fiber)
      assert.strictEqual(result._tag, "Failure")
      if (result._tag === "Failure") assert.strictEqual(result.failure._tag, "RateLimited")
    }).pipe(
      Effect.provide(
        FakeSfox.layerTest({ rateLimit: { limit: 10, interval: "1 second" } }, { rateLimit: false })
      )
    ))
})
