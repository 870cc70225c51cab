import { assert, describe, it } from "@effect/vitest"
import { UserTokenService } from "@sfox-effect/core"
import { FakeSfox } from "@sfox-effect/core/testing"
import { Effect, Fiber, TestClock } from "effect"

describe("client-side rate limit", () => {
  it.effect("never sends more than `limit` in any window, counting from each answer", () =>
    Effect.gen(function*() {
      const fake = yield* FakeSfox
      const tokens = yield* UserTokenService
      const fiber = yield* Effect.fork(
        Effect.forEach(Array.from({ length: 12 }, (_, i) => `u${i}`), tokens.create, { concurrency: "unbounded" })
      )
      yield* TestClock.adjust("100 millis")
      assert.strictEqual((yield* fake.requests).length, 5)
      // The first five answered at 100 ms: their permits come back a window
      // (kept 1 % long: 1010 ms) later, at 1110 ms.
      yield* TestClock.adjust("1009 millis")
      assert.strictEqual((yield* fake.requests).length, 5)
      yield* TestClock.adjust("1 millis")
      assert.strictEqual((yield* fake.requests).length, 10)
      yield* TestClock.adjust("2 seconds")
      assert.strictEqual((yield* Fiber.join(fiber)).length, 12)
      const at = (yield* fake.requests).map((r) => r.at)
      for (let i = 5; i < at.length; i++) assert.isAtLeast(at[i]! - at[i - 5]!, 1010)
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
      const fiber = yield* Effect.fork(
        Effect.forEach(Array.from({ length: 60 }, (_, i) => `u${i}`), tokens.create, { concurrency: 60 })
      )
      yield* TestClock.adjust("1 minute")
      assert.strictEqual((yield* Fiber.join(fiber)).length, 60)
      assert.isTrue((yield* fake.requests).every((r) => r.status === 201))
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
      const fiber = yield* Effect.fork(
        Effect.either(Effect.forEach(Array.from({ length: 20 }, (_, i) => `u${i}`), tokens.create, { concurrency: 20 }))
      )
      yield* TestClock.adjust("1 minute")
      const result = yield* Fiber.join(fiber)
      assert.strictEqual(result._tag, "Left")
      if (result._tag === "Left") assert.strictEqual(result.left._tag, "RateLimited")
    }).pipe(
      Effect.provide(
        FakeSfox.layerTest({ rateLimit: { limit: 10, interval: "1 second" } }, { rateLimit: false })
      )
    ))
})
