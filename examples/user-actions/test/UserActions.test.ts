import { assert, describe, it } from "@effect/vitest"
import { FakeSfox, Fault } from "@sfox-effect/core/testing"
import { type Duration, Effect, Fiber, TestClock, TestServices } from "effect"
import { alice, type Answer, bob, carol, deposit, FakeUserApi, GetCalls, layer, type UserApiAnswer } from "./harness.js"

/**
 * Waits (on the real clock, briefly) until the handlers have made `n` calls
 * to `get`: a request reaches `get` only after its body has been read, which
 * is real I/O, not Effect time.
 */
const untilGets = (n: number) =>
  Effect.gen(function*() {
    const gets = yield* GetCalls
    for (let i = 0; i < 2_000; i++) {
      if ((yield* gets) >= n) return
      yield* TestServices.provideLive(Effect.sleep("1 millis"))
    }
    return yield* Effect.dieMessage(`only ${yield* gets} of ${n} calls reached UserTokenService.get`)
  })

/**
 * Sends the requests concurrently, lets them all join `get`'s batch window,
 * then moves the test clock on by `advance` (the 5 ms window, plus any retry
 * delays) and collects the answers.
 */
const concurrently = (
  requests: ReadonlyArray<Effect.Effect<Answer, never, any>>,
  advance: Duration.DurationInput = "10 millis"
) =>
  Effect.gen(function*() {
    const before = yield* (yield* GetCalls)
    const fibers = yield* Effect.forEach(requests, (request) => Effect.fork(request))
    yield* untilGets(before + requests.length)
    yield* TestClock.adjust(advance)
    return yield* Fiber.joinAll(fibers)
  })

/** One request, taken through the batch window. */
const one = (request: Effect.Effect<Answer, never, any>, advance?: Duration.DurationInput) =>
  Effect.map(concurrently([request], advance), (answers) => answers[0]!)

describe("POST /deposits", () => {
  it.effect("forwards the logged-in user's deposit with a token minted for that user", () =>
    Effect.gen(function*() {
      const answer = yield* one(deposit("session-alice", 250))
      assert.strictEqual(answer.status, 201)
      assert.deepStrictEqual(answer.body, { id: "ach_1", userId: alice, amount: 250, status: "pending" })

      const mints = yield* (yield* FakeSfox).requests
      assert.strictEqual(mints.length, 1)
      assert.deepStrictEqual(mints[0]!.userIds, [alice])
      assert.strictEqual(mints[0]!.authorization, "valid")

      const [call] = yield* (yield* FakeUserApi).calls
      assert.strictEqual(call!.method, "POST")
      assert.strictEqual(call!.url, "https://api.sfox.test/v1/user/bank/deposit")
      assert.deepStrictEqual(call!.body, { amount: 250 })
      // The bearer token is the one sFOX minted for alice, not the enterprise key.
      assert.match(call!.authorization!, /^Bearer [0-9a-f]{64}$/)
      assert.strictEqual(call!.tokenUser, alice)
    }).pipe(Effect.provide(layer())))

  it.effect("an unknown session gets 401, and nothing is minted or forwarded", () =>
    Effect.gen(function*() {
      for (const session of ["session-mallory", undefined]) {
        const answer = yield* deposit(session, 250)
        assert.strictEqual(answer.status, 401)
        assert.strictEqual(answer.body._tag, "Unauthenticated")
      }
      yield* TestClock.adjust("1 second")
      assert.strictEqual(yield* (yield* GetCalls), 0)
      assert.strictEqual((yield* (yield* FakeSfox).requests).length, 0)
      assert.strictEqual((yield* (yield* FakeUserApi).calls).length, 0)
    }).pipe(Effect.provide(layer())))

  it.effect("a malformed deposit gets 400 before any token is minted", () =>
    Effect.gen(function*() {
      const answer = yield* deposit("session-alice", -5)
      assert.strictEqual(answer.status, 400)
      yield* TestClock.adjust("1 second")
      assert.strictEqual((yield* (yield* FakeSfox).requests).length, 0)
    }).pipe(Effect.provide(layer())))

  it.effect("concurrent requests of several users share one batch mint, each forwarded with its user's token", () =>
    Effect.gen(function*() {
      const answers = yield* concurrently([
        deposit("session-alice", 10),
        deposit("session-bob", 20),
        deposit("session-carol", 30),
        deposit("session-alice", 40)
      ])
      assert.deepStrictEqual(answers.map((a) => a.status), [201, 201, 201, 201])
      assert.deepStrictEqual(answers.map((a) => a.body.userId), [alice, bob, carol, alice])

      const mints = yield* (yield* FakeSfox).requests
      assert.strictEqual(mints.length, 1, "one mint request for all four")
      assert.strictEqual(mints[0]!.path, "/v1/enterprise/user-tokens")
      assert.deepStrictEqual([...mints[0]!.userIds].sort(), [alice, bob, carol].sort())

      const calls = yield* (yield* FakeUserApi).calls
      assert.strictEqual(calls.length, 4)
      for (const call of calls) {
        const amount = (call.body as { amount: number }).amount
        const expected = amount === 20 ? bob : amount === 30 ? carol : alice
        assert.strictEqual(call.tokenUser, expected, `the deposit of ${amount} went out with ${expected}'s token`)
      }
      // alice's two concurrent requests shared one mint, so one token.
      const aliceTokens = new Set(calls.filter((c) => c.tokenUser === alice).map((c) => c.authorization))
      assert.strictEqual(aliceTokens.size, 1)
    }).pipe(Effect.provide(layer({ sfox: { shuffle: true } }))))
})

describe("sFOX failures become HTTP errors", () => {
  describe("minting the token", () => {
    it.effect("Unauthorized (our enterprise key refused) → 502, never retried, nothing forwarded", () =>
      Effect.gen(function*() {
        const fake = yield* FakeSfox
        yield* fake.enqueue(Fault.status(401, { body: { error: "invalid api key" } }))
        const answer = yield* one(deposit("session-alice", 250), "1 minute")
        assert.strictEqual(answer.status, 502)
        assert.strictEqual(answer.body._tag, "SfoxUnavailable")
        assert.notInclude(JSON.stringify(answer.body), "api key")
        assert.strictEqual((yield* fake.requests).length, 1)
        assert.strictEqual((yield* (yield* FakeUserApi).calls).length, 0)
      }).pipe(Effect.provide(layer())))

    it.effect("RateLimited (sFOX's 60 s lockout) → 503 with the wait, no retry", () =>
      Effect.gen(function*() {
        const fake = yield* FakeSfox
        yield* fake.enqueue(Fault.status(429))
        const answer = yield* one(deposit("session-alice", 250))
        assert.strictEqual(answer.status, 503)
        assert.deepStrictEqual(answer.body, {
          _tag: "SfoxBusy",
          message: "sFOX is busy; try again later",
          retryAfterSeconds: 60
        })
        assert.strictEqual((yield* fake.requests).length, 1)
      }).pipe(Effect.provide(layer())))

    it.effect("a short Retry-After on a 429 is waited out and the deposit goes through", () =>
      Effect.gen(function*() {
        const fake = yield* FakeSfox
        yield* fake.enqueue(Fault.status(429, { headers: { "retry-after": "2" } }))
        const answer = yield* one(deposit("session-alice", 250), "5 seconds")
        assert.strictEqual(answer.status, 201)
        assert.deepStrictEqual((yield* fake.requests).map((r) => r.status), [429, 201])
      }).pipe(Effect.provide(layer())))

    it.effect("connection resets on every attempt → 502 after the retries", () =>
      Effect.gen(function*() {
        const fake = yield* FakeSfox
        yield* fake.enqueue([Fault.reset(), Fault.reset(), Fault.reset(), Fault.reset()])
        const answer = yield* one(deposit("session-alice", 250), "1 minute")
        assert.strictEqual(answer.status, 502)
        assert.strictEqual(answer.body._tag, "SfoxUnavailable")
        assert.strictEqual((yield* fake.requests).length, 4, "the first attempt and 3 retries")
      }).pipe(Effect.provide(layer())))

    it.effect("no answer within the attempt timeout, every time → 504", () =>
      Effect.gen(function*() {
        const fake = yield* FakeSfox
        yield* fake.enqueue([Fault.noAnswer(), Fault.noAnswer(), Fault.noAnswer(), Fault.noAnswer()])
        const answer = yield* one(deposit("session-alice", 250), "2 minutes")
        assert.strictEqual(answer.status, 504)
        assert.strictEqual(answer.body._tag, "SfoxTimeout")
      }).pipe(Effect.provide(layer({ service: { timeout: "2 seconds" } }))))

    it.effect("a user sFOX does not know → 422", () =>
      Effect.gen(function*() {
        const answer = yield* one(deposit("session-carol", 250))
        assert.strictEqual(answer.status, 422)
        assert.strictEqual(answer.body._tag, "DepositRejected")
      }).pipe(Effect.provide(layer({ sfox: { users: [alice, bob] } }))))
  })

  describe("the forwarded deposit", () => {
    const cases: ReadonlyArray<{
      readonly name: string
      readonly answer: UserApiAnswer
      readonly status: number
      readonly tag: string
    }> = [
      {
        name: "sFOX rejects the deposit (422) → 422 with sFOX's reason",
        answer: { status: 422, body: { error: "no linked bank account" } },
        status: 422,
        tag: "DepositRejected"
      },
      { name: "sFOX refuses the user token (401) → 502", answer: { status: 401 }, status: 502, tag: "SfoxUnavailable" },
      {
        name: "sFOX rate limits the user call (429) → 503",
        answer: { status: 429, headers: { "retry-after": "7" } },
        status: 503,
        tag: "SfoxBusy"
      },
      { name: "sFOX fails (500) → 502", answer: { status: 500 }, status: 502, tag: "SfoxUnavailable" },
      {
        name: "a 201 that is not a deposit → 502",
        answer: { status: 201, body: {} },
        status: 502,
        tag: "SfoxUnavailable"
      },
      { name: "the connection drops → 502", answer: "reset", status: 502, tag: "SfoxUnavailable" },
      { name: "no answer in 10 s → 504", answer: "hang", status: 504, tag: "SfoxTimeout" }
    ]
    for (const c of cases) {
      it.effect(c.name, () =>
        Effect.gen(function*() {
          yield* (yield* FakeUserApi).enqueue(c.answer)
          const answer = yield* one(deposit("session-bob", 99), "1 minute")
          assert.strictEqual(answer.status, c.status)
          assert.strictEqual(answer.body._tag, c.tag)
          const [call] = yield* (yield* FakeUserApi).calls
          assert.strictEqual(call!.tokenUser, bob)
          // Whatever happened, no token reaches the client.
          for (const token of (yield* (yield* FakeUserApi).minted).keys()) {
            assert.notInclude(JSON.stringify(answer.body), token)
          }
        }).pipe(Effect.provide(layer())))
    }

    it.effect("sFOX's reason for a rejection reaches the client; the rate-limit wait too", () =>
      Effect.gen(function*() {
        const api = yield* FakeUserApi
        yield* api.enqueue({ status: 422, body: { error: "amount exceeds the ACH deposit limit" } }, {
          status: 429,
          headers: { "retry-after": "7" }
        })
        const [rejected, busy] = yield* Effect.zip(
          one(deposit("session-bob", 99)),
          one(deposit("session-bob", 99))
        )
        assert.deepStrictEqual(rejected.body, {
          _tag: "DepositRejected",
          message: "amount exceeds the ACH deposit limit"
        })
        assert.strictEqual(busy.body.retryAfterSeconds, 7)
      }).pipe(Effect.provide(layer())))
  })
})
