import { Simulation, SimulationDelivery, SimulationFaults, SimulationRoutes, Wire } from "@sfox-effect/domain"
import * as fc from "fast-check"
import { assert, describe, it } from "vitest"

// Durations as the test's own type (seconds), to see that every one goes through `millisOf`.
type Seconds = { readonly seconds: number }
type Fault = SimulationFaults.Fault<Seconds>
const read: Simulation.Reader<Seconds, string> = { millisOf: (d) => d.seconds * 1000, keyOf: (key) => key.trim() }

const request = (over: Partial<SimulationRoutes.Request> = {}): SimulationRoutes.Request => ({
  method: "POST",
  path: `${Wire.tokensPath}/u1`,
  headers: { authorization: `Bearer ${Simulation.defaultKey}`, "x-trace": "t" },
  body: "",
  ...over
})

describe("Simulation", () => {
  it("answers, counts and records a request; the recording keeps no Authorization header", () => {
    const sim = Simulation.make<Fault, Seconds, string>({}, read)
    const handled = sim.handle(request(), 5)
    assert.strictEqual(handled.response.status, 201)
    assert.strictEqual(handled.delayMillis, 0)
    assert.isUndefined(handled.fault)
    assert.deepStrictEqual(sim.requests(), [{
      method: "POST",
      path: `${Wire.tokensPath}/u1`,
      userIds: ["u1"],
      authorization: "valid",
      headers: { "x-trace": "t" },
      body: "",
      status: 201,
      at: 5,
      fault: undefined
    }])
    assert.deepStrictEqual(sim.stats(), { requests: 1, byStatus: { 201: 1 }, minted: 1 })
    assert.strictEqual(sim.minted(), 1)
  })

  it("reads its options through the shell's reader, with the documented defaults", () => {
    const sim = Simulation.make<Fault, Seconds, string>({
      apiKey: " k ",
      latency: { seconds: 2 },
      rateLimit: { limit: 1, interval: { seconds: 1 } },
      tokenLifetime: { seconds: 60 },
      users: ["u1"],
      record: false
    }, read)
    assert.strictEqual(sim.key, "k")
    const ok = sim.handle(request({ headers: { authorization: "Bearer k" } }), 0)
    assert.strictEqual(ok.delayMillis, 2_000)
    const expires = (JSON.parse(ok.response.body) as { data: Wire.WireToken }).data.expires
    assert.strictEqual(Date.parse(expires), 60_000)
    assert.strictEqual(sim.handle(request({ headers: { authorization: "Bearer k" } }), 500).response.status, 429)
    // Locked out for sFOX's documented 60 s, then admitted again.
    assert.strictEqual(sim.handle(request({ headers: { authorization: "Bearer k" } }), 59_000).response.status, 429)
    assert.strictEqual(sim.handle(request({ headers: { authorization: "Bearer k" } }), 61_000).response.status, 201)
    assert.strictEqual(
      sim.handle(request({ path: `${Wire.tokensPath}/u2`, headers: { authorization: "Bearer k" } }), 62_000).response
        .status,
      404
    )
    sim.addUsers(["u2"])
    assert.strictEqual(
      sim.handle(request({ path: `${Wire.tokensPath}/u2`, headers: { authorization: "Bearer k" } }), 200_000).response
        .status,
      201
    )
    assert.deepStrictEqual(sim.requests(), [], "not recorded")
    assert.strictEqual(sim.stats().requests, 6)
    sim.setLatency({ seconds: 0 })
    assert.strictEqual(sim.handle(request({ headers: { authorization: "Bearer k" } }), 300_000).delayMillis, 0)
  })

  it("a jittered latency stays within latency + jitter", () => {
    const sim = Simulation.make<Fault, Seconds, string>(
      { latency: { seconds: 1 }, latencyJitter: { seconds: 1 } },
      read
    )
    for (let i = 0; i < 50; i++) {
      const delay = sim.handle(request(), i * 10).delayMillis
      assert.isAtLeast(delay, 1_000)
      assert.isAtMost(delay, 2_000)
    }
  })

  it("uses one queued fault per request, records it and the status it decided; reset forgets everything", () => {
    const sim = Simulation.make<Fault, Seconds, string>({}, read)
    const delayed: Fault = { _tag: "Delay", duration: { seconds: 3 }, then: { _tag: "Status", status: 503 } }
    sim.enqueue([delayed, { _tag: "Batch", mode: "drop" }])
    sim.enqueue({ _tag: "ResetBeforeHeaders" })
    const first = sim.handle(request(), 0)
    assert.strictEqual(first.fault, delayed)
    const batch = sim.handle(request({ path: Wire.tokensPath, body: JSON.stringify({ data: ["a", "b"] }) }), 0)
    assert.strictEqual((JSON.parse(batch.response.body) as { data: Array<unknown> }).data.length, 1, "tampered")
    assert.strictEqual(sim.handle(request(), 0).fault?._tag, "ResetBeforeHeaders")
    assert.isUndefined(sim.handle(request(), 0).fault)
    assert.deepStrictEqual(sim.requests().map((r) => [r.status, r.fault]), [
      [503, "Delay"],
      [201, "Batch"],
      [201, "ResetBeforeHeaders"],
      [201, undefined]
    ])
    // A fault replaces the answer sent, not what the simulation did: all five tokens were minted.
    assert.strictEqual(sim.revoke(undefined, 0), 5)
    sim.enqueue({ _tag: "NoAnswer" })
    sim.reset()
    assert.deepStrictEqual(sim.stats(), { requests: 0, byStatus: {}, minted: 0 })
    assert.deepStrictEqual(sim.requests(), [])
    assert.isUndefined(sim.handle(request(), 0).fault)
  })
})

describe("SimulationFaults", () => {
  const normal = SimulationRoutes.json(201, { data: { token: "t" } })

  it("a delay's waits come first, outermost first; the fault under them decides the answer", () => {
    const fault: Fault = {
      _tag: "Delay",
      duration: { seconds: 1 },
      then: { _tag: "Delay", duration: { seconds: 2 }, then: { _tag: "Malformed", body: "oops" } }
    }
    const acted = SimulationFaults.actOut(fault, normal, read.millisOf)
    assert.deepStrictEqual(acted.waits, [{ seconds: 1 }, { seconds: 2 }])
    assert.deepStrictEqual(acted.response, SimulationRoutes.json(201, "oops"))
    assert.strictEqual(SimulationFaults.statusOf(SimulationFaults.deciding(fault), 201), 201)
    assert.deepStrictEqual(
      SimulationFaults.actOut({ _tag: "Delay", duration: { seconds: 1 } }, normal, read.millisOf),
      {
        waits: [{ seconds: 1 }],
        response: normal
      }
    )
  })

  it("each fault's answer", () => {
    const act = (fault: Fault) => SimulationFaults.actOut(fault, normal, read.millisOf).response
    assert.deepStrictEqual(act({ _tag: "Status", status: 503 }), SimulationRoutes.json(503, { error: "scripted 503" }))
    assert.deepStrictEqual(
      act({ _tag: "Status", status: 429, body: "x", headers: { "retry-after": "1" } }),
      SimulationRoutes.json(429, "x", { "retry-after": "1" })
    )
    assert.strictEqual(act({ _tag: "Batch", mode: "add" }), normal)
    assert.isAtLeast(act({ _tag: "Oversize", bytes: 1000 }).body.length, 1000)
    assert.doesNotThrow(() => JSON.parse(act({ _tag: "Oversize", bytes: 10 }).body))
    assert.deepStrictEqual(act({ _tag: "Trickle", interval: { seconds: 0.5 } }).delivery, {
      _tag: "Trickle",
      intervalMillis: 500,
      chunkSize: 16
    })
    assert.deepStrictEqual(act({ _tag: "Trickle", interval: { seconds: 1 }, chunkSize: 0 }).delivery, {
      _tag: "Trickle",
      intervalMillis: 1000,
      chunkSize: 1
    })
    for (const tag of ["ResetBeforeHeaders", "ResetAfterHeaders", "NoAnswer", "ShortBody"] as const) {
      assert.deepStrictEqual(act({ _tag: tag }), { ...normal, delivery: { _tag: tag } })
    }
    assert.strictEqual(SimulationFaults.statusOf({ _tag: "Malformed", body: "" }, 200), 201)
    assert.strictEqual(SimulationFaults.statusOf(undefined, 200), 200)
    assert.strictEqual(SimulationFaults.tamperOf({ _tag: "Batch", mode: "reorder" }), "reorder")
  })

  it("the queue hands faults out in the order they were enqueued", () => {
    fc.assert(fc.property(fc.array(fc.array(fc.nat(), { maxLength: 3 }), { maxLength: 5 }), (groups) => {
      const queue = SimulationFaults.queue<number>()
      for (const group of groups) queue.enqueue(group.length === 1 ? group[0]! : group)
      const out: Array<number> = []
      for (let next = queue.next(); next !== undefined; next = queue.next()) out.push(next)
      assert.deepStrictEqual(out, groups.flat())
    }))
  })
})

describe("SimulationDelivery", () => {
  it("imitates undici's and Node's errors, with their codes", () => {
    const error = SimulationDelivery.errorOf(SimulationDelivery.imitated.ResetBeforeHeaders)
    assert.strictEqual(error.message, "socket hang up")
    assert.strictEqual((error as Error & { code: string }).code, "ECONNRESET")
  })

  it("a trickled body takes an interval per chunk; 204 and 304 carry no body", () => {
    assert.strictEqual(
      SimulationDelivery.trickleMillis("é".repeat(8), { _tag: "Trickle", intervalMillis: 10, chunkSize: 5 }),
      40
    )
    assert.isFalse(SimulationDelivery.hasBody(204))
    assert.isFalse(SimulationDelivery.hasBody(304))
    assert.isTrue(SimulationDelivery.hasBody(200))
  })

  it("a cut body fails with the imitated error of its fault", async () => {
    const failure = (tag: "ResetAfterHeaders" | "ShortBody") =>
      SimulationDelivery.cutBody("abcdef", tag).getReader().read().then(() => undefined, (error: unknown) => error)
    assert.strictEqual(((await failure("ResetAfterHeaders")) as { code?: string }).code, "UND_ERR_SOCKET")
    assert.strictEqual(
      ((await failure("ShortBody")) as { code?: string }).code,
      "UND_ERR_RES_CONTENT_LENGTH_MISMATCH"
    )
  })
})
