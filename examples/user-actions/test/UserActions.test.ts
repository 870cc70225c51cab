import { assert, describe, it } from "@effect/vitest"
import { FakeSfox, Fault, type SfoxSimulator } from "@sfox-effect/core/testing"
import { Effect, TestClock } from "effect"
import {
  alice,
  bob,
  carol,
  ClientCalls,
  concurrently,
  deposit,
  depositPath,
  deposits,
  layer,
  Minted,
  mints,
  one
} from "./harness.js"

/** A recorded request as `METHOD path status`. */
const line = (request: SfoxSimulator.RecordedRequest) => `${request.method} ${request.path} ${request.status}`

describe("POST /deposits", () => {
  it.effect("deposits as the logged-in user: sFOX sees a live token minted for that user, not the key", () =>
    Effect.gen(function*() {
      const answer = yield* one(deposit("session-alice", 250))
      assert.strictEqual(answer.status, 201)
      assert.deepStrictEqual(answer.body, { id: "ach_1", userId: alice, amount: 250, status: "pending" })

      const [mint, ...moreMints] = yield* mints
      assert.strictEqual(moreMints.length, 0)
      assert.deepStrictEqual(mint!.userIds, [alice])
      assert.strictEqual(mint!.authorization, "valid")

      const [call, ...moreCalls] = yield* deposits
      assert.strictEqual(moreCalls.length, 0)
      assert.strictEqual(call!.method, "POST")
      assert.deepStrictEqual(JSON.parse(call!.body), { amount: 250 })
      // "valid" on a user endpoint: a live token the fake minted (it refuses the key there), and alice's.
      assert.strictEqual(call!.authorization, "valid")
      assert.deepStrictEqual(call!.userIds, [alice])
      assert.strictEqual(call!.status, 201)
    }).pipe(Effect.provide(layer())))

  it.effect("an unknown session gets 401, and nothing is minted or forwarded", () =>
    Effect.gen(function*() {
      for (const session of ["session-mallory", undefined]) {
        const answer = yield* deposit(session, 250)
        assert.strictEqual(answer.status, 401)
        assert.strictEqual(answer.body._tag, "Unauthenticated")
      }
      yield* TestClock.adjust("1 second")
      assert.strictEqual(yield* (yield* ClientCalls), 0)
      assert.strictEqual((yield* (yield* FakeSfox).requests).length, 0)
    }).pipe(Effect.provide(layer())))

  it.effect("a malformed deposit gets 400 before any token is minted", () =>
    Effect.gen(function*() {
      const answer = yield* deposit("session-alice", -5)
      assert.strictEqual(answer.status, 400)
      yield* TestClock.adjust("1 second")
      assert.strictEqual((yield* (yield* FakeSfox).requests).length, 0)
    }).pipe(Effect.provide(layer())))

  it.effect("concurrent requests of several users share one batch mint, each deposited with its user's token", () =>
    Effect.gen(function*() {
      const answers = yield* concurrently([
        deposit("session-alice", 10),
        deposit("session-bob", 20),
        deposit("session-carol", 30),
        deposit("session-alice", 40)
      ], "1 second")
      assert.deepStrictEqual(answers.map((a) => a.status), [201, 201, 201, 201])
      assert.deepStrictEqual(answers.map((a) => a.body.userId), [alice, bob, carol, alice])

      const minted = yield* mints
      assert.strictEqual(minted.length, 1, "one mint request for all four")
      assert.strictEqual(minted[0]!.path, "/v1/enterprise/user-tokens")
      // Three ids for four requests: alice's two concurrent requests shared one mint.
      assert.deepStrictEqual([...minted[0]!.userIds].sort(), [alice, bob, carol].sort())

      const calls = yield* deposits
      assert.strictEqual(calls.length, 4)
      for (const call of calls) {
        const amount = (JSON.parse(call.body) as { amount: number }).amount
        const expected = amount === 20 ? bob : amount === 30 ? carol : alice
        assert.strictEqual(call.authorization, "valid")
        assert.deepStrictEqual(call.userIds, [expected], `the deposit of ${amount} went out with ${expected}'s token`)
      }
      // A window far longer than the test's real time: only TestClock closes it, once all four are in.
    }).pipe(Effect.provide(layer({ sfox: { shuffle: true }, service: { batchWindow: "1 second" } }))))

  it.effect("a token sFOX revoked is minted again once, and the deposit goes through", () =>
    Effect.gen(function*() {
      const fake = yield* FakeSfox
      assert.strictEqual((yield* one(deposit("session-alice", 250))).status, 201)
      assert.strictEqual(yield* fake.revoke(alice), 1)

      const answer = yield* one(deposit("session-alice", 100))
      assert.strictEqual(answer.status, 201)
      assert.strictEqual(answer.body.amount, 100)
      assert.deepStrictEqual((yield* fake.requests).map(line), [
        "POST /v1/enterprise/user-tokens 201",
        `POST ${depositPath} 201`,
        // The cached token, refused; then a fresh one.
        `POST ${depositPath} 401`,
        "POST /v1/enterprise/user-tokens 201",
        `POST ${depositPath} 201`
      ])
      for (const mint of yield* mints) assert.deepStrictEqual(mint.userIds, [alice])
    }).pipe(Effect.provide(layer({ service: { cache: true } }))))
})

describe("sFOX failures become HTTP errors", () => {
  describe("minting the token", () => {
    it.effect("Unauthorized (our enterprise key refused) → 502, never retried, nothing deposited", () =>
      Effect.gen(function*() {
        const fake = yield* FakeSfox
        yield* fake.enqueue(Fault.status(401, { body: { error: "invalid api key" } }))
        const answer = yield* one(deposit("session-alice", 250), "1 minute")
        assert.strictEqual(answer.status, 502)
        assert.strictEqual(answer.body._tag, "SfoxUnavailable")
        assert.notInclude(JSON.stringify(answer.body), "api key")
        assert.strictEqual((yield* fake.requests).length, 1)
        assert.strictEqual((yield* deposits).length, 0)
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
        assert.deepStrictEqual((yield* fake.requests).map((r) => r.status), [429, 201, 201])
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

  describe("the deposit", () => {
    // Faults are used one per request, the mint included: `Fault.delay(0)`
    // answers it normally, and the faults listed here meet the deposit.
    const mintNormally = Fault.delay(0)
    const cases: ReadonlyArray<{
      readonly name: string
      readonly faults: ReadonlyArray<Fault>
      readonly status: number
      readonly tag: string
      /** How many times the deposit was sent. */
      readonly sent: number
    }> = [
      {
        name: "sFOX rejects the deposit (422) → 422 with sFOX's reason",
        faults: [Fault.status(422, { body: { error: "no linked bank account" } })],
        status: 422,
        tag: "DepositRejected",
        sent: 1
      },
      {
        name: "sFOX finds the deposit malformed (400) → 422",
        faults: [Fault.status(400, { body: { error: "amount must be a positive number" } })],
        status: 422,
        tag: "DepositRejected",
        sent: 1
      },
      {
        name: "sFOX refuses the user token, and a fresh one too (401, 401) → 502",
        faults: [Fault.status(401), mintNormally, Fault.status(401)],
        status: 502,
        tag: "SfoxUnavailable",
        sent: 2
      },
      {
        name: "sFOX forbids the call (403) → 502",
        faults: [Fault.status(403)],
        status: 502,
        tag: "SfoxUnavailable",
        sent: 1
      },
      {
        name: "sFOX rate limits the deposit (429, its 60 s lockout) → 503",
        faults: [Fault.status(429)],
        status: 503,
        tag: "SfoxBusy",
        sent: 1
      },
      { name: "sFOX fails (500) → 502", faults: [Fault.status(500)], status: 502, tag: "SfoxUnavailable", sent: 1 },
      {
        name: "a 201 that is not a deposit → 502",
        faults: [Fault.status(201, { body: {} })],
        status: 502,
        tag: "SfoxUnavailable",
        sent: 1
      },
      { name: "the connection drops → 502", faults: [Fault.reset()], status: 502, tag: "SfoxUnavailable", sent: 1 },
      { name: "no answer in 10 s → 504", faults: [Fault.noAnswer()], status: 504, tag: "SfoxTimeout", sent: 1 }
    ]
    for (const c of cases) {
      it.effect(c.name, () =>
        Effect.gen(function*() {
          yield* (yield* FakeSfox).enqueue([mintNormally, ...c.faults])
          const answer = yield* one(deposit("session-bob", 99), "1 minute")
          assert.strictEqual(answer.status, c.status)
          assert.strictEqual(answer.body._tag, c.tag)
          const sent = yield* deposits
          assert.strictEqual(sent.length, c.sent)
          for (const call of sent) assert.deepStrictEqual(call.userIds, [bob])
          // Whatever happened, no token reaches the client.
          for (const token of yield* (yield* Minted)) assert.notInclude(JSON.stringify(answer.body), token)
        }).pipe(Effect.provide(layer())))
    }

    it.effect("a 503 to the deposit is not sent again (sFOX may have made it) → 502", () =>
      Effect.gen(function*() {
        const fake = yield* FakeSfox
        yield* fake.enqueue([mintNormally, Fault.status(503, { headers: { "retry-after": "1" } })])
        // Long enough for every retry the default policy would make of a request that may be sent again.
        const answer = yield* one(deposit("session-bob", 99), "1 minute")
        assert.strictEqual(answer.status, 502)
        assert.strictEqual(answer.body._tag, "SfoxUnavailable")
        assert.deepStrictEqual((yield* deposits).map(line), [`POST ${depositPath} 503`])
      }).pipe(Effect.provide(layer())))

    it.effect("a 429 with a short Retry-After is waited out (on the clock), then the deposit goes through", () =>
      Effect.gen(function*() {
        const fake = yield* FakeSfox
        yield* fake.enqueue([mintNormally, Fault.status(429, { headers: { "retry-after": "2" } })])
        const answer = yield* one(deposit("session-bob", 99), "5 seconds")
        assert.strictEqual(answer.status, 201)
        assert.strictEqual(answer.body.amount, 99)
        const [refused, made] = yield* deposits
        assert.deepStrictEqual([refused, made].map((r) => line(r!)), [
          `POST ${depositPath} 429`,
          `POST ${depositPath} 201`
        ])
        assert.isAtLeast(made!.at - refused!.at, 2_000)
      }).pipe(Effect.provide(layer())))

    it.effect("sFOX's reason for a rejection reaches the client; the rate-limit wait too", () =>
      Effect.gen(function*() {
        yield* (yield* FakeSfox).enqueue([
          mintNormally,
          Fault.status(422, { body: { error: "amount exceeds the ACH deposit limit" } }),
          mintNormally,
          // Longer than the service's `maxRetryAfter` (30 s): not waited out, handed to the client.
          Fault.status(429, { headers: { "retry-after": "120" } })
        ])
        const rejected = yield* one(deposit("session-bob", 25_000))
        const busy = yield* one(deposit("session-bob", 99))
        assert.deepStrictEqual(rejected.body, {
          _tag: "DepositRejected",
          message: "amount exceeds the ACH deposit limit"
        })
        assert.strictEqual(busy.body.retryAfterSeconds, 120)
      }).pipe(Effect.provide(layer())))
  })
})
