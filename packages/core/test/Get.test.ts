import { assert, describe, it } from "@effect/vitest"
import { UserTokenService } from "@sfox-effect/core"
import { FakeSfox, Fault } from "@sfox-effect/core/testing"
import { Effect, Exit, Fiber, Layer, Redacted, Schedule, TestClock } from "effect"

const ids = (n: number, prefix = "u") => Array.from({ length: n }, (_, i) => `${prefix}${i}`)

/** Forks one fiber per call, as independent callers would be. */
const forkAll = <A, E>(effects: ReadonlyArray<Effect.Effect<A, E>>) => Effect.forEach(effects, (e) => Effect.fork(e))

describe("get", () => {
  it.effect("calls from many fibers within the window become one batch POST", () =>
    Effect.gen(function*() {
      const fake = yield* FakeSfox
      const tokens = yield* UserTokenService
      const fibers = yield* forkAll(ids(50).map(tokens.get))
      yield* TestClock.adjust("4 millis")
      assert.strictEqual((yield* fake.requests).length, 0)
      yield* TestClock.adjust("1 millis")
      const results = yield* Fiber.joinAll(fibers)
      assert.deepStrictEqual(results.map((t) => t.userId), ids(50))
      const requests = yield* fake.requests
      assert.strictEqual(requests.length, 1)
      assert.strictEqual(requests[0]!.path, "/v1/enterprise/user-tokens")
      assert.deepStrictEqual(requests[0]!.userIds, ids(50))
    }).pipe(Effect.provide(FakeSfox.layerTest({ shuffle: true }))))

  it.effect("a full batch leaves at once, without waiting for the window", () =>
    Effect.gen(function*() {
      const fake = yield* FakeSfox
      const tokens = yield* UserTokenService
      const fibers = yield* forkAll(ids(250).map(tokens.get))
      yield* Effect.repeatN(Effect.yieldNow(), 10)
      assert.deepStrictEqual((yield* fake.requests).map((r) => r.userIds.length), [100, 100])
      yield* TestClock.adjust("1 second")
      yield* Fiber.joinAll(fibers)
      assert.deepStrictEqual((yield* fake.requests).map((r) => r.userIds.length), [100, 100, 50])
    }).pipe(Effect.provide(FakeSfox.layerTest({}, { batchWindow: "1 second" }))))

  it.effect("concurrent calls for one user share one mint", () =>
    Effect.gen(function*() {
      const fake = yield* FakeSfox
      const tokens = yield* UserTokenService
      const fibers = yield* forkAll([...Array.from({ length: 20 }, () => tokens.get("same")), tokens.get("other")])
      yield* TestClock.adjust("10 millis")
      const results = yield* Fiber.joinAll(fibers)
      assert.strictEqual(new Set(results.slice(0, 20).map((t) => Redacted.value(t.token))).size, 1)
      const requests = yield* fake.requests
      assert.strictEqual(requests.length, 1)
      assert.deepStrictEqual(requests[0]!.userIds, ["same", "other"])
    }).pipe(Effect.provide(FakeSfox.layerTest())))

  it.effect("without a cache, a later call mints again", () =>
    Effect.gen(function*() {
      const fake = yield* FakeSfox
      const tokens = yield* UserTokenService
      const first = yield* Effect.fork(tokens.get("u1"))
      yield* TestClock.adjust("10 millis")
      const a = yield* Fiber.join(first)
      const second = yield* Effect.fork(tokens.get("u1"))
      yield* TestClock.adjust("10 millis")
      const b = yield* Fiber.join(second)
      assert.notStrictEqual(Redacted.value(a.token), Redacted.value(b.token))
      assert.strictEqual((yield* fake.requests).length, 2)
    }).pipe(Effect.provide(FakeSfox.layerTest())))

  it.effect("a failed batch fails each waiter with the same typed error", () =>
    Effect.gen(function*() {
      const fake = yield* FakeSfox
      const tokens = yield* UserTokenService
      yield* fake.enqueue(Fault.status(500, { body: { error: "boom" } }))
      const fibers = yield* forkAll(ids(5).map((id) => Effect.flip(tokens.get(id))))
      yield* TestClock.adjust("10 millis")
      const errors = yield* Fiber.joinAll(fibers)
      assert.strictEqual(errors[0]!._tag, "HttpFailure")
      for (const error of errors) assert.strictEqual(error, errors[0])
      assert.strictEqual((yield* fake.requests).length, 1)
    }).pipe(Effect.provide(FakeSfox.layerTest({}, { retry: Schedule.stop }))))

  it.effect("interrupting one waiter cancels nothing for the others", () =>
    Effect.gen(function*() {
      const fake = yield* FakeSfox
      const tokens = yield* UserTokenService
      const [a, b, c] = yield* forkAll([tokens.get("a"), tokens.get("b"), tokens.get("b")])
      yield* TestClock.adjust("10 millis")
      // The batch is in flight (the fake's latency holds it); one caller of "b" and the caller of "a" give up.
      yield* Fiber.interrupt(a!)
      yield* Fiber.interrupt(b!)
      yield* TestClock.adjust("1 second")
      const token = yield* Fiber.join(c!)
      assert.strictEqual(token.userId, "b")
      assert.strictEqual((yield* fake.requests).length, 1)
    }).pipe(Effect.provide(FakeSfox.layerTest({ latency: "1 second" }))))

  it.effect("a caller that gives up before its batch leaves takes its id out of it; the others go on", () =>
    Effect.gen(function*() {
      const fake = yield* FakeSfox
      const tokens = yield* UserTokenService
      const first = yield* Effect.fork(tokens.get("a"))
      yield* Effect.yieldNow()
      yield* Fiber.interrupt(first)
      const second = yield* Effect.fork(tokens.get("b"))
      yield* TestClock.adjust("10 millis")
      assert.strictEqual((yield* Fiber.join(second)).userId, "b")
      assert.deepStrictEqual((yield* fake.requests)[0]!.userIds, ["b"])
    }).pipe(Effect.provide(FakeSfox.layerTest())))

  it.effect("when every caller of a batch in flight gives up, the batch is cancelled; a new call mints afresh", () =>
    Effect.gen(function*() {
      const fake = yield* FakeSfox
      const tokens = yield* UserTokenService
      const [a, b] = yield* forkAll([tokens.get("a"), tokens.get("b")])
      yield* TestClock.adjust("10 millis")
      assert.strictEqual((yield* fake.requests).length, 1)
      yield* Fiber.interrupt(a!)
      yield* Fiber.interrupt(b!)
      // The batch (held by the fake's latency) is gone: nothing answers it, nothing hangs.
      const again = yield* Effect.fork(tokens.get("a"))
      yield* TestClock.adjust("2 seconds")
      assert.strictEqual((yield* Fiber.join(again)).userId, "a")
      assert.deepStrictEqual((yield* fake.requests).map((r) => r.userIds), [["a", "b"], ["a"]])
    }).pipe(Effect.provide(FakeSfox.layerTest({ latency: "1 second" }))))

  it.effect("bad ids fail at once with InvalidUserId and join no batch", () =>
    Effect.gen(function*() {
      const fake = yield* FakeSfox
      const tokens = yield* UserTokenService
      assert.strictEqual((yield* Effect.flip(tokens.get("..")))._tag, "InvalidUserId")
      yield* TestClock.adjust("10 millis")
      assert.strictEqual((yield* fake.requests).length, 0)
    }).pipe(Effect.provide(FakeSfox.layerTest())))

  it.effect("closing the service's scope releases waiters instead of leaving them hanging", () =>
    Effect.gen(function*() {
      const exit = yield* Effect.gen(function*() {
        const tokens = yield* UserTokenService
        const fiber = yield* Effect.fork(tokens.get("u1"))
        yield* TestClock.adjust("10 millis")
        return fiber
      }).pipe(
        Effect.provide(FakeSfox.layerTest({ latency: "1 hour" })),
        Effect.flatMap((fiber) => Fiber.await(fiber))
      )
      assert.isTrue(Exit.isInterrupted(exit))
    }))
})

describe("cache (opt-in)", () => {
  const layer = FakeSfox.layerTest({ tokenLifetime: "1 hour" }, { cache: { capacity: 2, refreshBefore: "5 minutes" } })

  const getNow = (userId: string) =>
    Effect.gen(function*() {
      const fiber = yield* Effect.fork(Effect.flatMap(UserTokenService, (s) => s.get(userId)))
      yield* TestClock.adjust("10 millis")
      return yield* Fiber.join(fiber)
    })

  it.effect("serves a token while more than refreshBefore of its life remains", () =>
    Effect.gen(function*() {
      const fake = yield* FakeSfox
      const a = yield* getNow("u1")
      const b = yield* getNow("u1")
      assert.strictEqual(Redacted.value(a.token), Redacted.value(b.token))
      assert.strictEqual((yield* fake.requests).length, 1)
      yield* TestClock.adjust("54 minutes")
      const c = yield* getNow("u1")
      assert.strictEqual(Redacted.value(a.token), Redacted.value(c.token))
      yield* TestClock.adjust("1 minute")
      const d = yield* getNow("u1")
      assert.notStrictEqual(Redacted.value(a.token), Redacted.value(d.token))
      assert.strictEqual((yield* fake.requests).length, 2)
    }).pipe(Effect.provide(layer)))

  it.effect("invalidate drops a token; capacity evicts the least recently used", () =>
    Effect.gen(function*() {
      const fake = yield* FakeSfox
      const tokens = yield* UserTokenService
      yield* getNow("u1")
      yield* tokens.invalidate("u1")
      yield* getNow("u1")
      assert.strictEqual((yield* fake.requests).length, 2)
      yield* getNow("u2")
      yield* getNow("u1") // u1 is now the most recent
      yield* getNow("u3") // evicts u2
      assert.strictEqual((yield* fake.requests).length, 4)
      yield* getNow("u1")
      assert.strictEqual((yield* fake.requests).length, 4)
      yield* getNow("u2")
      assert.strictEqual((yield* fake.requests).length, 5)
    }).pipe(Effect.provide(layer)))

  it.effect("off by default: create and get always mint", () =>
    Effect.gen(function*() {
      const fake = yield* FakeSfox
      yield* getNow("u1")
      yield* getNow("u1")
      assert.strictEqual((yield* fake.requests).length, 2)
    }).pipe(Effect.provide(FakeSfox.layerTest())))

  it.effect("cache options are checked", () =>
    Effect.gen(function*() {
      const exit = yield* Effect.exit(
        Layer.build(FakeSfox.layerTest({}, { cache: { capacity: 0 } })).pipe(Effect.scoped)
      )
      assert.isTrue(Exit.isFailure(exit))
    }))
})
