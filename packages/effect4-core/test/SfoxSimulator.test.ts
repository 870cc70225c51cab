import { assert, describe, it } from "@effect/vitest"
import { SfoxSimulator } from "@sfox-effect/effect4-core/testing"
import { Effect } from "effect"

const key = "sim-key"
const post = (path: string, body = "", authorization = `Bearer ${key}`): SfoxSimulator.SimRequest => ({
  method: "POST",
  path,
  headers: { authorization, accept: "application/json", "content-type": "application/json" },
  body
})

describe("SfoxSimulator", () => {
  it.effect("reset starts afresh: requests, counts, minted, faults, and the rate limit's window and lockout", () =>
    Effect.gen(function*() {
      const sim = yield* SfoxSimulator.make({ apiKey: key, rateLimit: { limit: 2, interval: "10 seconds" } })
      yield* sim.enqueue({ _tag: "Status", status: 503 })
      yield* sim.reset
      // The queued fault is gone: the first answer is a normal 201.
      assert.strictEqual((yield* sim.handle(post("/v1/enterprise/user-tokens/a"))).status, 201)
      assert.strictEqual((yield* sim.handle(post("/v1/enterprise/user-tokens/b"))).status, 201)
      // Over the limit: 429, and locked out.
      assert.strictEqual((yield* sim.handle(post("/v1/enterprise/user-tokens/c"))).status, 429)
      assert.strictEqual((yield* sim.handle(post("/v1/enterprise/user-tokens/d"))).status, 429)
      assert.strictEqual(yield* sim.minted, 2)
      yield* sim.reset
      assert.deepStrictEqual(yield* sim.stats, { requests: 0, byStatus: {}, minted: 0 })
      assert.deepStrictEqual(yield* sim.requests, [])
      // The window and the lockout went with it.
      assert.strictEqual((yield* sim.handle(post("/v1/enterprise/user-tokens/e"))).status, 201)
    }))

  it.effect("the route table: unknown paths 404, other methods 405, refusals of form before the rate limit", () =>
    Effect.gen(function*() {
      const sim = yield* SfoxSimulator.make({
        apiKey: key,
        maxBatchSize: 2,
        rateLimit: { limit: 1, interval: "1 minute" }
      })
      const status = (request: SfoxSimulator.SimRequest) => Effect.map(sim.handle(request), (r) => r.status)
      assert.strictEqual(yield* status(post("/v1/enterprise/user-tokens/a/b")), 404)
      assert.strictEqual(yield* status(post("/v1/nothing")), 404)
      assert.strictEqual(yield* status({ ...post("/v1/enterprise/user-tokens/a"), method: "GET" }), 405)
      assert.strictEqual(yield* status(post("/v1/enterprise/user-tokens/%E0%A4%A")), 400)
      assert.strictEqual(yield* status(post("/v1/enterprise/user-tokens", "{")), 400)
      assert.strictEqual(
        yield* status(post("/v1/enterprise/user-tokens", JSON.stringify({ data: ["a", "b", "c"] }))),
        400
      )
      assert.strictEqual(yield* status(post("/v1/enterprise/user-tokens/a", "", "Bearer wrong")), 401)
      // None of those took the one turn of the rate limit.
      assert.strictEqual(yield* status(post("/v1/enterprise/user-tokens", JSON.stringify({ data: ["a", "b"] }))), 201)
      assert.strictEqual(yield* status(post("/v1/enterprise/user-tokens/a")), 429)
      const requests = yield* sim.requests
      assert.deepStrictEqual(requests[5]!.userIds, ["a", "b", "c"])
      assert.strictEqual(requests[6]!.authorization, "invalid")
    }))
})
