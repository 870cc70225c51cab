/**
 * What the library logs, at which level, and that nothing logged holds a
 * secret or a user id: captured with a test `Logger` over `FakeSfox`, on
 * `TestClock`.
 */
import { assert, describe, it } from "@effect/vitest"
import { SfoxRateLimiter, UserTokenService } from "@sfox-effect/effect4-core"
import { FakeSfox, Fault } from "@sfox-effect/effect4-core/testing"
import type { Duration } from "effect"
import { Effect, Fiber, Layer, Logger, type LogLevel, Redacted, References, Schedule } from "effect"
import { TestClock } from "effect/testing"

interface Line {
  readonly level: string
  readonly message: string
  readonly annotations: Record<string, unknown>
}

const capture = (minimum: LogLevel.LogLevel) => {
  const lines: Array<Line> = []
  const logger = Logger.make(({ fiber, logLevel, message }) => {
    lines.push({
      // Effect 4 names the level `"Debug"`; the 3.x label (`DEBUG`) is kept.
      level: logLevel.toUpperCase(),
      message: (Array.isArray(message) ? message : [message]).map(String).join(" "),
      annotations: { ...fiber.getRef(References.CurrentLogAnnotations) }
    })
  })
  const layer = Layer.merge(Logger.layer([logger]), Layer.succeed(References.MinimumLogLevel, minimum))
  return { lines, layer }
}

const KEY = "sk-log-0123456789abcdef"
const retryNow = { retry: Schedule.recurs(3) }

describe("logging", () => {
  it.effect("a retried 503 is one Debug line: why, which attempt, how long until the next", () => {
    const { layer, lines } = capture("All")
    return Effect.gen(function*() {
      const fake = yield* FakeSfox
      yield* fake.enqueue(Fault.status(503, { body: { error: `down, key ${KEY}` } }))
      yield* (yield* UserTokenService).create("user-secret-id")
      assert.strictEqual(lines.length, 1, JSON.stringify(lines))
      const [line] = lines
      assert.strictEqual(line!.level, "DEBUG")
      assert.match(line!.message, /attempt 2 in 0 ms/)
      assert.strictEqual(line!.annotations["sfox.attempt"], 1)
      assert.strictEqual(line!.annotations["error.type"], "503")
      assert.strictEqual(line!.annotations["http.response.status_code"], 503)
      assert.notInclude(JSON.stringify(lines), KEY)
      assert.notInclude(JSON.stringify(lines), "user-secret-id")
    }).pipe(Effect.provide(FakeSfox.layerTest({ apiKey: KEY }, retryNow)), Effect.provide(layer))
  })

  it.effect("a retried 503 whose text names the user: the line has the tag and status, not sFOX's sentence", () => {
    const { layer, lines } = capture("All")
    return Effect.gen(function*() {
      const fake = yield* FakeSfox
      yield* fake.enqueue(Fault.status(503, { body: { error: "user user-secret-id is being migrated" } }))
      yield* (yield* UserTokenService).create("user-secret-id")
      assert.strictEqual(lines.length, 1, JSON.stringify(lines))
      assert.match(lines[0]!.message, /^sFOX request failed \(HttpFailure 503\); attempt 2 in 0 ms$/)
      assert.notInclude(JSON.stringify(lines), "user-secret-id")
    }).pipe(Effect.provide(FakeSfox.layerTest({}, retryNow)), Effect.provide(layer))
  })

  it.effect("quiet at the default Info level while a retry heals the call", () => {
    const { layer, lines } = capture("Info")
    return Effect.gen(function*() {
      const fake = yield* FakeSfox
      yield* fake.enqueue([Fault.status(503), Fault.reset()])
      yield* (yield* UserTokenService).create("u1")
      assert.deepStrictEqual(lines, [])
    }).pipe(Effect.provide(FakeSfox.layerTest({}, retryNow)), Effect.provide(layer))
  })

  it.effect("a 429 waited out is a Warning with the wait; a lockout is a Warning and is not retried", () => {
    const { layer, lines } = capture("Info")
    return Effect.gen(function*() {
      const fake = yield* FakeSfox
      const tokens = yield* UserTokenService
      yield* fake.enqueue(Fault.status(429, { headers: { "retry-after": "1" } }))
      const fiber = yield* Effect.forkChild(tokens.create("u1"))
      yield* TestClock.adjust("1 second")
      yield* Fiber.join(fiber)
      yield* fake.enqueue(Fault.status(429))
      const error = yield* Effect.flip(tokens.create("u1"))
      assert.strictEqual(error._tag, "RateLimited")
      assert.deepStrictEqual(lines.map((line) => line.level), ["WARN", "WARN"])
      assert.match(lines[0]!.message, /429: waiting 1000 ms before attempt 2/)
      assert.match(lines[1]!.message, /locked this client out/)
      assert.strictEqual(lines[1]!.annotations["http.response.status_code"], 429)
    }).pipe(Effect.provide(FakeSfox.layerTest({}, retryNow)), Effect.provide(layer))
  })

  it.effect("a batch refused for some of its users is split: one Info line with its size", () => {
    const { layer, lines } = capture("Info")
    return Effect.gen(function*() {
      const tokens = yield* UserTokenService
      const results = yield* Effect.forEach(
        ["known-1", "known-2", "stranger"],
        (id) => Effect.result(tokens.get(id)),
        { concurrency: "unbounded" }
      )
      assert.deepStrictEqual(results.map((r) => r._tag), ["Success", "Success", "Failure"])
      assert.strictEqual(lines.length, 1, JSON.stringify(lines))
      assert.strictEqual(lines[0]!.level, "INFO")
      assert.strictEqual(lines[0]!.annotations["sfox.batch_size"], 3)
      assert.notInclude(JSON.stringify(lines), "stranger")
      assert.notInclude(JSON.stringify(lines), "known-1")
    }).pipe(
      Effect.provide(FakeSfox.layerTest({ users: ["known-1", "known-2"] }, { batchWindow: "1 second" })),
      Effect.provide(layer)
    )
  })

  it.effect("a rate-limit turn waited for a second or more is a Debug line with the wait", () => {
    const { layer, lines } = capture("All")
    return Effect.gen(function*() {
      const tokens = yield* UserTokenService
      yield* tokens.create("u1")
      const fiber = yield* Effect.forkChild(tokens.create("u2"))
      yield* TestClock.adjust("2 seconds")
      yield* Fiber.join(fiber)
      const waits = lines.filter((line) => line.annotations["sfox.rate_limit.wait"] !== undefined)
      assert.strictEqual(waits.length, 1, JSON.stringify(lines))
      assert.strictEqual(waits[0]!.level, "DEBUG")
      assert.isAtLeast(waits[0]!.annotations["sfox.rate_limit.wait"] as number, 1)
    }).pipe(
      Effect.provide(FakeSfox.layerTest({}, { rateLimit: { limit: 1, interval: "1 second" } })),
      Effect.provide(layer)
    )
  })

  it.effect("any limiter's long wait is logged (a shared one here), a short one is not", () => {
    const { layer, lines } = capture("All")
    // A limiter shared between processes, as the Redis one: the first turn waits 3 s, the next 500 ms.
    const waits: Array<Duration.Input> = ["3 seconds", "500 millis"]
    const shared = Layer.succeed(SfoxRateLimiter, {
      withTurn: (request) => Effect.andThen(Effect.sleep(waits.shift() ?? "0 millis"), request)
    })
    return Effect.gen(function*() {
      const tokens = yield* UserTokenService
      const fiber = yield* Effect.forkChild(Effect.zip(tokens.create("u1"), tokens.create("u2")))
      yield* TestClock.adjust("4 seconds")
      yield* Fiber.join(fiber)
      const logged = lines.filter((line) => line.annotations["sfox.rate_limit.wait"] !== undefined)
      assert.strictEqual(logged.length, 1, JSON.stringify(lines))
      assert.strictEqual(logged[0]!.level, "DEBUG")
      assert.strictEqual(logged[0]!.annotations["sfox.rate_limit.wait"], 3)
    }).pipe(
      Effect.provide(FakeSfox.layerTest().pipe(Layer.provide(shared))),
      Effect.provide(layer)
    )
  })

  it.effect("the key never reaches a log line, even when sFOX's text quotes it", () => {
    const { layer, lines } = capture("All")
    return Effect.gen(function*() {
      const fake = yield* FakeSfox
      const key = Redacted.value(fake.apiKey)
      yield* fake.enqueue([
        Fault.status(503, { body: { error: `bad ${key}` } }),
        Fault.status(429, { body: { error: `slow down ${key}` }, headers: { "retry-after": "0" } })
      ])
      yield* (yield* UserTokenService).create("u1")
      assert.isAtLeast(lines.length, 2)
      assert.notInclude(JSON.stringify(lines), key)
    }).pipe(Effect.provide(FakeSfox.layerTest({ apiKey: KEY }, retryNow)), Effect.provide(layer))
  })
})
