/**
 * Defects found in the 3.x line while trying to break the Effect 4 edition
 * (test-effect4/Adversarial.test.ts has the same tests over Effect 4), each
 * pinned by a test that failed before its fix.
 */
import { assert, describe, it } from "@effect/vitest"
import { MockSfoxServer } from "@sfox-effect/node/testing"
import { RedisRateLimiter } from "@sfox-effect/redis"
import { Context, Deferred, Effect, Exit, Fiber, Layer, Scope, Supervisor } from "effect"
import * as Http from "node:http"
import * as Net from "node:net"
import { eventually, orHang } from "../packages/core/test/utils/realTime.js"
import { skipRedis, startRedis } from "./utils/redisServer.js"

describe("MockSfoxServer", () => {
  // The simulator answers each request in a root fiber of its own: closing
  // the server's scope destroyed the sockets but left that fiber sleeping out
  // its latency (on the live clock a timer holding the process for that long).
  it.effect("closing the server ends the simulator fibers still answering", () =>
    Effect.gen(function*() {
      const supervisor = yield* Supervisor.track
      const scope = yield* Scope.make()
      // Under the test's TestClock, which nothing moves: the answer waits for ever.
      const context = yield* Layer.buildWithScope(MockSfoxServer.layer({ apiKey: "k", latency: "1 hour" }), scope).pipe(
        Effect.supervised(supervisor)
      )
      const server = Context.get(context, MockSfoxServer)
      const request = Http.request(`${server.url}/v1/enterprise/user-tokens/u1`, {
        method: "POST",
        headers: { authorization: "Bearer k" }
      })
      request.on("error", () => {})
      request.end()
      yield* eventually(Effect.map(server.requests, (requests) => requests.length === 1), "the request taken in")
      const answering = (yield* supervisor.value).filter((fiber) => fiber.unsafePoll() === null)
      assert.isAbove(answering.length, 0, "the simulator is answering")
      yield* Scope.close(scope, Exit.void)
      assert.isTrue(
        answering.every((fiber) => fiber.unsafePoll() !== null),
        "a simulator fiber outlived the server"
      )
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
        .pipe(Scope.extend(scope))
      // Redis's own report of a waiter's ask (members 1 to 3; turn 0 is the first call's).
      const waiterAsked = yield* Deferred.make<void>()
      // MONITOR over a plain socket (ioredis is not a dependency here): each command Redis runs is a line.
      const monitoring = yield* Deferred.make<void>()
      yield* Effect.acquireRelease(
        Effect.sync(() => {
          const url = new URL(server.url)
          const socket = Net.connect(Number(url.port), url.hostname, () => socket.write("MONITOR\r\n"))
          socket.on("data", (data) => {
            const text = data.toString("utf8")
            if (text.startsWith("+OK")) Effect.runSync(Deferred.succeed(monitoring, undefined))
            if (/:[123]"/.test(text)) Effect.runSync(Deferred.succeed(waiterAsked, undefined))
          })
          socket.on("error", () => {})
          return socket
        }),
        (socket) => Effect.sync(() => socket.destroy())
      )
      yield* Deferred.await(monitoring)
      yield* limiter.withTurn(Effect.void, turn)
      const waiters = yield* Effect.forEach(
        [1, 2, 3],
        () => Effect.fork(Effect.flip(limiter.withTurn(Effect.void, { ...turn, maxWaitMillis: Infinity })))
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
    }).pipe(Effect.scoped))
})
