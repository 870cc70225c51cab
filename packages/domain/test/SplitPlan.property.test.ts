/**
 * The refused-batch split plan, driven directly: a fake server refuses every
 * part holding a bad user (an answer that may be about one user) and, when
 * the run says so, fails a part as a whole (a 503); parts are answered in a
 * random order. The rules are checked on every run.
 */
import * as fc from "fast-check"
import * as assert from "node:assert/strict"
import { describe, it } from "vitest"
import { SplitPlan as P } from "../src/index.js"

interface Refusal {
  /** The bad users of the part refused, or `undefined` for a failure of the whole part. */
  readonly bad: ReadonlyArray<string> | undefined
}

const run = fc.record({
  size: fc.integer({ min: 2, max: 40 }),
  bad: fc.uniqueArray(fc.nat(39), { maxLength: 6 }),
  // Which requests fail as a whole, by the order they are answered.
  whole: fc.array(fc.boolean(), { maxLength: 30 }),
  wholeFailures: fc.boolean(),
  order: fc.array(fc.nat(), { maxLength: 80 })
})

type Run = typeof run extends fc.Arbitrary<infer R> ? R : never

const play = (r: Run) => {
  const ids = Array.from({ length: r.size }, (_, i) => `u${i}`)
  const bad = new Set(r.bad.filter((i) => i < r.size).map((i) => `u${i}`))
  const refusal: Refusal = { bad: ids.filter((id) => bad.has(id)) }
  const first = P.start<Refusal>(ids, refusal, true)
  const state = first.state
  const queue: Array<ReadonlyArray<string>> = []
  const minted = new Set<string>()
  let requests = 0
  const take = (commands: ReadonlyArray<P.Command>, parent: ReadonlyArray<string>) => {
    const mints = commands.flatMap((c) => c._tag === "Mint" ? [c.ids] : [])
    const splits = commands.filter((c) => c._tag === "Split")
    // A refused part is halved into two contiguous parts that cover it, or not split at all.
    if (mints.length === 0) return assert.strictEqual(splits.length, 0)
    assert.deepStrictEqual(splits, [{ _tag: "Split", size: parent.length }])
    assert.deepStrictEqual([...mints[0]!, ...mints[1]!], parent)
    assert.ok(mints[0]!.length >= mints[1]!.length && mints[1]!.length > 0)
    requests += 2
    for (const part of mints) queue.push(part)
  }
  take(first.commands, ids)
  for (let i = 0; queue.length > 0; i++) {
    assert.strictEqual(P.isDone(state), false)
    const part = queue.splice((r.order[i] ?? 0) % queue.length, 1)[0]!
    const badHere = part.filter((id) => bad.has(id))
    const whole = r.wholeFailures && (r.whole[i] ?? false)
    const event: P.Event<Refusal> = whole
      ? { _tag: "Refused", ids: part, error: { bad: undefined }, aboutOneUser: false }
      : badHere.length > 0
      ? { _tag: "Refused", ids: part, error: { bad: badHere }, aboutOneUser: true }
      : { _tag: "Minted", ids: part }
    if (event._tag === "Minted") { for (const id of part) minted.add(id) }
    take(P.step(state, event).commands, part)
    // A failure about the whole request met by a part is the outcome of every user of that part.
    if (whole) {
      for (const id of part) {
        assert.deepStrictEqual(state.outcomes.get(id), { _tag: "Failed", error: { bad: undefined } })
      }
    }
  }
  return { ids, bad, state, minted, requests }
}

describe("SplitPlan", () => {
  it("every refused batch ends with one outcome per user, within the budget, each failure about its own part", () => {
    fc.assert(
      fc.property(run, (r) => {
        const { bad, ids, minted, requests, state } = play(r)
        assert.ok(P.isDone(state))
        assert.strictEqual(state.spent, requests)
        assert.ok(requests <= P.splitBudget(ids.length))
        assert.deepStrictEqual(Array.from(state.outcomes.keys()).sort(), [...ids].sort())
        for (const [id, outcome] of state.outcomes) {
          // Minted exactly when the part carrying it was answered.
          assert.strictEqual(outcome._tag === "Minted", minted.has(id))
          if (outcome._tag === "Minted" || outcome.error.bad === undefined) continue
          // A refusal that may be about one user is a user's own only once it is alone; else the split stopped.
          if (outcome._tag === "Failed") assert.deepStrictEqual(outcome.error.bad, [id])
          else assert.ok(outcome.error.bad.length > 0 && outcome.spent + 2 > state.budget)
        }
        for (const id of bad) assert.notStrictEqual(state.outcomes.get(id)!._tag, "Minted")
        // Up to two bad users (and no part failing as a whole): every good user minted, each bad one refused alone.
        if (!r.wholeFailures && bad.size <= 2) {
          for (const id of ids) {
            const outcome = state.outcomes.get(id)!
            if (!bad.has(id)) assert.strictEqual(outcome._tag, "Minted", id)
            else assert.deepStrictEqual(outcome, { _tag: "Failed", error: { bad: [id] } })
          }
        }
      }),
      { numRuns: 10_000 }
    )
  })

  it("a call that wants every user: all minted, a whole failure as it is, or the refused users in the batch's order", () => {
    fc.assert(
      fc.property(run, (r) => {
        const { ids, state } = play(r)
        const verdict = P.verdict(ids, state.outcomes, (error) => error.bad !== undefined)
        const outcomes = ids.map((id) => state.outcomes.get(id)!)
        const errors = outcomes.flatMap((o) => o._tag === "Minted" ? [] : [o.error])
        const firstWhole = errors.find((error) => error.bad === undefined)
        const refused = ids.filter((id) => state.outcomes.get(id)!._tag !== "Minted")
        if (outcomes.every((o) => o._tag === "Minted")) assert.deepStrictEqual(verdict, { _tag: "AllMinted" })
        else if (verdict._tag === "Whole") assert.ok(firstWhole !== undefined && verdict.error === firstWhole)
        else {
          assert.strictEqual(firstWhole, undefined)
          assert.deepStrictEqual(verdict, {
            _tag: "Refused",
            userIds: refused,
            first: (state.outcomes.get(refused[0]!) as { readonly error: Refusal }).error
          })
        }
      }),
      { numRuns: 10_000 }
    )
  })

  it("what may be about one user: a 4xx not about the key, the pace, the time or the form", () => {
    const about = [400, 404, 409, 413, 422].map(P.mayBeAboutOneUser)
    const notAbout = [200, 401, 403, 405, 406, 408, 415, 429, 500, 503].map(P.mayBeAboutOneUser)
    assert.deepStrictEqual([about.every(Boolean), notAbout.some(Boolean)], [true, false])
    assert.deepStrictEqual([P.splitBudget(1), P.splitBudget(2), P.splitBudget(100)], [4, 4, 28])
  })
})

describe("SplitPlan's descriptions", () => {
  it("an unsplit user's names nobody; a refused call's names the first five, printable, and counts the rest", () => {
    assert.equal(
      P.unsplitDescription(12),
      "refused in a batch with other users; the split that tells them apart stopped after 12 extra requests"
    )
    assert.equal(
      P.refusedDescription(["a", "b"], 10, "user not found"),
      "sFOX refused 2 of 10 users (\"a\", \"b\"): user not found"
    )
    const ids = ["u1", "u2", "u3", "u4", "u5", "u6", "u\u202e7"]
    assert.equal(
      P.refusedDescription(ids, 100, "no"),
      "sFOX refused 7 of 100 users (\"u1\", \"u2\", \"u3\", \"u4\", \"u5\" and 2 more): no"
    )
    assert.equal(P.refusedDescription(["x\u202ey"], 2, "no"), "sFOX refused 1 of 2 users (\"x\\u202ey\"): no")
  })
})
