import { UserId } from "@sfox-effect/domain"
import * as fc from "fast-check"
import { assert, describe, it } from "vitest"

/** The checks as they stand without the unreserved-ASCII shortcut: the reference the shortcut must agree with. */
// eslint-disable-next-line no-control-regex
const forbidden = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/
const invisible = /^[\p{White_Space}\p{Cf}\p{Default_Ignorable_Code_Point}]*$/u
const referenceAccepts = (input: string): boolean =>
  input.length > 0 && input.length <= UserId.maxLength && input.trim() === input && !forbidden.test(input) &&
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

/** Drains a reader: the ids, or the refusal. */
const readAll = (input: unknown, maxIds = 10_000): Array<string> | UserId.Invalid => {
  const reader = UserId.readList(input, maxIds)
  if (!("next" in reader)) return reader
  for (;;) {
    const outcome = reader.next()
    if (outcome === "done") return reader.ids
    if (outcome !== "more") return outcome
  }
}

describe("UserId", () => {
  it("accepts exactly what the full checks accept; encoded, ids come back unchanged", () => {
    fc.assert(
      fc.property(id, (input) => {
        const encoded = UserId.encode(input)
        assert.strictEqual(encoded !== undefined, referenceAccepts(input), JSON.stringify(input))
        assert.strictEqual(UserId.check(input) === undefined, referenceAccepts(input))
        assert.strictEqual(UserId.problemOf(input) === undefined, referenceAccepts(input))
        if (encoded !== undefined) {
          assert.strictEqual(encoded, encodeURIComponent(input))
          assert.strictEqual(decodeURIComponent(encoded), input)
        }
        assert.deepStrictEqual(UserId.encodeOrInvalid(input, 7), encoded ?? UserId.check(input, 7))
      }),
      { numRuns: 3_000 }
    )
  })

  it("previews a refused id without showing more than a few characters of it", () => {
    assert.strictEqual(UserId.preview("a\u202eb"), "\"a\\u202eb\"")
    assert.strictEqual(UserId.preview(null), "null")
    assert.strictEqual(UserId.preview([1]), "an array")
    assert.strictEqual(UserId.preview(7), "a number")
    const secret = "sk_live_0123456789abcdef"
    assert.match(UserId.preview(secret), /^\(24 characters, fingerprint [0-9a-f]{8}\)$/)
    assert.notInclude(UserId.preview(secret), "sk_live")
    assert.deepStrictEqual(UserId.check("", 3), { preview: "\"\"", description: "must not be empty", index: 3 })
  })

  it("reads a list: checked, first occurrence kept, bounded, across slices", () => {
    const many = Array.from({ length: UserId.sliceSize * 2 + 5 }, (_, i) => `u${i % (UserId.sliceSize + 1)}`)
    const ids = readAll(many)
    assert.isTrue(Array.isArray(ids))
    assert.strictEqual((ids as Array<string>).length, UserId.sliceSize + 1)
    assert.deepStrictEqual(readAll(["a", "b", "a"]), ["a", "b"])
    assert.deepStrictEqual(readAll(["a", "b", "c"], 2), {
      preview: "\"c\"",
      description: "createMany takes at most 2 ids per call (maxIdsPerCall): split the input",
      index: 2
    })
    assert.strictEqual((readAll(["a", " b"]) as UserId.Invalid).index, 1)
  })

  it("refuses what is not an iterable of ids, and closes an iterator it leaves", () => {
    assert.strictEqual((readAll("u1") as UserId.Invalid).preview, "\"u1\"")
    assert.strictEqual((readAll({ a: 1 }) as UserId.Invalid).preview, "an object")
    const throwing = {
      [Symbol.iterator]: () => {
        throw new Error("secret")
      }
    }
    assert.deepStrictEqual(readAll(throwing), {
      preview: "an iterable",
      description: "reading the ids failed: the iterable threw"
    })
    let closed = false
    function* ids() {
      try {
        yield "a"
        yield ""
        yield "never"
      } finally {
        closed = true
      }
    }
    assert.strictEqual((readAll(ids()) as UserId.Invalid).description, "must not be empty")
    assert.isTrue(closed)
  })
})
