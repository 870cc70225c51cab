/**
 * Defects found by trying to break the Effect 4 edition where Effect 4's
 * semantics differ from Effect 3's (root fibers, inline resumes, scopes),
 * each pinned by a test that failed before its fix. The 3.x twin of each,
 * where the 3.x line had the same defect, is in test/Adversarial.test.ts.
 */
import { assert, describe, it } from "@effect/vitest"
import { MockSfoxServer } from "@sfox-effect/effect4-node/testing"
import { RedisRateLimiter } from "@sfox-effect/effect4-redis"
import { Context, Deferred, Effect, Exit, Fiber, Layer, Scope } from "effect"
import { Redis } from "ioredis"
import * as Http from "node:http"
import { eventually, orHang } from "../packages/effect4-core/test/utils/realTime.js"
import { trackFibers } from "./utils/harness.js"
import { skipRedis, startRedis } from "./utils/redisServer.js"

describe("MockSfoxServer", () => {
  // The simulator answers each request in a root fiber of its own: closing
  // the server's scope destroyed the sockets but left that fiber sleeping out
  // its latency (on the live clock a timer holding the process for that long).
  it.effect("closing the server ends the simulator fibers still answering", () =>
    Effect.gen(function*() {
      const fibers = yield* trackFibers
      const scope = yield* Scope.make()
      // Under the test's TestClock, which nothing moves: the answer waits for ever.
      const context = yield* fibers.supervised(
        Layer.buildWithScope(MockSfoxServer.layer({ apiKey: "k", latency: "1 hour" }), scope)
      )
      const server = Context.get(context, MockSfoxServer)
      const request = Http.request(`${server.url}/v1/enterprise/user-tokens/u1`, {
        method: "POST",
        headers: { authorization: "Bearer k" }
      })
      request.on("error", () => {})
      request.end()
      yield* eventually(Effect.map(server.requests, (requests) => requests.length === 1), "the request taken in")
      assert.isAbove(fibers.alive(), 0, "the simulator is answering")
      yield* Scope.close(scope, Exit.void)
      assert.strictEqual(fibers.alive(), 0, "a simulator fiber outlived the server")
    }))
})

describe.skipIf(skipRedis)("RedisRateLimiter", () => {
  const turn = { maxWaitMillis: 10_000, onLate: () => ({ _tag: "Late" }) as const, maxDurationMillis: 5_000 }

  // A refused caller sleeps until a turn could free (up to `interval`), the
  // others queue behind it for a place among the pollers: closing the scope
  // left them all waiting out that sleep, and a call made after the close
  // hung behind them too. The in-process limiter fails them at once.
  it.live("closing its scope fails every waiting caller, and every later one, with RateLimiterUnavailable", () =>
    Effect.gen(function*() {
      const server = yield* startRedis()
      const scope = yield* Scope.make()
      const limiter = yield* RedisRateLimiter.make({ url: server.url, limit: 1, interval: "1 hour", prefix: "close:" })
        .pipe(Scope.provide(scope))
      // Redis's own report of a waiter's ask (members 1 to 3; turn 0 is the first call's).
      const waiterAsked = Deferred.makeUnsafe<void>()
      yield* Effect.acquireRelease(
        Effect.promise(() => new Redis(server.url, { lazyConnect: true }).monitor()),
        (monitor) => Effect.sync(() => monitor.disconnect())
      ).pipe(Effect.tap((monitor) =>
        Effect.sync(() =>
          monitor.on("monitor", (_time: string, args: Array<string>) => {
            if (args.some((arg) => /:[123]$/.test(arg))) Deferred.doneUnsafe(waiterAsked, Exit.void)
          })
        )
      ))
      yield* limiter.withTurn(Effect.void, turn)
      const waiters = yield* Effect.forEach(
        [1, 2, 3],
        () => Effect.forkChild(Effect.flip(limiter.withTurn(Effect.void, { ...turn, maxWaitMillis: Infinity })))
      )
      yield* Deferred.await(waiterAsked)
      yield* Scope.close(scope, Exit.void)
      const errors = yield* orHang(Fiber.joinAll(waiters))
      assert.deepStrictEqual(errors.map((error) => error._tag), [
        "RateLimiterUnavailable",
        "RateLimiterUnavailable",
        "RateLimiterUnavailable"
      ])
      const after = yield* orHang(Effect.flip(limiter.withTurn(Effect.succeed("sent"), turn)))
      assert.strictEqual(after._tag, "RateLimiterUnavailable")
    }))
})
