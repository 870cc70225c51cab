import { assert, describe, it } from "@effect/vitest"
import { RateLimiterUnavailable, SfoxRateLimiter, UserTokenService } from "@sfox-effect/effect4-core"
import { FakeSfox } from "@sfox-effect/effect4-core/testing"
import { Cause, Clock, Deferred, Duration, Effect, Exit, Fiber, Layer, Option, Redacted, Scope } from "effect"
import { TestClock } from "effect/testing"
import * as fc from "fast-check"
import * as RateLimiter from "../src/internal/rateLimiter.js"
import { assertConfigError } from "./utils/configError.js"
import { orHang } from "./utils/realTime.js"

const ids = (n: number, prefix = "u") => Array.from({ length: n }, (_, i) => `${prefix}${i}`)

/** Two services over one fake sFOX: each with its own `rateLimit`, as a program with two layers would have. */
const twoServices = Effect.gen(function*() {
  const fake = yield* FakeSfox
  const a = yield* UserTokenService.make({ apiKey: fake.apiKey, rateLimit: { limit: 5, interval: "1 second" } })
  const b = yield* UserTokenService.make({ apiKey: fake.apiKey, rateLimit: false })
  return { fake, a, b }
})

describe("SfoxRateLimiter: one budget for every service of the program", () => {
  const server = FakeSfox.layer({ latency: "50 millis", rateLimit: { limit: 5, interval: "1 second" } })

  it.effect("two services share the provided limiter: the server never sees more than `limit` in a window", () =>
    Effect.gen(function*() {
      const { a, b, fake } = yield* twoServices
      const fiber = yield* Effect.forkChild(
        Effect.all([
          Effect.forEach(ids(8, "a"), a.create, { concurrency: "unbounded" }),
          Effect.forEach(ids(8, "b"), b.create, { concurrency: "unbounded" })
        ], { concurrency: "unbounded" })
      )
      yield* TestClock.adjust("10 seconds")
      const [fromA, fromB] = yield* Fiber.join(fiber)
      assert.strictEqual(fromA.length + fromB.length, 16)
      const requests = yield* fake.requests
      assert.isTrue(requests.every((r) => r.status === 201))
      const at = requests.map((r) => r.at)
      for (let i = 5; i < at.length; i++) assert.isAtLeast(at[i]! - at[i - 5]!, 1000)
    }).pipe(Effect.provide(Layer.merge(server, SfoxRateLimiter.layer({ limit: 5, interval: "1 second" })))))

  it.effect("without it, each service keeps its own budget, and together they trip the lockout (the control)", () =>
    Effect.gen(function*() {
      const { a, b } = yield* twoServices
      const fiber = yield* Effect.forkChild(
        Effect.all([
          Effect.forEach(ids(8, "a"), a.create, { concurrency: "unbounded" }),
          Effect.forEach(ids(8, "b"), b.create, { concurrency: "unbounded" })
        ], { concurrency: "unbounded", mode: "result" })
      )
      yield* TestClock.adjust("10 seconds")
      const results = yield* Fiber.join(fiber)
      assert.isTrue(results.some((r) => r._tag === "Failure" && r.failure._tag === "RateLimited"))
    }).pipe(Effect.provide(server)))

  it.effect("a limiter that cannot give a turn fails the call typed, sends nothing, and is not retried", () =>
    Effect.gen(function*() {
      const fake = yield* FakeSfox
      const tokens = yield* UserTokenService
      const error = yield* Effect.flip(tokens.create("u1"))
      assert.strictEqual(error._tag, "RateLimiterUnavailable")
      assert.include(error.message, "no request was sent")
      assert.strictEqual((yield* fake.requests).length, 0)
    }).pipe(
      Effect.provide(FakeSfox.layerTest()),
      Effect.provideService(SfoxRateLimiter, {
        withTurn: () => Effect.fail(new RateLimiterUnavailable({ description: "store down" }))
      })
    ))

  it.effect("limit and interval are checked", () =>
    Effect.gen(function*() {
      for (
        const [option, options] of [
          ["limit", { limit: 0, interval: "1 second" }],
          ["limit", { limit: 1.5, interval: "1 second" }],
          ["interval", { limit: 1, interval: "0 millis" }]
        ] as const
      ) {
        const exit = yield* Effect.exit(Effect.scoped(SfoxRateLimiter.make(options)))
        assertConfigError(exit, [`InvalidData ${option}`], JSON.stringify(options))
      }
      const ok = yield* Effect.scoped(SfoxRateLimiter.make({ limit: 1, interval: "1 second" }))
      assert.isFunction(ok.withTurn)
    }))

  it.effect("a provided limiter gets each attempt with its bounds: the call's time left and the attempt's timeout", () =>
    Effect.gen(function*() {
      const seen: Array<SfoxRateLimiter.TurnOptions<unknown>> = []
      const tokens = yield* UserTokenService.make({ apiKey: Redacted.make("k"), timeout: "3 seconds" }).pipe(
        Effect.provideService(SfoxRateLimiter, {
          withTurn: (request, options) => {
            seen.push(options)
            return request
          }
        })
      )
      yield* tokens.create("u1")
      assert.strictEqual(seen.length, 1)
      assert.strictEqual(seen[0]!.maxDurationMillis, 3000)
      assert.strictEqual(seen[0]!.maxWaitMillis, 60_000)
    }).pipe(Effect.scoped, Effect.provide(FakeSfox.layer({ apiKey: "k" }))))
})

// ---------------------------------------------------------------------------
// The algorithm against a model, under TestClock.

interface Caller {
  /** When the caller asks for a turn. */
  readonly startAt: number
  /** How long its request runs once it has a turn. */
  readonly duration: number
  /** Interrupted this long after it asked (while waiting or while running), if at all. */
  readonly interruptAfter: number | undefined
  /** Its longest wait for a turn. */
  readonly maxWait: number | undefined
}

interface Scenario {
  readonly limit: number
  readonly interval: number
  readonly callers: ReadonlyArray<Caller>
}

/** Times on a grid of `step` ms, so that grants, ends, releases and interruptions often fall on one instant. */
const scenarioOn = (step: number, intervals: fc.Arbitrary<number>): fc.Arbitrary<Scenario> => {
  const at = (max: number) => fc.integer({ min: 0, max: Math.floor(max / step) }).map((k) => k * step)
  return fc.record({
    limit: fc.integer({ min: 1, max: 5 }),
    interval: intervals,
    callers: fc.array(
      fc.record({
        startAt: at(2_000),
        duration: fc.oneof(fc.constant(0), at(800)),
        interruptAfter: fc.option(at(2_000), { nil: undefined, freq: 3 }),
        maxWait: fc.option(at(1_500), { nil: undefined, freq: 3 })
      }),
      { minLength: 1, maxLength: 30 }
    )
  })
}

// Any millisecond; or a 50 ms grid with windows (kept 1 % long) of exactly 100 or 200 ms.
const scenario = fc.oneof(
  scenarioOn(1, fc.integer({ min: 1, max: 500 })),
  scenarioOn(50, fc.constantFrom(99, 198))
)

interface Turn {
  granted: number
  ended: number
}

/**
 * Runs every caller of a scenario through one limiter on the TestClock and
 * checks the model: at the instant any turn was granted, the turns granted
 * up to then whose request had not ended `interval` earlier number at most
 * `limit` (so no window of `interval` on any server's clock between send and
 * answer can hold more); every caller that was neither interrupted nor out
 * of time got its turn; and the turns of interrupted or late callers all came
 * back: at the end, exactly `limit` turns are free.
 */
const check = (s: Scenario) =>
  Effect.gen(function*() {
    const limiter = yield* SfoxRateLimiter.make({ limit: s.limit, interval: Duration.millis(s.interval) })
    const turns: Array<Turn> = []
    const outcomes: Array<"done" | "late" | "interrupted" | "pending"> = s.callers.map(() => "pending")
    const request = (duration: number) =>
      Effect.gen(function*() {
        const turn: Turn = { granted: yield* Clock.currentTimeMillis, ended: Infinity }
        turns.push(turn)
        yield* Effect.sleep(Duration.millis(duration)).pipe(
          Effect.ensuring(Effect.flatMap(Clock.currentTimeMillis, (now) => Effect.sync(() => turn.ended = now)))
        )
      })
    const fibers = yield* Effect.forEach(s.callers, (caller, i) =>
      Effect.gen(function*() {
        yield* Effect.sleep(Duration.millis(caller.startAt))
        const call = limiter.withTurn(request(caller.duration), {
          maxWaitMillis: caller.maxWait ?? Infinity,
          onLate: () => "late" as const
        })
        const fiber = yield* Effect.forkChild(call)
        if (caller.interruptAfter !== undefined) {
          yield* Effect.forkChild(Effect.delay(Fiber.interrupt(fiber), Duration.millis(caller.interruptAfter)))
        }
        const exit = yield* Fiber.await(fiber)
        outcomes[i] = Exit.isSuccess(exit) ? "done" : Exit.hasInterrupts(exit) ? "interrupted" : "late"
      }).pipe(Effect.forkChild))
    yield* TestClock.adjust("1 hour")
    yield* Fiber.joinAll(fibers)

    for (const turn of turns) {
      assert.isTrue(Number.isFinite(turn.ended), "every request ended")
      const open = turns.filter((other) => other.granted <= turn.granted && other.ended + s.interval > turn.granted)
      assert.isAtMost(open.length, s.limit, `at ${turn.granted} ms, ${open.length} turns in one window`)
    }
    s.callers.forEach((caller, i) => {
      if (caller.interruptAfter === undefined && caller.maxWait === undefined) {
        assert.strictEqual(outcomes[i], "done", `caller ${i} got no turn`)
      }
      if (caller.interruptAfter === undefined) assert.notStrictEqual(outcomes[i], "interrupted")
    })

    // No turn lost, none made up: `limit` callers get one at once, the next waits.
    const granted: Array<number> = []
    // Forked from this fiber, one after the other: none starts before all are forked. (A fiber forked inside a
    // concurrent `forEach` is its worker's child in Effect 4, interrupted when the worker ends.)
    const burst = yield* Effect.forEach(
      Array.from({ length: s.limit + 1 }),
      () =>
        Effect.forkChild(
          limiter.withTurn(Effect.sync(() => granted.push(0)), { maxWaitMillis: 0, onLate: () => "late" })
        )
    )
    const exits = yield* Effect.forEach(burst, Fiber.await)
    assert.strictEqual(granted.length, s.limit)
    assert.strictEqual(exits.filter(Exit.isFailure).length, 1)
  }).pipe(Effect.scoped, Effect.provide(TestClock.layer()))

describe("SfoxRateLimiter.layer: the sliding window against a model (fast-check, TestClock)", () => {
  it.effect("no window of `interval` ever holds more than `limit` turns, whatever the completion times", () =>
    Effect.promise(() => fc.assert(fc.asyncProperty(scenario, (s) => Effect.runPromise(check(s))), { numRuns: 100 })))

  it.effect("a turn that comes free at the very instant a caller's wait runs out is that caller's", () =>
    Effect.gen(function*() {
      const limiter = yield* SfoxRateLimiter.make({ limit: 1, interval: "1 second" })
      const order: Array<string> = []
      const take = (name: string, maxWaitMillis: number) =>
        limiter.withTurn(Effect.sync(() => order.push(name)), { maxWaitMillis, onLate: () => "late" as const })
      yield* take("first", Infinity)
      // The second caller's wait ends when the first turn comes back: at the
      // end of the window the limiter keeps, a little longer than `interval`.
      const second = yield* Effect.forkChild(Effect.result(take("second", RateLimiter.windowMillisOf("1 second"))))
      const third = yield* Effect.forkChild(take("third", Infinity))
      yield* TestClock.adjust("3 seconds")
      const outcome = yield* Fiber.join(second)
      yield* Fiber.join(third)
      assert.strictEqual(outcome._tag, "Success")
      assert.deepStrictEqual(order, ["first", "second", "third"])
    }).pipe(Effect.scoped))

  it.effect("a caller interrupted while it waits takes no turn; the next in line gets it", () =>
    Effect.gen(function*() {
      const limiter = yield* SfoxRateLimiter.make({ limit: 1, interval: "1 second" })
      const order: Array<string> = []
      const take = (name: string) =>
        limiter.withTurn(Effect.sync(() => order.push(name)), { maxWaitMillis: Infinity, onLate: () => "late" })
      yield* take("first")
      const second = yield* Effect.forkChild(take("second"))
      const third = yield* Effect.forkChild(take("third"))
      yield* TestClock.adjust("500 millis")
      yield* Fiber.interrupt(second)
      yield* TestClock.adjust("2 seconds")
      yield* Fiber.join(third)
      assert.deepStrictEqual(order, ["first", "third"])
    }).pipe(Effect.scoped))

  it.effect("closing the limiter's scope ends every waiter, with or without a longest wait, and refuses later callers", () =>
    Effect.gen(function*() {
      const scope = yield* Scope.make()
      const limiter = yield* Scope.provide(scope)(RateLimiter.make(1, "1 second"))
      const hold = yield* Deferred.make<void>()
      const take = (maxWaitMillis: number) =>
        limiter.withTurn(Effect.void, { maxWaitMillis, onLate: () => "late" as const })
      // The one turn is held until the end.
      const holder = yield* Effect.forkChild(
        limiter.withTurn(Deferred.await(hold), { maxWaitMillis: 0, onLate: () => "late" })
      )
      const forever = yield* Effect.forkChild(take(Infinity))
      const bounded = yield* Effect.forkChild(take(60_000))
      yield* Effect.yieldNow
      assert.strictEqual(limiter.snapshot().waiting, 2)
      yield* Scope.close(scope, Exit.void)
      // Each waiter's own end, not a count of yields: closing the scope ends them.
      yield* orHang(Effect.forEach([forever, bounded], Fiber.await, { discard: true }))
      for (const waiter of [forever, bounded]) {
        const exit = waiter.pollUnsafe()!
        assert.isTrue(
          Exit.isFailure(exit) &&
            Cause.findErrorOption(exit.cause).pipe(Option.exists((e) => e instanceof RateLimiterUnavailable)),
          String(exit)
        )
      }
      assert.strictEqual(limiter.snapshot().waiting, 0)
      const later = yield* Effect.flip(take(Infinity))
      assert.instanceOf(later, RateLimiterUnavailable)
      // The caller that held a turn finishes as it would have.
      yield* Deferred.succeed(hold, undefined)
      assert.isTrue(Exit.isSuccess(yield* Fiber.await(holder)))
    }))
})
