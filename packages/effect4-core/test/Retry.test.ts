import { assert, describe, it } from "@effect/vitest"
import {
  defaultRetry,
  HttpFailure,
  isRetryable,
  isTransient,
  RateLimited,
  TransportError,
  Unauthorized,
  UserTokenService
} from "@sfox-effect/effect4-core"
import { FakeSfox, Fault } from "@sfox-effect/effect4-core/testing"
import { Duration, Effect, Exit, Fiber, Pull, Random, Schedule } from "effect"
import { TestClock } from "effect/testing"

/** A `Random` whose every draw is `value`. */
const fixedRandom = (value: number): Random.Random => ({
  nextDoubleUnsafe: () => value,
  nextIntUnsafe: () => Math.floor(value * Number.MAX_SAFE_INTEGER)
})

/** Runs `self` with every random draw `value`. */
const withDraw = (value: number) => <A, E, R>(self: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
  Effect.provideService(self, Random.Random, fixedRandom(value))

// Jitter draws 0.5: a factor of exactly 1, so the delays are the nominal 500, 1000, 2000 ms.
const noJitter = withDraw(0.5)

const attemptsAt = Effect.map(FakeSfox, (fake) => Effect.map(fake.requests, (r) => r.map((x) => x.at)))

describe("default retry", () => {
  it.effect("503, 503, then 201: three requests, 500 ms then 1 s apart", () =>
    Effect.gen(function*() {
      const fake = yield* FakeSfox
      yield* fake.enqueue([Fault.status(503), Fault.status(503)])
      const fiber = yield* Effect.forkChild((yield* UserTokenService).create("u1"))
      yield* TestClock.adjust("499 millis")
      assert.strictEqual((yield* fake.requests).length, 1)
      yield* TestClock.adjust("1 millis")
      assert.strictEqual((yield* fake.requests).length, 2)
      yield* TestClock.adjust("999 millis")
      assert.strictEqual((yield* fake.requests).length, 2)
      yield* TestClock.adjust("1 millis")
      const token = yield* Fiber.join(fiber)
      assert.strictEqual(token.userId, "u1")
      assert.deepStrictEqual(yield* (yield* attemptsAt), [0, 500, 1500])
    }).pipe(noJitter, Effect.provide(FakeSfox.layerTest())))

  it.effect("at most 3 retries, then the last error", () =>
    Effect.gen(function*() {
      const fake = yield* FakeSfox
      yield* fake.enqueue(Array.from({ length: 10 }, () => Fault.status(500)))
      const fiber = yield* Effect.forkChild(Effect.flip((yield* UserTokenService).create("u1")))
      yield* TestClock.adjust("1 minute")
      const error = yield* Fiber.join(fiber)
      assert.strictEqual(error._tag, "HttpFailure")
      assert.deepStrictEqual(yield* (yield* attemptsAt), [0, 500, 1500, 3500])
    }).pipe(noJitter, Effect.provide(FakeSfox.layerTest())))

  it.effect("jitter keeps each delay within ±20 %", () =>
    Effect.gen(function*() {
      const fake = yield* FakeSfox
      yield* fake.enqueue([Fault.reset(), Fault.reset(), Fault.reset()])
      const fiber = yield* Effect.forkChild((yield* UserTokenService).create("u1"))
      yield* TestClock.adjust("1 minute")
      yield* Fiber.join(fiber)
      const at = yield* (yield* attemptsAt)
      const gaps = at.slice(1).map((t, i) => t - at[i]!)
      ;[500, 1000, 2000].forEach((nominal, i) => {
        assert.isAtLeast(gaps[i]!, nominal * 0.8)
        assert.isAtMost(gaps[i]!, nominal * 1.2)
      })
    }).pipe(Effect.provide(FakeSfox.layerTest())))

  it.effect("Retry-After on a 503 lengthens the delay (seconds form)", () =>
    Effect.gen(function*() {
      const fake = yield* FakeSfox
      yield* fake.enqueue([Fault.status(503, { headers: { "retry-after": "4" } })])
      const fiber = yield* Effect.forkChild((yield* UserTokenService).create("u1"))
      yield* TestClock.adjust("1 minute")
      yield* Fiber.join(fiber)
      assert.deepStrictEqual(yield* (yield* attemptsAt), [0, 4000])
    }).pipe(noJitter, Effect.provide(FakeSfox.layerTest())))

  it.effect("Retry-After as an HTTP date, and never past maxRetryAfter", () =>
    Effect.gen(function*() {
      const fake = yield* FakeSfox
      yield* fake.enqueue([
        Fault.status(503, { headers: { "retry-after": "Thu, 01 Jan 1970 00:00:03 GMT" } }),
        Fault.status(503, { headers: { "retry-after": "3600" } })
      ])
      const fiber = yield* Effect.forkChild((yield* UserTokenService).create("u1"))
      yield* TestClock.adjust("1 minute")
      yield* Fiber.join(fiber)
      assert.deepStrictEqual(yield* (yield* attemptsAt), [0, 3000, 13000])
    }).pipe(noJitter, Effect.provide(FakeSfox.layerTest({}, { maxRetryAfter: "10 seconds" }))))

  it.effect("a 429 is retried only when its hint fits maxRetryAfter", () =>
    Effect.gen(function*() {
      const fake = yield* FakeSfox
      yield* fake.enqueue([Fault.status(429, { headers: { "retry-after": "2" } }), Fault.status(429)])
      const fiber = yield* Effect.forkChild(Effect.flip((yield* UserTokenService).create("u1")))
      yield* TestClock.adjust("1 minute")
      const error = yield* Fiber.join(fiber)
      // The second 429 has no header: sFOX's 60 s lockout is past the 30 s cap, so it fails at once.
      assert.strictEqual(error._tag, "RateLimited")
      assert.deepStrictEqual(yield* (yield* attemptsAt), [0, 2000])
    }).pipe(noJitter, Effect.provide(FakeSfox.layerTest())))

  it.effect("401 → one request", () =>
    Effect.gen(function*() {
      const fake = yield* FakeSfox
      yield* fake.enqueue([Fault.status(401)])
      const error = yield* Effect.flip((yield* UserTokenService).create("u1"))
      assert.strictEqual(error._tag, "Unauthorized")
      assert.strictEqual((yield* fake.requests).length, 1)
    }).pipe(Effect.provide(FakeSfox.layerTest())))

  for (const status of [400, 404, 422]) {
    it.effect(`${status} → one request (4xx is never retried)`, () =>
      Effect.gen(function*() {
        const fake = yield* FakeSfox
        yield* fake.enqueue([Fault.status(status)])
        yield* Effect.flip((yield* UserTokenService).create("u1"))
        assert.strictEqual((yield* fake.requests).length, 1)
      }).pipe(Effect.provide(FakeSfox.layerTest())))
  }

  it.effect("408 is transient", () =>
    Effect.gen(function*() {
      const fake = yield* FakeSfox
      yield* fake.enqueue([Fault.status(408)])
      const fiber = yield* Effect.forkChild((yield* UserTokenService).create("u1"))
      yield* TestClock.adjust("1 minute")
      yield* Fiber.join(fiber)
      assert.strictEqual((yield* fake.requests).length, 2)
    }).pipe(Effect.provide(FakeSfox.layerTest())))

  it.effect("each batch chunk retries on its own", () =>
    Effect.gen(function*() {
      const fake = yield* FakeSfox
      yield* fake.enqueue([Fault.status(503)])
      const fiber = yield* Effect.forkChild((yield* UserTokenService).createMany(["a", "b", "c", "d"]))
      yield* TestClock.adjust("1 minute")
      const tokens = yield* Fiber.join(fiber)
      assert.deepStrictEqual(tokens.map((t) => t.userId), ["a", "b", "c", "d"])
      const requests = yield* fake.requests
      assert.strictEqual(requests.length, 3)
      assert.deepStrictEqual(requests.map((r) => r.userIds), [["a", "b"], ["a", "b"], ["c", "d"]])
    }).pipe(Effect.provide(FakeSfox.layerTest({}, { maxBatchSize: 2, batchConcurrency: 1 }))))
})

describe("custom retry", () => {
  it.effect("any Schedule replaces the default; Unauthorized is still never retried", () =>
    Effect.gen(function*() {
      const fake = yield* FakeSfox
      yield* fake.enqueue([Fault.status(400), Fault.status(400), Fault.status(401)])
      const fiber = yield* Effect.forkChild(Effect.flip((yield* UserTokenService).create("u1")))
      yield* TestClock.adjust("1 minute")
      const error = yield* Fiber.join(fiber)
      assert.strictEqual(error._tag, "Unauthorized")
      assert.deepStrictEqual(yield* (yield* attemptsAt), [0, 100, 200])
    }).pipe(Effect.provide(FakeSfox.layerTest({}, { retry: Schedule.spaced("100 millis") }))))

  it.effect("composing with isTransient", () =>
    Effect.gen(function*() {
      const fake = yield* FakeSfox
      yield* fake.enqueue([Fault.reset(), Fault.status(400)])
      const fiber = yield* Effect.forkChild(Effect.flip((yield* UserTokenService).create("u1")))
      yield* TestClock.adjust("1 minute")
      assert.strictEqual((yield* Fiber.join(fiber))._tag, "HttpFailure")
      assert.deepStrictEqual(yield* (yield* attemptsAt), [0, 1000])
    }).pipe(
      Effect.provide(
        FakeSfox.layerTest({}, {
          // Effect 4's names: `max` recurs while both do (3.x's `intersect`), `while` reads the input.
          retry: Schedule.max([Schedule.spaced("1 second"), Schedule.recurs(5)]).pipe(
            Schedule.while(({ input }) => isTransient(input))
          )
        })
      )
    ))

  it.effect("defaultRetry on its own: 500 ms, 1 s, 2 s, then stop; nothing for a failure that is not transient", () =>
    Effect.gen(function*() {
      // Steps the schedule as the service does: each step's delay, until the schedule is done.
      const delays = (input: unknown, steps: number) =>
        Effect.gen(function*() {
          const step = yield* Schedule.toStep(defaultRetry)
          const out: Array<number> = []
          for (let i = 0; i < steps; i++) {
            const exit = yield* Effect.exit(step(0, input))
            if (Exit.isFailure(exit)) {
              if (Pull.isDoneCause(exit.cause)) break
              return yield* Effect.failCause(exit.cause)
            }
            out.push(Duration.toMillis(exit.value[1]))
          }
          return out
        })
      const unavailable = new HttpFailure({ status: 503, description: "down" })
      assert.deepStrictEqual(yield* noJitter(delays(unavailable, 10)), [500, 1000, 2000])
      assert.deepStrictEqual(yield* noJitter(delays(new TransportError({ reason: "Reset", description: "" }), 10)), [
        500,
        1000,
        2000
      ])
      assert.deepStrictEqual(yield* noJitter(delays(new HttpFailure({ status: 404, description: "" }), 10)), [])
      assert.deepStrictEqual(yield* noJitter(delays(new Unauthorized({ status: 401, description: "" }), 10)), [])
      // The largest jitter draw stays within the 5 s cap.
      const high = yield* delays(unavailable, 10).pipe(withDraw(0.999))
      assert.strictEqual(high.length, 3)
      for (const delay of high) assert.isAtMost(delay, 5_000)
    }))
})

describe("never retried, whatever the policy", () => {
  it("a local request error or an answer over the size limit", () => {
    const cap = Duration.seconds(30)
    assert.isFalse(isRetryable(new TransportError({ reason: "Request", description: "bad header" }), cap))
    assert.isFalse(isRetryable(new TransportError({ reason: "TooLarge", description: "2 MiB" }), cap))
    assert.isTrue(isRetryable(new TransportError({ reason: "Reset", description: "reset" }), cap))
    assert.isFalse(isRetryable(new RateLimited({ retryAfter: Duration.seconds(31), description: "" }), cap))
    assert.isTrue(isRetryable(new RateLimited({ retryAfter: Duration.seconds(30), description: "" }), cap))
  })
})
