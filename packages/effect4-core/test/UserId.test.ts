import { assert, describe, it } from "@effect/vitest"
import { Result } from "effect"
import * as fc from "fast-check"
import { checkUserId, encodeUserId, maxUserIdLength } from "../src/internal/userId.js"

/** The checks as they stand without the unreserved-ASCII shortcut: the reference the shortcut must agree with. */
// eslint-disable-next-line no-control-regex
const forbidden = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/
const invisible = /^[\p{White_Space}\p{Cf}\p{Default_Ignorable_Code_Point}]*$/u
const referenceAccepts = (input: string): boolean =>
  input.length > 0 && input.length <= maxUserIdLength && input.trim() === input && !forbidden.test(input) &&
  !invisible.test(input) && input !== "." && input !== ".." && input.isWellFormed()

const unreserved = fc.constantFrom(..."abcXYZ019-._~".split(""))
const other = fc.constantFrom(" ", "/", "%", "?", "#", "\u0000", "\n", "\u200b", "é", "\ud800", "+", "=")
const id = fc.oneof(
  fc.array(unreserved, { maxLength: 300 }).map((cs) => cs.join("")),
  fc.array(fc.oneof({ weight: 9, arbitrary: unreserved }, { weight: 1, arbitrary: other }), { maxLength: 12 })
    .map((cs) => cs.join("")),
  fc.constantFrom(".", "..", "...", "", "a".repeat(256), "a".repeat(257)),
  fc.string({ maxLength: 20 })
)

describe("user ids", () => {
  // fast-check's own runner: @effect/vitest 4's `it.prop` takes Effect's arbitraries, not fast-check's.
  it("accepted exactly when the full checks accept; encoded, they come back unchanged", () => {
    fc.assert(
      fc.property(id, (input) => {
        const encoded = encodeUserId(input)
        assert.strictEqual(Result.isSuccess(encoded), referenceAccepts(input), JSON.stringify(input))
        assert.strictEqual(checkUserId(input) === undefined, referenceAccepts(input))
        if (Result.isSuccess(encoded)) {
          assert.strictEqual(encoded.success, encodeURIComponent(input))
          assert.strictEqual(decodeURIComponent(encoded.success), input)
        }
      }),
      { numRuns: 3_000 }
    )
  })
})
