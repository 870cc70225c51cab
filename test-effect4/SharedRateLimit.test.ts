/**
 * One sFOX budget across processes, with real parts (the Effect 4 edition's
 * twin of test/SharedRateLimit.test.ts, on the same plan): four `node`
 * worker processes (each its own layers, Node 24 as this process) mint at once against a MockSfoxServer that
 * enforces sFOX's limit strictly (a sliding window, then a lockout), with
 * jittered latency, through one `RedisRateLimiter` on a real `redis-server`.
 */
import { assert, describe, it } from "@effect/vitest"
import { MockSfoxServer } from "@sfox-effect/effect4-node/testing"
import { Effect } from "effect"
import {
  failuresOf,
  intervalMillis,
  limit,
  options,
  perProcess,
  processes,
  strictServerOptions
} from "../test/shared/SharedRateLimit.js"
import { requestsTaken } from "./utils/harness.js"
import { skipRedis, startRedis } from "./utils/redisServer.js"
import { runWorkers } from "./utils/workers.js"

const strictServer = MockSfoxServer.make(strictServerOptions)

describe.skipIf(skipRedis)("one budget across processes (RedisRateLimiter, real redis-server)", () => {
  it.live(
    `${processes} processes × ${perProcess} mints at ${limit} per ${intervalMillis} ms: all minted, zero 429s`,
    () =>
      Effect.gen(function*() {
        const redis = yield* startRedis()
        const server = yield* strictServer
        // Redis's answers are not what this test is about: a loaded CI machine
        // (four workers, redis-server, the server, on 2 cores) must not turn a
        // slow answer into RateLimiterUnavailable. The pace is checked below.
        const shared = options(server.url, true, { commandTimeoutMillis: 5_000 })
        const prefix = shared(0).prefix
        const results = yield* runWorkers(processes, (i) => ({ ...shared(i), prefix }), {
          redisUrl: redis.url,
          timeoutMillis: 60_000
        })
        const total = processes * perProcess
        assert.deepStrictEqual(failuresOf(results), {})
        assert.strictEqual(results.reduce((n, r) => n + r.ok, 0), total)
        const requests = yield* server.requests
        assert.strictEqual(requests.length, total)
        assert.strictEqual(requests.filter((r) => r.status === 429).length, 0, "the server answered 429")
        // The pace: no faster than the budget allows, measured on the server's clock.
        const at = requests.map((r) => r.at).sort((a, b) => a - b)
        for (let i = limit; i < at.length; i++) {
          assert.isAtLeast(at[i]! - at[i - limit]!, intervalMillis, `more than ${limit} arrivals in a window`)
        }
        const minimum = Math.floor((total - 1) / limit) * intervalMillis
        const span = at[at.length - 1]! - at[0]!
        assert.isAtLeast(span, minimum)
        process.stderr.write(
          `shared budget: ${total} requests in ${span} ms on the server (theoretical minimum ${minimum} ms, ${
            (total / (span / 1000)).toFixed(1)
          } req/s against a budget of ${limit / (intervalMillis / 1000)} req/s)\n`
        )
      }),
    120_000
  )

  it.live(
    "the control: the same four with process-local limiters trip the server's lockout",
    () =>
      Effect.gen(function*() {
        const server = yield* strictServer
        const results = yield* runWorkers(processes, options(server.url, false, { deadlineMillis: 10_000 }), {
          timeoutMillis: 60_000
        })
        const stats = yield* server.stats
        assert.isAbove(stats.byStatus[429] ?? 0, 0, "four local limiters should have tripped the lockout")
        assert.isAbove(failuresOf(results).RateLimited ?? 0, 0)
      }),
    120_000
  )

  it.live(
    "Redis killed mid-run: calls fail typed within their deadline, nothing reaches sFOX unlimited",
    () =>
      Effect.gen(function*() {
        const redis = yield* startRedis()
        const server = yield* strictServer
        const deadlineMillis = 20_000
        const shared = options(server.url, true, { deadlineMillis, commandTimeoutMillis: 300 })
        const prefix = shared(0).prefix
        // Redis dies once the first window's turns are spent and callers wait.
        const taken = yield* requestsTaken(server.port)
        const killer = Effect.gen(function*() {
          yield* taken.nth(limit)
          // The one wait kept: the callers wait for their next turn in other processes, which tell this one
          // nothing; the time lets them ask Redis before it dies (a scenario, not a bound on speed).
          yield* Effect.sleep("300 millis")
          yield* redis.kill
        })
        const results = yield* runWorkers(processes, (i) => ({ ...shared(i), prefix }), {
          redisUrl: redis.url,
          timeoutMillis: 60_000
        }, killer)
        const failures = failuresOf(results)
        const stats = yield* server.stats
        const minted = results.reduce((n, r) => n + r.ok, 0)
        assert.strictEqual(minted + Object.values(failures).reduce((a, b) => a + b, 0), processes * perProcess)
        assert.isAbove(failures.RateLimiterUnavailable ?? 0, 0, JSON.stringify(failures))
        // Only RateLimiterUnavailable: a call that outlived its deadline would
        // have ended as TransportError Timeout instead.
        assert.deepStrictEqual(Object.keys(failures), ["RateLimiterUnavailable"], JSON.stringify(failures))
        // Every request the server saw had a turn: none over the limit, and no more than were minted.
        assert.strictEqual(stats.byStatus[429] ?? 0, 0)
        assert.strictEqual(stats.requests, minted)
      }),
    120_000
  )
})
