/**
 * The reliability suite of docs/reliability.md: every fault
 * sFOX or the network can throw at a call, over real sockets (MockSfoxServer
 * and NodeSfox's undici client) or, where a wait must be exact, over
 * FakeSfox with TestClock. Each case states the typed outcome, the attempts
 * the server saw and a bound on the time taken. The fault table and the
 * refused base URLs are shared with the Effect 4 edition
 * (test/shared/ReliabilityFaults.ts).
 */
import * as HttpClient from "@effect/platform/HttpClient"
import { assert, describe, it } from "@effect/vitest"
import { isTransient, type UserTokenError, UserTokenService } from "@sfox-effect/core"
import { FakeSfox, Fault } from "@sfox-effect/core/testing"
import { NodeSfox } from "@sfox-effect/node"
import { MockSfoxServer, type MockSfoxServerService } from "@sfox-effect/node/testing"
import {
  Clock,
  ConfigError,
  Deferred,
  Duration,
  Effect,
  Either,
  Exit,
  Fiber,
  Layer,
  Redacted,
  Schedule,
  Supervisor,
  TestClock
} from "effect"
import { waiting } from "../packages/core/test/utils/latches.js"
import { warnings, withCapturedLogs } from "../packages/core/test/utils/logs.js"
import { orHang } from "../packages/core/test/utils/realTime.js"
import {
  acceptedBaseUrls,
  type Call,
  type Expected,
  faultCaseName,
  faultCases,
  refusedBaseUrls
} from "./shared/ReliabilityFaults.js"
import {
  expectTag,
  fastRetry,
  leakFree,
  requestsTaken,
  settle,
  tcpSockets,
  timers,
  withServer
} from "./utils/harness.js"

const KEY = "sk-reliability-5d0c2e7b94"

/** The ids every fault case asks for, by the method it goes through. */
const callWith = (tokens: UserTokenService.Service, call: Call): Effect.Effect<unknown, UserTokenError> => {
  switch (call) {
    case "create":
      return tokens.create("u1")
    case "createMany":
      return tokens.createMany(["u1", "u2", "u3"])
    case "get":
      // Three callers within one batch window: one batch POST, three outcomes.
      return Effect.forEach(["u1", "u2", "u3"], (id) => Effect.either(tokens.get(id)), { concurrency: "unbounded" })
        .pipe(
          Effect.flatMap((outcomes) => {
            // Every caller must fail, and with the same error.
            const errors = outcomes.map((outcome) =>
              Either.isLeft(outcome) ? outcome.left : assert.fail(`get handed out ${outcome.right.userId}'s token`)
            )
            for (const error of errors) assert.deepStrictEqual(error, errors[0])
            return Effect.fail(errors[0]!)
          })
        )
  }
}

const check = (error: UserTokenError, expected: Expected) => {
  expectTag(error, expected._tag)
  const fields = error as { reason?: unknown; status?: unknown; description?: unknown }
  if (expected.reason !== undefined) assert.strictEqual(fields.reason, expected.reason, error.message)
  if (expected.status !== undefined) assert.strictEqual(fields.status, expected.status, error.message)
  if (expected.description !== undefined) assert.match(String(fields.description), expected.description)
}

/**
 * Each retry reached the server no sooner than `fastRetry`'s 20 ms after the
 * attempt before it (as the server's clock saw them arrive; a timer may fire
 * a millisecond early by that clock).
 */
const assertSpacedByRetryDelay = (requests: ReadonlyArray<{ readonly at: number }>) => {
  for (let i = 1; i < requests.length; i++) {
    assert.isAtLeast(requests[i]!.at - requests[i - 1]!.at, 19, `attempt ${i + 1} came too soon after attempt ${i}`)
  }
}

describe("faults over a real socket: typed outcome, attempts, the wait between them", () => {
  for (const c of faultCases) {
    it.live(
      faultCaseName(c),
      () =>
        withServer(
          { key: KEY, ...(c.service ? { service: c.service } : {}), ...(c.http ? { http: c.http } : {}) },
          ({ server, tokens }) =>
            Effect.gen(function*() {
              yield* server.enqueue(c.faults)
              // A 429 warns (kept, not printed): exactly once, and nothing else does.
              const [result, logs] = yield* withCapturedLogs(Effect.flip(callWith(tokens, c.call ?? "create")))
              check(result, c.expected)
              const warned = warnings(logs)
              assert.strictEqual(warned.length, c.warns === undefined ? 0 : 1, warned.join("\n"))
              if (c.warns !== undefined) assert.match(warned[0]!, c.warns)
              const requests = yield* server.requests
              assert.strictEqual(requests.length, c.attempts, "attempts the server saw")
              assertSpacedByRetryDelay(requests)
              // Nothing is left poisoned: the next call gets its token.
              assert.strictEqual((yield* tokens.create("after")).userId, "after")
            })
        )
    )
  }

  it.live("429 with Retry-After: 120 carries the hint, not the lockout", () =>
    withServer({ key: KEY }, ({ server, tokens }) =>
      Effect.gen(function*() {
        yield* server.enqueue(Fault.status(429, { headers: { "retry-after": "120" } }))
        const error = expectTag(yield* Effect.flip(tokens.create("u1")), "RateLimited")
        assert.isTrue(Duration.equals(error.retryAfter, Duration.seconds(120)))
        yield* server.enqueue(Fault.status(429))
        const lockout = expectTag(yield* Effect.flip(tokens.create("u1")), "RateLimited")
        assert.isTrue(Duration.equals(lockout.retryAfter, Duration.seconds(60)))
      }).pipe(
        withCapturedLogs,
        Effect.map(([, logs]) => assert.strictEqual(warnings(logs).length, 2, "one warning per 429"))
      )))

  it.live("reset before headers, reset mid-body, short body, then 201 → the token after 4 attempts", () =>
    withServer(
      { key: KEY, service: { retry: Schedule.spaced("20 millis").pipe(Schedule.intersect(Schedule.recurs(3))) } },
      ({ server, tokens }) =>
        Effect.gen(function*() {
          yield* server.enqueue([Fault.reset(), Fault.resetAfterHeaders(), Fault.shortBody()])
          const token = yield* tokens.create("u1")
          assert.strictEqual(token.userId, "u1")
          const requests = yield* server.requests
          assert.deepStrictEqual(requests.map((r) => r.fault), [
            "ResetBeforeHeaders",
            "ResetAfterHeaders",
            "ShortBody",
            undefined
          ])
          assertSpacedByRetryDelay(requests)
        })
    ))

  for (const status of [503, 429]) {
    // The deadline leaves room for the hint's second, not for sFOX's 60 s
    // lockout: a call that waited for the lockout would end without its token.
    it.live(`${status} with Retry-After: 1 → the token after 2 attempts, 1 s apart`, () =>
      withServer({ key: KEY, service: { deadline: "5 seconds" } }, ({ server, tokens }) =>
        Effect.gen(function*() {
          yield* server.enqueue(Fault.status(status, { headers: { "retry-after": "1" } }))
          // A 429 waited out warns (kept, not printed); a 503 does not.
          const [token, logs] = yield* withCapturedLogs(tokens.create("u1"))
          assert.strictEqual(token.userId, "u1")
          assert.strictEqual(warnings(logs).length, status === 429 ? 1 : 0)
          const requests = yield* server.requests
          assert.deepStrictEqual(requests.map((r) => r.status), [status, 201])
          // The policy's own delay is 20 ms: the server's hint set the wait.
          assert.isAtLeast(requests[1]!.at - requests[0]!.at, 990)
        })))
  }

  it.live("deadline shorter than the retries: no answer → TransportError Timeout at the deadline, 2 attempts", () =>
    withServer(
      { key: KEY, service: { timeout: "300 millis", deadline: "500 millis" } },
      ({ server, tokens }) =>
        Effect.gen(function*() {
          yield* server.enqueue([Fault.noAnswer(), Fault.noAnswer(), Fault.noAnswer()])
          const error = expectTag(yield* Effect.flip(tokens.create("u1")), "TransportError")
          assert.strictEqual(error.reason, "Timeout")
          // The deadline ended it, not the second attempt's own timeout.
          assert.strictEqual(error.description, "the call, retries included, took longer than 500 ms")
          assert.strictEqual((yield* server.requests).length, 2)
        })
    ))

  it.live("a rate-limit turn beyond the deadline → TransportError Timeout, no request sent", () =>
    withServer(
      { key: KEY, service: { rateLimit: { limit: 1, interval: "10 seconds" }, deadline: "300 millis" } },
      ({ server, tokens }) =>
        Effect.gen(function*() {
          yield* tokens.create("first")
          const error = expectTag(yield* Effect.flip(tokens.create("second")), "TransportError")
          assert.strictEqual(error.reason, "Timeout")
          assert.strictEqual(error.description, "the call, retries included, took longer than 300 ms")
          // A call that had waited for its turn (10 s) would have sent it.
          assert.strictEqual((yield* server.requests).length, 1)
        })
    ))
})

// ---------------------------------------------------------------------------
// Retry-After waits on virtual time: exact, whatever the machine's load.

/** A plain policy without jitter, so that every wait below is exact. */
const plainRetry = Schedule.spaced("100 millis").pipe(
  Schedule.intersect(Schedule.recurs(3)),
  Schedule.whileInput(isTransient)
)

const fake = (service: Partial<UserTokenService.Options> = {}) =>
  FakeSfox.layerTest({}, { retry: plainRetry, rateLimit: false, ...service })

/** Runs a create on virtual time; returns its exit, when the fake saw each attempt, and when the call ended. */
const onVirtualTime = (faults: ReadonlyArray<Fault>) =>
  Effect.gen(function*() {
    const sfox = yield* FakeSfox
    yield* sfox.enqueue(faults)
    const tokens = yield* UserTokenService
    const fiber = yield* Effect.fork(
      Effect.flatMap(Effect.exit(tokens.create("u1")), (exit) =>
        Effect.map(Clock.currentTimeMillis, (at) => ({ exit, at })))
    )
    yield* TestClock.adjust("5 minutes")
    const { at, exit } = yield* Fiber.join(fiber)
    return {
      exit,
      endedAt: at,
      attempts: (yield* sfox.requests).map((r) =>
        r.at
      )
    }
  })

const failure = (exit: Exit.Exit<unknown, UserTokenError>) => {
  assert.isTrue(Exit.isFailure(exit), "the call should fail")
  const error = Exit.isFailure(exit) && exit.cause._tag === "Fail" ? exit.cause.error : undefined
  assert.isDefined(error)
  return error!
}

// An HTTP date three seconds after the TestClock's start (the epoch).
const threeSecondsIn = "Thu, 01 Jan 1970 00:00:03 GMT"

describe("Retry-After and the deadline, on virtual time (FakeSfox + TestClock)", () => {
  for (const status of [503, 429]) {
    for (const [form, value] of [["seconds", "3"], ["HTTP date", threeSecondsIn]] as const) {
      it.effect(`${status} with Retry-After as ${form} → the token, second attempt exactly 3 s later`, () =>
        Effect.gen(function*() {
          const { attempts, exit } = yield* onVirtualTime([Fault.status(status, { headers: { "retry-after": value } })])
          assert.isTrue(Exit.isSuccess(exit))
          assert.deepStrictEqual(attempts, [0, 3000])
        }).pipe(Effect.provide(fake())))
    }
  }

  it.effect("429 without Retry-After → RateLimited (60 s lockout) at once, 1 attempt", () =>
    Effect.gen(function*() {
      const { attempts, endedAt, exit } = yield* onVirtualTime([Fault.status(429)])
      const error = expectTag(failure(exit), "RateLimited")
      assert.isTrue(Duration.equals(error.retryAfter, Duration.seconds(60)))
      assert.deepStrictEqual(attempts, [0])
      assert.strictEqual(endedAt, 0)
    }).pipe(Effect.provide(fake())))

  it.effect("429 with Retry-After as an HTTP date past maxRetryAfter → RateLimited carrying it, at once", () =>
    Effect.gen(function*() {
      const { attempts, endedAt, exit } = yield* onVirtualTime([
        Fault.status(429, { headers: { "retry-after": "Thu, 01 Jan 1970 00:02:00 GMT" } })
      ])
      const error = expectTag(failure(exit), "RateLimited")
      assert.isTrue(Duration.equals(error.retryAfter, Duration.seconds(120)))
      assert.deepStrictEqual(attempts, [0])
      assert.strictEqual(endedAt, 0)
    }).pipe(Effect.provide(fake())))

  it.effect("429 with Retry-After equal to maxRetryAfter → waited for, the token", () =>
    Effect.gen(function*() {
      const { attempts, exit } = yield* onVirtualTime([Fault.status(429, { headers: { "retry-after": "10" } })])
      assert.isTrue(Exit.isSuccess(exit))
      assert.deepStrictEqual(attempts, [0, 10_000])
    }).pipe(Effect.provide(fake({ maxRetryAfter: "10 seconds" }))))

  it.effect("503 with Retry-After: 3600 → the wait is cut to maxRetryAfter (10 s), the token", () =>
    Effect.gen(function*() {
      const { attempts, exit } = yield* onVirtualTime([Fault.status(503, { headers: { "retry-after": "3600" } })])
      assert.isTrue(Exit.isSuccess(exit))
      assert.deepStrictEqual(attempts, [0, 10_000])
    }).pipe(Effect.provide(fake({ maxRetryAfter: "10 seconds" }))))

  it.effect("503 with Retry-After: 20 under a 10 s deadline → HttpFailure 503 at once, no retry", () =>
    Effect.gen(function*() {
      const { attempts, endedAt, exit } = yield* onVirtualTime([
        Fault.status(503, { headers: { "retry-after": "20" } })
      ])
      const error = expectTag(failure(exit), "HttpFailure")
      assert.strictEqual(error.status, 503)
      assert.isTrue(Duration.equals(error.retryAfter!, Duration.seconds(20)))
      assert.deepStrictEqual(attempts, [0])
      assert.strictEqual(endedAt, 0)
    }).pipe(Effect.provide(fake({ deadline: "10 seconds" }))))

  it.effect("429 with Retry-After: 5 under a 3 s deadline → RateLimited at once", () =>
    Effect.gen(function*() {
      const { attempts, endedAt, exit } = yield* onVirtualTime([
        Fault.status(429, { headers: { "retry-after": "5" } })
      ])
      expectTag(failure(exit), "RateLimited")
      assert.deepStrictEqual(attempts, [0])
      assert.strictEqual(endedAt, 0)
    }).pipe(Effect.provide(fake({ deadline: "3 seconds" }))))

  it.effect("every attempt slow (2 s) under a 5 s deadline → Timeout at exactly 5 s, 3 attempts", () =>
    Effect.gen(function*() {
      const slow = Fault.delay("10 seconds")
      const { attempts, endedAt, exit } = yield* onVirtualTime([slow, slow, slow, slow])
      const error = expectTag(failure(exit), "TransportError")
      assert.strictEqual(error.reason, "Timeout")
      // Attempts at 0, 2.1 s, 4.2 s; the third is cut by the deadline.
      assert.deepStrictEqual(attempts, [0, 2100, 4200])
      assert.strictEqual(endedAt, 5000)
    }).pipe(Effect.provide(fake({ timeout: "2 seconds", deadline: "5 seconds" }))))
})

// ---------------------------------------------------------------------------
// Interruption: the call's socket goes, and nothing of the call stays behind.

/**
 * Forks `call` under a supervisor that tracks every fiber it starts, waits
 * until the server has seen `requests` requests, interrupts it, and checks
 * that the interruption returned without waiting for an answer (none comes,
 * and the attempt timeout is longer than the hang guard), that the
 * connections' server ends closed (the server saw the client go), and that no
 * timer or fiber of the call is left.
 */
const interruptAfter = (
  ctx: { readonly server: MockSfoxServerService },
  call: Effect.Effect<unknown, unknown>,
  requests: number
) =>
  Effect.gen(function*() {
    const sockets = tcpSockets()
    const timersBefore = timers()
    const supervisor = yield* Supervisor.track
    const taken = yield* requestsTaken(ctx.server.port)
    const fiber = yield* Effect.fork(Effect.supervised(call, supervisor))
    yield* taken.nth(requests)
    assert.strictEqual(tcpSockets() - sockets, 2 * requests, "one connection per request, both ends")
    yield* orHang(Fiber.interrupt(fiber))
    assert.isAtMost(yield* settle(tcpSockets, sockets), sockets, "the server saw every connection close")
    assert.isAtMost(yield* settle(timers, timersBefore), timersBefore, "a timer outlived the call")
    const alive = yield* settle(() => Effect.runSync(supervisor.value).length, 0)
    assert.strictEqual(alive, 0, "a fiber outlived the call")
  })

describe("interruption aborts the socket; no timer, socket or fiber outlives the call", () => {
  it.live("create, no answer: interrupted", () =>
    withServer({ key: KEY, service: { timeout: "10 minutes" } }, (ctx) =>
      Effect.gen(function*() {
        yield* ctx.server.enqueue(Fault.noAnswer())
        yield* interruptAfter(ctx, ctx.tokens.create("u1"), 1)
      })))

  it.live("createMany, three chunks in flight, no answer: interrupted", () =>
    withServer(
      { key: KEY, service: { timeout: "10 minutes", maxBatchSize: 1, batchConcurrency: 3 } },
      (ctx) =>
        Effect.gen(function*() {
          yield* ctx.server.enqueue([Fault.noAnswer(), Fault.noAnswer(), Fault.noAnswer()])
          yield* interruptAfter(ctx, ctx.tokens.createMany(["a", "b", "c"]), 3)
        })
    ))

  // `get` runs its batch in the service's scope; when every caller waiting on
  // it has gone, the batch (its socket, timer and fiber) is interrupted before
  // the last caller returns.
  it.live("get, its only caller, no answer: interrupted", () =>
    withServer({ key: KEY, service: { timeout: "10 minutes" } }, (ctx) =>
      Effect.gen(function*() {
        yield* ctx.server.enqueue(Fault.noAnswer())
        yield* interruptAfter(ctx, ctx.tokens.get("u1"), 1)
      })))

  it.live("get, one of two callers interrupted: the other still gets its token", () =>
    withServer({ key: KEY }, ({ server, tokens }) =>
      Effect.gen(function*() {
        yield* server.enqueue(Fault.delay("200 millis"))
        const taken = yield* requestsTaken(server.port)
        const leaving = yield* Effect.fork(tokens.get("u1"))
        const staying = yield* Effect.fork(tokens.get("u1"))
        yield* taken.nth(1)
        yield* Fiber.interrupt(leaving)
        assert.strictEqual((yield* Fiber.join(staying)).userId, "u1")
        assert.strictEqual((yield* server.requests).length, 1)
      })))

  it.live("a call waiting for its rate-limit turn: interrupted, it sends nothing and leaves no timer", () =>
    withServer(
      { key: KEY, service: { rateLimit: { limit: 1, interval: "10 seconds" } } },
      ({ server, tokens }) =>
        Effect.gen(function*() {
          yield* tokens.create("first")
          // The limiter's own timer (the first turn coming back) belongs to the service.
          const timersBefore = timers()
          const supervisor = yield* Supervisor.track
          const fiber = yield* Effect.fork(Effect.supervised(tokens.create("second"), supervisor))
          // Its first wait is for the turn: the call reaches it without any I/O.
          yield* waiting(fiber)
          yield* Fiber.interrupt(fiber)
          assert.isAtMost(yield* settle(timers, timersBefore), timersBefore)
          assert.strictEqual(yield* settle(() => Effect.runSync(supervisor.value).length, 0), 0)
          assert.strictEqual((yield* server.requests).length, 1)
        })
    ))

  // The policy tells when the 503 has been read and the retry decided on;
  // from there the call does no I/O before its wait, so once it is suspended
  // it is waiting out the Retry-After. With no timer and no fiber of the call
  // left, nothing can send the retry later: no need to wait and see.
  it.live("a call waiting out a Retry-After: interrupted, the retry is never sent", () =>
    Effect.gen(function*() {
      const decided = yield* Deferred.make<void>()
      const retry = fastRetry.pipe(Schedule.tapInput(() => Deferred.succeed(decided, undefined)))
      yield* withServer({ key: KEY, service: { retry } }, ({ server, tokens }) =>
        Effect.gen(function*() {
          yield* server.enqueue(Fault.status(503, { headers: { "retry-after": "1" } }))
          const timersBefore = timers()
          const supervisor = yield* Supervisor.track
          const fiber = yield* Effect.fork(Effect.supervised(tokens.create("u1"), supervisor))
          yield* Deferred.await(decided)
          yield* waiting(fiber)
          yield* Fiber.interrupt(fiber)
          assert.isAtMost(yield* settle(timers, timersBefore), timersBefore, "a timer outlived the call")
          assert.strictEqual(yield* settle(() => Effect.runSync(supervisor.value).length, 0), 0, "a fiber outlived it")
          assert.strictEqual((yield* server.requests).length, 1)
        }))
    }))
})

// ---------------------------------------------------------------------------
// baseUrl: a refused URL fails the layer with a ConfigError and sends nothing.

describe("baseUrl refusal sends nothing", () => {
  /**
   * Builds the service over undici pointed at `baseUrl(port)` of a live
   * MockSfoxServer, and tries a call if it was built. Every request any
   * client sends is counted, whichever host it went to.
   */
  const attempt = (baseUrl: (port: number) => string) =>
    leakFree(
      Effect.gen(function*() {
        const server = yield* MockSfoxServer
        let sent = 0
        const counting = Layer.effect(
          HttpClient.HttpClient,
          Effect.map(HttpClient.HttpClient, HttpClient.tapRequest(() => Effect.sync(() => sent++)))
        ).pipe(Layer.provide(NodeSfox.httpClientWith({ connectTimeout: "200 millis" })))
        const exit = yield* Effect.flatMap(UserTokenService, (tokens) => tokens.create("u1")).pipe(
          Effect.provide(UserTokenService.layer({ apiKey: Redacted.make(KEY), baseUrl: baseUrl(server.port) })),
          Effect.provide(counting),
          Effect.exit
        )
        return { exit, sent, seen: (yield* server.requests).length }
      }).pipe(Effect.provide(MockSfoxServer.layer({ apiKey: KEY })))
    )

  const refused = refusedBaseUrls(KEY)

  for (const [name, url] of refused) {
    it.live(`${name} → ConfigError, no request`, () =>
      Effect.gen(function*() {
        const { exit, seen, sent } = yield* attempt(url)
        assert.isTrue(Exit.isFailure(exit), "the layer should be refused")
        if (Exit.isFailure(exit)) {
          const error = exit.cause._tag === "Fail" ? exit.cause.error : undefined
          assert.isTrue(
            ConfigError.isConfigError(error) && error._op === "InvalidData" && error.path.join(".") === "baseUrl",
            String(exit.cause)
          )
          // The refusal names the rule, never the URL's secrets.
          assert.notInclude(String(exit.cause._tag === "Fail" ? exit.cause.error : ""), "password")
          assert.notInclude(String(exit.cause._tag === "Fail" ? exit.cause.error : ""), KEY)
        }
        assert.strictEqual(sent, 0, "a request left")
        assert.strictEqual(seen, 0, "the server saw a request")
      }))
  }

  it.live("control: http on 127.0.0.1 and on localhost are accepted and reach the server", () =>
    Effect.gen(function*() {
      for (const url of acceptedBaseUrls) {
        const { exit, seen, sent } = yield* attempt(url)
        assert.isTrue(Exit.isSuccess(exit), String(exit))
        assert.strictEqual(sent, 1)
        assert.strictEqual(seen, 1)
      }
    }))
})
