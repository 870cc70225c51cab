/**
 * Load over real sockets against a MockSfoxServer that enforces a scaled-down
 * sFOX rate limit (and its 60 s lockout): with the service's limiter set to
 * the same, every call succeeds and the server answers not a single 429.
 * The Effect 4 edition's twin of test/Load.test.ts.
 */
import { assert, describe, it } from "@effect/vitest"
import type { UserAuthToken, UserTokenService } from "@sfox-effect/effect4-core"
import { Effect, Redacted, Result } from "effect"
import { warnings, withCapturedLogs } from "../packages/effect4-core/test/utils/logs.js"
import { resources, settleResources, type Setup, timed, withServer } from "./utils/harness.js"

const KEY = "sk-load-2b7e9d41c6"

/** Every token is its own user's, and no two users share one. */
const assertOwned = (ids: ReadonlyArray<string>, minted: ReadonlyArray<UserAuthToken>) => {
  assert.strictEqual(minted.length, ids.length)
  const values = new Set<string>()
  for (let i = 0; i < ids.length; i++) {
    if (minted[i]!.userId !== ids[i]) assert.fail(`token ${i} is ${minted[i]!.userId}'s, not ${ids[i]}'s`)
    values.add(Redacted.value(minted[i]!.token))
  }
  assert.strictEqual(values.size, ids.length, "two users share a token")
}

/** Runs a load scenario, then checks that no handle of any kind outlived it. */
const leavesNothing = <A, E>(scenario: Effect.Effect<A, E>) =>
  Effect.gen(function*() {
    const before = resources()
    const result = yield* scenario
    assert.deepStrictEqual(yield* settleResources(before), {}, "handles left open")
    return result
  })

const ids = (count: number, prefix: string) => Array.from({ length: count }, (_, i) => `${prefix}-${i}`)

const setup = (
  rateLimit: { readonly limit: number; readonly interval: "1 second" },
  service: Partial<UserTokenService.Options> = {}
): Setup => ({
  key: KEY,
  // Counts only: a long run need not keep every request.
  server: { rateLimit, record: false },
  service: { rateLimit, timeout: "10 seconds", deadline: "1 minute", ...service }
})

describe("load: the client-side limiter keeps the server from ever answering 429", () => {
  it.live("5,000 concurrent create calls, server and service at 500/s: all succeed, zero 429s, no handle left", () =>
    leavesNothing(
      withServer(setup({ limit: 500, interval: "1 second" }), ({ server, tokens }) =>
        Effect.gen(function*() {
          const users = ids(5_000, "create")
          const { millis, result } = yield* timed(Effect.forEach(users, tokens.create, { concurrency: "unbounded" }))
          assertOwned(users, result)
          const stats = yield* server.stats
          assert.strictEqual(stats.byStatus[429] ?? 0, 0, "429s")
          // Not one retry: one request per call, every one a 201.
          assert.strictEqual(stats.requests, 5_000)
          assert.strictEqual(stats.byStatus[201], 5_000)
          // 5,000 at 500 per second: the limiter made the calls wait at least 9 windows.
          assert.isAtLeast(millis, 9_000)
        }))
    ))

  // 1,000 callers at a time rather than 50,000 fibers at once: Effect's
  // unbounded forEach slows down more than linearly at that size, which would
  // time the test runner, not the service.
  it.live("50,000 ids through get (1,000 callers at a time), server and service at 100/s: 500 batches of 100, all succeed, zero 429s", () =>
    leavesNothing(
      withServer(setup({ limit: 100, interval: "1 second" }), ({ server, tokens }) =>
        Effect.gen(function*() {
          const users = ids(50_000, "get")
          const { millis, result } = yield* timed(Effect.forEach(users, tokens.get, { concurrency: 1_000 }))
          assertOwned(users, result)
          const stats = yield* server.stats
          assert.strictEqual(stats.byStatus[429] ?? 0, 0, "429s")
          assert.strictEqual(stats.requests, 500)
          assert.strictEqual(stats.minted, 50_000)
          assert.isAtLeast(millis, 4_000)
        }))
    ))

  it.live("create, createMany and get at once share one limiter (200/s): all succeed, zero 429s", () =>
    leavesNothing(
      withServer(setup({ limit: 200, interval: "1 second" }), ({ server, tokens }) =>
        Effect.gen(function*() {
          const single = ids(400, "one")
          const groups = Array.from({ length: 100 }, (_, g) => ids(10, `many-${g}`))
          const batched = ids(10_000, "auto")
          const { millis, result } = yield* timed(Effect.all([
            Effect.forEach(single, tokens.create, { concurrency: "unbounded" }),
            Effect.forEach(groups, tokens.createMany, { concurrency: "unbounded" }),
            Effect.forEach(batched, tokens.get, { concurrency: 1_000 })
          ], { concurrency: "unbounded" }))
          assertOwned(single, result[0])
          groups.forEach((group, g) => assertOwned(group, result[1][g]!))
          assertOwned(batched, result[2])
          const stats = yield* server.stats
          assert.strictEqual(stats.byStatus[429] ?? 0, 0, "429s")
          // 400 single, 100 batches of 10, 100 auto-batches of 100.
          assert.strictEqual(stats.requests, 600)
          assert.isAtLeast(millis, 2_000)
        }))
    ))

  // A window of 10 s, so that the outcome does not depend on how fast this
  // machine sends: the first 100 pass, the 101st trips the 60 s lockout.
  it.live("control: with the limiter off, 300 concurrent creates against 100 per 10 s → exactly 100 tokens, 200 RateLimited", () =>
    leavesNothing(
      withServer(
        {
          key: KEY,
          server: { rateLimit: { limit: 100, interval: "10 seconds" }, record: false },
          service: { rateLimit: false, timeout: "10 seconds" }
        },
        ({ server, tokens }) =>
          Effect.gen(function*() {
            // 200 lockout warnings, on purpose: kept, not printed.
            const [results, logs] = yield* withCapturedLogs(
              Effect.forEach(ids(300, "burst"), (id) => Effect.result(tokens.create(id)), { concurrency: "unbounded" })
            )
            const warned = warnings(logs)
            assert.strictEqual(warned.length, 200)
            assert.isTrue(warned.every((message) => message.startsWith("sFOX locked this client out")), warned[0])
            const limited = results.filter((r) => Result.isFailure(r) && r.failure._tag === "RateLimited").length
            const minted = results.filter(Result.isSuccess).length
            const stats = yield* server.stats
            assert.strictEqual(minted, 100)
            assert.strictEqual(stats.byStatus[201], 100)
            assert.strictEqual(stats.byStatus[429], 200)
            assert.strictEqual(limited, 200)
          })
      )
    ))
})
