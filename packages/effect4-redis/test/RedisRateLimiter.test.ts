import { assert, describe, it } from "@effect/vitest"
import { SfoxRateLimiter } from "@sfox-effect/effect4-core"
import { RedisRateLimiter } from "@sfox-effect/effect4-redis"
import {
  Cause,
  ConfigProvider,
  Context,
  Deferred,
  Duration,
  Effect,
  Exit,
  Fiber,
  Layer,
  Logger,
  Redacted,
  Result
} from "effect"
import { Redis } from "ioredis"
import { freePort, skipRedis, startRedis } from "../../../test-effect4/utils/redisServer.js"
import { assertConfigError } from "../../effect4-core/test/utils/configError.js"
import { countedLatches } from "../../effect4-core/test/utils/latches.js"
import { type LogLine, warnings, withCapturedLogs } from "../../effect4-core/test/utils/logs.js"
import { orHang } from "../../effect4-core/test/utils/realTime.js"

/** A limiter built while Redis is down warned once (kept, not printed): it says so, never with a password. */
const assertWarnedDown = (logs: ReadonlyArray<LogLine>) => {
  const warned = warnings(logs)
  assert.strictEqual(warned.length, 1, warned.join("\n"))
  assert.match(warned[0]!, /^sfox-effect: Redis at 127\.0\.0\.1:\d+ did not answer within 200 ms; calls fail/)
}

const late = () => ({ _tag: "Late", message: "no turn in time" }) as const
const turn = { maxWaitMillis: 10_000, onLate: late, maxDurationMillis: 5_000 }

/** Log lines written while `effect` runs. */
const captureLogs = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.gen(function*() {
    const lines: Array<string> = []
    const logger = Logger.make(({ logLevel, message }) => {
      lines.push(`${logLevel.toUpperCase()} ${Array.isArray(message) ? message.join(" ") : String(message)}`)
    })
    const result = yield* effect.pipe(Effect.provide(Logger.layer([logger])))
    return { result, lines }
  })

describe.skipIf(skipRedis)("RedisRateLimiter", () => {
  it.live("two limiters on one Redis and prefix share one window, counted until `interval` after each end", () =>
    Effect.gen(function*() {
      const server = yield* startRedis()
      const options = { url: server.url, limit: 3, interval: Duration.millis(400), prefix: "shared:" }
      const a = yield* RedisRateLimiter.make(options)
      const b = yield* RedisRateLimiter.make(options)
      const grants: Array<number> = []
      const ends: Array<number> = []
      const request = Effect.gen(function*() {
        grants.push(Date.now())
        yield* Effect.sleep("30 millis")
        ends.push(Date.now())
      })
      yield* Effect.all(
        Array.from({ length: 7 }, (_, i) => (i % 2 === 0 ? a : b).withTurn(request, turn)),
        { concurrency: "unbounded" }
      )
      grants.sort((x, y) => x - y)
      ends.sort((x, y) => x - y)
      // The 4th turn waits for the 1st to end and a window to pass; the 7th for the 4th.
      assert.isAtLeast(grants[3]! - ends[0]!, 400)
      assert.isAtLeast(grants[6]! - ends[3]!, 400)
      // Another prefix is another budget. "shared:" is held full by three
      // requests that do not end: there a caller is refused (no turn can free
      // within a window), while on "other:" three callers are served, each
      // willing to wait less than the held turns' reservations last.
      const hold = yield* Deferred.make<void>()
      const running = countedLatches()
      const holding = Effect.andThen(Effect.sync(running.arrive), Deferred.await(hold))
      const held = yield* Effect.forkScoped(
        Effect.all(Array.from({ length: 3 }, () => a.withTurn(holding, turn)), { concurrency: "unbounded" })
      )
      // "shared:" held full: the third held request has started.
      yield* running.nth(3)
      const refused = yield* Effect.flip(b.withTurn(Effect.void, { ...turn, maxWaitMillis: 300 }))
      assert.strictEqual(refused._tag, "Late")
      const shortWait = { ...turn, maxWaitMillis: turn.maxDurationMillis - 1_000 }
      const other = yield* RedisRateLimiter.make({ ...options, prefix: "other:" })
      const granted = yield* Effect.all(
        Array.from({ length: 3 }, () => other.withTurn(Effect.succeed(true), shortWait)),
        { concurrency: "unbounded" }
      )
      assert.deepStrictEqual(granted, [true, true, true])
      yield* Deferred.succeed(hold, undefined)
      yield* Fiber.join(held)
    }))

  it.live("a caller that cannot get a turn within its wait fails with onLate at once, and takes none", () =>
    Effect.gen(function*() {
      const server = yield* startRedis()
      const limiter = yield* RedisRateLimiter.make({
        url: server.url,
        limit: 1,
        interval: "5 seconds",
        prefix: "late:"
      })
      yield* limiter.withTurn(Effect.void, turn)
      const error = yield* Effect.flip(limiter.withTurn(Effect.void, { ...turn, maxWaitMillis: 1_000 }))
      assert.strictEqual(error._tag, "Late")
      const redis = new Redis(server.url)
      const held = yield* Effect.promise(() => redis.zcard("late:turns"))
      yield* Effect.promise(() => redis.quit())
      assert.strictEqual(held, 1)
    }))

  it.live("a waiting caller interrupted takes no turn; a finished request's turn stays a window", () =>
    Effect.gen(function*() {
      const server = yield* startRedis()
      // A window far longer than the test: no turn frees while it runs.
      const limiter = yield* RedisRateLimiter.make({ url: server.url, limit: 1, interval: "1 minute", prefix: "int:" })
      // Every command Redis runs, in the order it runs them: what the
      // limiter has asked is seen, not guessed at from elapsed time.
      const asked = new Map<string, Deferred.Deferred<void>>()
      const askedFor = (member: string) => {
        let latch = asked.get(member)
        if (latch === undefined) asked.set(member, latch = Deferred.makeUnsafe<void>())
        return latch
      }
      const monitor = yield* Effect.acquireRelease(
        // The base client never connects: `monitor()` opens a connection of its own.
        Effect.promise(() => new Redis(server.url, { lazyConnect: true }).monitor()),
        (monitor) => Effect.sync(() => monitor.disconnect())
      )
      // Redis's own report of each command completes the latch of the turn it names.
      monitor.on("monitor", (_time: string, args: Array<string>) => {
        for (const arg of args) {
          const member = arg.slice(arg.lastIndexOf(":") + 1)
          if (arg.includes(":") && /^\d+$/.test(member)) Deferred.doneUnsafe(askedFor(member), Exit.void)
        }
      })
      const ran = (member: string) => Deferred.await(askedFor(member))
      yield* limiter.withTurn(Effect.void, turn) // turn 0: done, its window runs
      const waiting = yield* Effect.forkChild(limiter.withTurn(Effect.void, { ...turn, maxWaitMillis: Infinity })) // 1
      yield* ran("1") // the waiter's ask
      yield* Fiber.interrupt(waiting)
      // Whatever the interruption sent Redis went on the limiter's one
      // connection before the next caller's ask (2, refused): once Redis ran
      // that, it has run everything the waiter left behind.
      assert.strictEqual(
        (yield* Effect.flip(limiter.withTurn(Effect.void, { ...turn, maxWaitMillis: 1_000 })))._tag,
        "Late"
      )
      yield* ran("2") // the next caller's ask
      const redis = new Redis(server.url)
      const members = yield* Effect.promise(() => redis.zrange("int:turns", 0, -1))
      yield* Effect.promise(() => redis.quit())
      assert.deepStrictEqual(members.map((member) => member.slice(member.lastIndexOf(":") + 1)), ["0"])
    }))

  it.live("Redis unreachable: RateLimiterUnavailable without waiting for any timeout, the request never runs, no password shown", () =>
    Effect.gen(function*() {
      const port = yield* Effect.promise(freePort)
      const password = "hunter2-redis-password"
      const limiter = yield* RedisRateLimiter.make({
        url: Redacted.make(`redis://:${password}@127.0.0.1:${port}`),
        limit: 10,
        interval: "1 second",
        connectTimeout: "200 millis",
        // No timeout can be what ends the call: it fails because nothing listens.
        commandTimeout: "1 hour"
      })
      let ran = false
      const error = yield* orHang(Effect.flip(limiter.withTurn(Effect.sync(() => ran = true), turn)))
      assert.isFalse(ran)
      assert.strictEqual(error._tag, "RateLimiterUnavailable")
      if (error._tag === "RateLimiterUnavailable") {
        for (const text of [error.message, JSON.stringify(error), String(error), Cause.pretty(Cause.fail(error))]) {
          assert.notInclude(text, password)
        }
        assert.include(error.message, `127.0.0.1:${port}`)
      }
    }).pipe(withCapturedLogs, Effect.map(([, logs]) => assertWarnedDown(logs))))

  it.live("built while Redis is down, the limiter connects once Redis comes up", () =>
    Effect.gen(function*() {
      const server = yield* startRedis()
      yield* server.kill
      const limiter = yield* RedisRateLimiter.make({
        url: server.url,
        limit: 10,
        interval: "1 second",
        connectTimeout: "200 millis"
      })
      const down = yield* Effect.flip(limiter.withTurn(Effect.void, turn))
      assert.strictEqual(down._tag, "RateLimiterUnavailable")
      yield* server.restart
      const started = Date.now()
      let answer = yield* Effect.result(limiter.withTurn(Effect.succeed("minted"), turn))
      // A poll kept, bounded: ioredis reconnects on its own backoff and tells the limiter's callers nothing;
      // asking again is the only way to see it back.
      while (Result.isFailure(answer)) {
        assert.isBelow(Date.now() - started, 10_000, "never reconnected")
        yield* Effect.sleep("100 millis")
        answer = yield* Effect.result(limiter.withTurn(Effect.succeed("minted"), turn))
      }
      assert.strictEqual(answer.success, "minted")
    }).pipe(withCapturedLogs, Effect.map(([, logs]) => assertWarnedDown(logs))))

  it.live("Redis stopped answering (paused): the call is ended by the command timeout", () =>
    Effect.gen(function*() {
      const server = yield* startRedis()
      const limiter = yield* RedisRateLimiter.make({
        url: server.url,
        limit: 10,
        interval: "1 second",
        commandTimeout: "200 millis"
      })
      yield* limiter.withTurn(Effect.void, turn)
      server.child().kill("SIGSTOP")
      yield* Effect.addFinalizer(() => Effect.sync(() => server.child().kill("SIGCONT")))
      const error = yield* orHang(Effect.flip(limiter.withTurn(Effect.void, turn)))
      assert.strictEqual(error._tag, "RateLimiterUnavailable")
      // Ended by the command timeout, not by anything else.
      if (error._tag === "RateLimiterUnavailable") assert.include(error.description, "no answer within 200 ms")
    }))

  it.live("the opt-in fallback: a warning when it engages, then this process's own budget", () =>
    Effect.gen(function*() {
      const server = yield* startRedis()
      const { lines, result } = yield* captureLogs(Effect.gen(function*() {
        const limiter = yield* RedisRateLimiter.make({
          url: server.url,
          limit: 100,
          interval: "1 second",
          fallback: { limit: 2, interval: "1 second" }
        })
        yield* limiter.withTurn(Effect.void, turn)
        yield* server.kill
        const started = Date.now()
        const grants: Array<number> = []
        yield* Effect.all(
          Array.from({ length: 3 }, () => limiter.withTurn(Effect.sync(() => grants.push(Date.now() - started)), turn)),
          { concurrency: "unbounded" }
        )
        return grants.sort((a, b) => a - b)
      }))
      assert.strictEqual(lines.filter((line) => line.startsWith("WARN") && line.includes("fallback")).length, 1)
      // Two at once, the third a (fallback) window later.
      assert.strictEqual(result.length, 3)
      assert.isAtLeast(result[2]! - result[0]!, 1_000)
    }))

  it.live("the fallback lets its own turns run out when Redis is back, then returns to the shared budget", () =>
    Effect.gen(function*() {
      const server = yield* startRedis()
      const { lines } = yield* captureLogs(Effect.gen(function*() {
        const limiter = yield* RedisRateLimiter.make({
          url: server.url,
          limit: 100,
          interval: "1 second",
          prefix: "back:",
          fallback: { limit: 5, interval: "300 millis" }
        })
        yield* server.kill
        yield* limiter.withTurn(Effect.void, turn)
        yield* server.restart
        // ioredis reconnects within a second; the fallback's last turn has run out by then too.
        const redis = new Redis(server.url)
        yield* Effect.addFinalizer(() => Effect.promise(() => redis.quit()))
        const started = Date.now()
        // A poll kept, bounded: the limiter returns to Redis on ioredis's reconnect and the fallback's last turn
        // running out, neither of which it announces; each look is a turn taken, as a caller would.
        while ((yield* Effect.promise(() => redis.exists("back:turns"))) === 0) {
          assert.isBelow(Date.now() - started, 10_000, "never back on Redis")
          yield* limiter.withTurn(Effect.void, turn)
          yield* Effect.sleep("100 millis")
        }
      }))
      assert.isTrue(lines.some((line) => line.startsWith("WARN") && line.includes("fallback")))
      assert.isTrue(lines.some((line) => line.startsWith("WARN") && line.includes("answers again")))
    }))

  it.effect("options out of range fail with a ConfigError that does not echo the URL", () =>
    Effect.gen(function*() {
      for (
        const [option, options] of [
          ["url", { url: "http://user:pw-secret@example.com", limit: 1, interval: "1 second" }],
          ["url", { url: "not a url pw-secret", limit: 1, interval: "1 second" }],
          ["limit", { url: "redis://127.0.0.1", limit: 0, interval: "1 second" }],
          ["interval", { url: "redis://127.0.0.1", limit: 1, interval: "0 seconds" }],
          ["commandTimeout", { url: "redis://127.0.0.1", limit: 1, interval: "1 second", commandTimeout: "0 millis" }],
          ["fallback.limit", {
            url: "redis://127.0.0.1",
            limit: 1,
            interval: "1 second",
            fallback: { limit: -1, interval: "1 second" }
          }],
          ["fallback.interval", {
            url: "redis://127.0.0.1",
            limit: 1,
            interval: "1 second",
            fallback: { limit: 1, interval: "0 seconds" }
          }]
        ] satisfies ReadonlyArray<readonly [string, RedisRateLimiter.Options]>
      ) {
        const exit = yield* Effect.exit(Effect.scoped(RedisRateLimiter.make(options)))
        assertConfigError(exit, [`InvalidData ${option}`], option)
        assert.notInclude(Cause.pretty(Exit.isFailure(exit) ? exit.cause : Cause.empty), "pw-secret")
      }
    }))

  it.effect("every bad option is reported at once, each naming its option", () =>
    Effect.gen(function*() {
      const exit = yield* Effect.exit(Effect.scoped(RedisRateLimiter.make({
        url: "http://user:pw-secret@example.com",
        limit: 0,
        interval: "1 second",
        commandTimeout: "0 millis",
        fallback: { limit: 1, interval: "0 seconds" }
      })))
      assertConfigError(exit, [
        "InvalidData url",
        "InvalidData limit",
        "InvalidData commandTimeout",
        "InvalidData fallback.interval"
      ])
      assert.notInclude(Cause.pretty(Exit.isFailure(exit) ? exit.cause : Cause.empty), "pw-secret")
    }))

  it.live("layerConfig reads the URL from SFOX_REDIS_URL, as a redacted value", () =>
    Effect.gen(function*() {
      const server = yield* startRedis()
      const context = yield* Layer.build(
        RedisRateLimiter.layerConfig({ limit: 5, interval: "1 second" }).pipe(
          Layer.provide(ConfigProvider.layer(ConfigProvider.fromUnknown({ SFOX_REDIS_URL: server.url })))
        )
      )
      const limiter = Context.get(context, SfoxRateLimiter)
      assert.strictEqual(yield* limiter.withTurn(Effect.succeed(42), turn), 42)
    }))
})
