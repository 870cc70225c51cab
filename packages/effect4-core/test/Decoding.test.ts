import { assert, describe, it } from "@effect/vitest"
import { Scrub } from "@sfox-effect/domain"
import { SingleTokenResponse } from "@sfox-effect/effect4-core"
import { DateTime, Redacted, Result, Schema } from "effect"
import * as fc from "fast-check"
import { decodeBatchAnswer, decodeSingleAnswer } from "../src/internal/classify.js"

const decodeBySchema = Schema.decodeUnknownResult(SingleTokenResponse)

const isoDate = fc.date({ min: new Date(0), max: new Date("2100-01-01"), noInvalidDate: true }).map((d) =>
  d.toISOString()
)
const field = fc.oneof(
  fc.string(),
  fc.constant(""),
  isoDate,
  isoDate.map((s) => s.replace(/\.\d{3}Z$/, "Z")),
  isoDate.map((s) => s.replace(/Z$/, "")),
  fc.integer(),
  fc.constant(null),
  fc.constant(undefined)
)
const wireLike = fc.record(
  { token: field, partner_user_id: field, expires: field },
  { requiredKeys: [] }
)

const answer = (data: unknown) => ({
  status: 201,
  headers: {},
  body: JSON.stringify({ data }),
  receivedAt: 0
})

describe("fast decoding agrees with the wire schema", () => {
  // fast-check's own runner: @effect/vitest 4's `it.prop` takes Effect's arbitraries, not fast-check's.
  it("single answers: accepted exactly when the schema accepts, with equal tokens", () =>
    fc.assert(fc.property(wireLike, (wire) => {
      const json = JSON.parse(JSON.stringify({ data: wire }))
      const bySchema = decodeBySchema(json)
      const userId = typeof wire.partner_user_id === "string" ? wire.partner_user_id : "x"
      const fast = decodeSingleAnswer(answer(wire), userId, Scrub.none)
      assert.strictEqual(Result.isSuccess(fast), Result.isSuccess(bySchema))
      if (Result.isSuccess(fast) && Result.isSuccess(bySchema)) {
        const [a, b] = [fast.success, bySchema.success.data]
        assert.strictEqual(Redacted.value(a.token), Redacted.value(b.token))
        assert.strictEqual(a.userId, b.userId)
        assert.isTrue(DateTime.Equivalence(a.expires, b.expires))
      }
    })))

  it("batch answers: one bad entry fails the whole answer", () =>
    fc.assert(fc.property(fc.array(wireLike, { minLength: 1, maxLength: 5 }), (wires) => {
      const ids = wires.map((w, i) => typeof w.partner_user_id === "string" ? w.partner_user_id : `x${i}`)
      const allValid = wires.every((w) => Result.isSuccess(decodeBySchema(JSON.parse(JSON.stringify({ data: w })))))
      const distinct = new Set(ids).size === ids.length
      const result = decodeBatchAnswer(answer(wires), ids, Scrub.none)
      assert.strictEqual(Result.isSuccess(result), allValid && distinct)
    })))
})
