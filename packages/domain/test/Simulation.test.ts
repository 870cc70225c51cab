import { RedisScript, SimulationAdmission, SimulationLiveTokens, SimulationRoutes, Wire } from "@sfox-effect/domain"
import { assert, describe, it } from "vitest"

const KEY = "sim-key"

const setup = (rateLimit?: SimulationAdmission.RateLimit) => {
  const admission = SimulationAdmission.make(KEY, rateLimit)
  const live = SimulationLiveTokens.make(true)
  let minted = 0
  const context = (now: number): SimulationRoutes.RouteContext => ({
    now,
    users: undefined,
    maxBatchSize: 3,
    lifetimeMillis: 60_000,
    shuffle: false,
    tamper: undefined,
    nextId: () => 1,
    issue: (tokens, expiresAt) => {
      minted += tokens.length
      for (const token of tokens) live.issue(token.token, token.partner_user_id, expiresAt)
    }
  })
  const send = (request: Partial<SimulationRoutes.Request>, now = 0) =>
    SimulationRoutes.answer(
      { method: "POST", path: Wire.tokensPath, headers: { authorization: `Bearer ${KEY}` }, body: "", ...request },
      context(now),
      admission,
      live
    )
  return { send, live, minted: () => minted }
}

describe("SimulationRoutes", () => {
  it("mints one token, then a batch, in the seeds' shapes", () => {
    const { minted, send } = setup()
    const one = send({ path: `${Wire.tokensPath}/u%201` })
    assert.strictEqual(one.response.status, 201)
    assert.deepStrictEqual(one.userIds, ["u 1"])
    const batch = send({ body: JSON.stringify({ data: ["a", "b"] }) })
    const data = (JSON.parse(batch.response.body) as { data: Array<Wire.WireToken> }).data
    assert.deepStrictEqual(data.map((t) => t.partner_user_id), ["a", "b"])
    assert.match(data[0]!.expires, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/)
    assert.strictEqual(minted(), 3)
  })

  it("refuses in sFOX's order: route, method, key, body, rate limit", () => {
    const { send } = setup({ max: 1, windowMillis: 1_000, lockoutMillis: 60_000 })
    assert.strictEqual(send({ path: "/nowhere" }).response.status, 404)
    assert.strictEqual(send({ method: "GET" }).response.status, 405)
    assert.strictEqual(send({ headers: { authorization: "Bearer other" } }).response.status, 401)
    assert.strictEqual(send({ body: "not json" }).response.status, 400)
    assert.strictEqual(send({ body: JSON.stringify({ data: ["a", "b", "c", "d"] }) }).response.status, 400)
    assert.strictEqual(send({ path: `${Wire.tokensPath}/u1` }).response.status, 201)
    assert.strictEqual(send({ path: `${Wire.tokensPath}/u1` }, 500).response.status, 429)
    assert.strictEqual(send({ path: `${Wire.tokensPath}/u1` }, 2_000).response.status, 429)
    assert.strictEqual(send({ path: `${Wire.tokensPath}/u1` }, 60_500).response.status, 201)
  })

  it("serves the user endpoints to a live user token only", () => {
    const { live, send } = setup()
    const token = (JSON.parse(send({ path: `${Wire.tokensPath}/u1` }).response.body) as { data: Wire.WireToken }).data
    const balance = (authorization: string, now = 0) =>
      send({ method: "GET", path: "/v1/user/balance", headers: { authorization } }, now)
    assert.strictEqual(balance(`Bearer ${token.token}`).response.status, 200)
    assert.deepStrictEqual(balance(`Bearer ${token.token}`).userIds, ["u1"])
    assert.strictEqual(balance(`Bearer ${KEY}`).response.status, 401)
    assert.strictEqual(balance(`Bearer ${token.token}`, 60_000).response.status, 401)
    assert.strictEqual(live.revoke(undefined, 0), 0)
  })
})

describe("RedisScript", () => {
  it("encodes the arguments, a test clock only when given, and reads the reply", () => {
    assert.deepStrictEqual(RedisScript.acquireArgs(5, 1_000, 200, "m"), [5, 1_000, 200, "m"])
    assert.deepStrictEqual(RedisScript.acquireArgs(5, 1_000, 200, "m", 7), [5, 1_000, 200, "m", 7])
    assert.deepStrictEqual(RedisScript.releaseArgs("m", 1_000), ["m", 1_000])
    assert.deepStrictEqual(RedisScript.releaseArgs("m", 1_000, 7), ["m", 1_000, 7])
    assert.strictEqual(RedisScript.readAcquire([1, 0]), 0)
    assert.strictEqual(RedisScript.readAcquire([0, 250]), 250)
    assert.strictEqual(RedisScript.readAcquire([0, 0]), 1)
    assert.include(RedisScript.acquireLua, "ZREMRANGEBYSCORE")
  })
})
