/**
 * "Why not Effect's RateLimiter": `SfoxRateLimiter.make` against
 * `RateLimiter.make` of effect (token-bucket and fixed-window, the two
 * algorithms effect 3.22 has), in one process.
 *
 * 1. Cost per turn when nobody waits: `N` turns of `Effect.void` in a row
 *    through each, against no limiter at all (best of `ROUNDS`).
 * 2. Behaviour, on the TestClock (deterministic):
 *    - a budget of 5 per 1 s: 20 instant requests, and 10 requests of which
 *      the first five are slow (900 ms): the most requests a server counting
 *      at arrival can see in one window of 1 s;
 *    - max wait: 10 callers that give up after 100 ms, then one more: when it
 *      gets its turn (a turn given up is given back, or not);
 *    - close: a caller waiting when the limiter's scope closes: how it ends.
 *
 * Run: `TSX_TSCONFIG_PATH=bench/tsconfig.json node --import tsx bench/src/whyNotRateLimiter.ts`
 */
import { SfoxRateLimiter } from "@sfox-effect/core"
import { Duration, Effect, Exit, Fiber, RateLimiter, Scope, TestClock, TestContext } from "effect"

type Limit = <A, E, R>(effect: Effect.Effect<A, E, R>) => Effect.Effect<A, unknown, R>
type Make = (limit: number, interval: Duration.DurationInput) => Effect.Effect<Limit, never, Scope.Scope>

const makers: ReadonlyArray<readonly [string, Make]> = [
  ["SfoxRateLimiter (ours)", (limit, interval) =>
    Effect.map(
      Effect.orDie(SfoxRateLimiter.make({ limit, interval })),
      (limiter): Limit => (effect) => limiter.withTurn(effect, { maxWaitMillis: Infinity, onLate: () => "late" })
    )],
  ["RateLimiter token-bucket", (limit, interval) => RateLimiter.make({ limit, interval, algorithm: "token-bucket" })],
  ["RateLimiter fixed-window", (limit, interval) => RateLimiter.make({ limit, interval, algorithm: "fixed-window" })]
]

const N = 200_000
const ROUNDS = 5

/** Nanoseconds per turn of `N` turns in a row. */
const costPerTurn = (make: Make | undefined) =>
  Effect.gen(function*() {
    const limit = make === undefined ? (<A, E, R>(e: Effect.Effect<A, E, R>) => e) : yield* make(1e9, "10 seconds")
    const start = process.hrtime.bigint()
    for (let i = 0; i < N; i++) yield* limit(Effect.void)
    return Number(process.hrtime.bigint() - start) / N
  }).pipe(Effect.scoped)

/** The best of `ROUNDS` for each, the limiters taking turns round after round (the first round warms up). */
const costs = Effect.gen(function*() {
  const all: ReadonlyArray<readonly [string, Make | undefined]> = [["no limiter", undefined], ...makers]
  const best = all.map(() => Infinity)
  for (let round = 0; round <= ROUNDS; round++) {
    for (const [i, [, make]] of all.entries()) {
      const ns = yield* costPerTurn(make)
      if (round > 0) best[i] = Math.min(best[i]!, ns)
    }
  }
  return all.map(([name], i) => [name, best[i]!] as const)
})

/** The most requests whose arrival (their end, the latest instant a server can count them) falls in one window. */
const maxInAnyWindow = (ends: ReadonlyArray<number>, window: number) =>
  Math.max(...ends.map((t) => ends.filter((u) => u >= t && u < t + window).length))

/** `count` requests at once, the first `slow` of them taking 900 ms, the rest instant. */
const latency = (make: Make, count: number, slow: number) =>
  Effect.gen(function*() {
    const limit = yield* make(5, "1 second")
    const ends: Array<number> = []
    const fibers = yield* Effect.forEach(Array.from({ length: count }, (_, i) => i), (i) =>
      Effect.fork(limit(
        Effect.sleep(Duration.millis(i < slow ? 900 : 0)).pipe(
          Effect.zipRight(Effect.flatMap(TestClock.currentTimeMillis, (now) => Effect.sync(() => ends.push(now))))
        )
      )))
    for (let t = 0; t < 5_000; t += 10) {
      yield* TestClock.adjust("10 millis")
    }
    yield* Fiber.joinAll(fibers)
    return maxInAnyWindow(ends, 1_000)
  }).pipe(Effect.scoped, Effect.provide(TestContext.TestContext))

const giveUp = (make: Make) =>
  Effect.gen(function*() {
    const limit = yield* make(1, "1 second")
    yield* limit(Effect.void)
    const quitters = yield* Effect.forEach(Array.from({ length: 10 }), () =>
      Effect.fork(Effect.timeout(limit(Effect.void), "100 millis")))
    yield* TestClock.adjust("200 millis")
    yield* Fiber.joinAll(quitters).pipe(Effect.ignore)
    const last = yield* Effect.fork(Effect.zipRight(limit(Effect.void), TestClock.currentTimeMillis))
    for (let t = 0; t < 20_000; t += 10) {
      yield* TestClock.adjust("10 millis")
    }
    const exit = yield* Fiber.poll(last)
    return exit._tag === "Some" && Exit.isSuccess(exit.value) ? `${exit.value.value} ms` : "not within 20 s"
  }).pipe(Effect.scoped, Effect.provide(TestContext.TestContext))

const close = (make: Make) =>
  Effect.gen(function*() {
    const scope = yield* Scope.make()
    const limit = yield* Scope.extend(make(1, "1 second"), scope)
    yield* limit(Effect.void)
    const waiter = yield* Effect.fork(limit(Effect.void))
    yield* TestClock.adjust("1 millis")
    yield* Scope.close(scope, Exit.void)
    yield* TestClock.adjust("10 millis")
    const exit = yield* Fiber.poll(waiter)
    return exit._tag === "None" ? "still running (granted after close, or waits for ever)" : Exit.isSuccess(exit.value)
      ? "granted"
      : `fails: ${exit.value.cause._tag === "Fail" ? (exit.value.cause.error as { _tag?: string })._tag : "defect"}`
  }).pipe(Effect.provide(TestContext.TestContext))

const main = Effect.gen(function*() {
  console.log(`cost per turn, ${N} turns in a row, nobody waiting (best of ${ROUNDS}):`)
  const measured = yield* costs
  const floor = measured[0]![1]
  for (const [name, ns] of measured) {
    console.log(`  ${name.padEnd(26)} ${ns.toFixed(0)} ns (+${(ns - floor).toFixed(0)} ns)`)
  }
  for (const [name, make] of makers) {
    console.log(`${name}:`)
    console.log(`  20 instant requests: most in one 1 s window (budget 5): ${yield* latency(make, 20, 0)}`)
    console.log(
      `  5 slow (900 ms) then 5 instant: most arrivals in one 1 s window (budget 5): ${yield* latency(make, 10, 5)}`
    )
    console.log(`  after 10 callers gave up at 100 ms, the next gets its turn at: ${yield* giveUp(make)}`)
    console.log(`  a caller waiting when the scope closes: ${yield* close(make)}`)
  }
})

Effect.runPromise(main)
