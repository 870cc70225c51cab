import { AnswerBody, TransportCode } from "@sfox-effect/domain"
import * as fc from "fast-check"
import { assert, describe, it } from "vitest"

const encoder = new TextEncoder()
const decoder = new TextDecoder()

// `bytes` in chunks cut at `cuts`, read as a shell reads them: chunk after
// chunk until past `maxBytes`.
const read = (bytes: Uint8Array, cuts: ReadonlyArray<number>, maxBytes: number) => {
  const at = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b)
  const chunks: Array<Uint8Array> = []
  let size = 0
  let from = 0
  for (const to of [...at, bytes.length]) {
    if (size > maxBytes) break
    if (to <= from) continue
    chunks.push(bytes.subarray(from, to))
    size += to - from
    from = to
  }
  return { chunks, size }
}

describe("AnswerBody", () => {
  it("a 2xx body's bound grows with the users asked for, from 1 MiB; an error body's is 64 KiB", () => {
    assert.strictEqual(AnswerBody.bodyLimit(201, 1), 1024 * 1024)
    assert.strictEqual(AnswerBody.bodyLimit(200, 1000), 64 * 1024 + 4 * 1024 * 1000)
    assert.strictEqual(AnswerBody.bodyLimit(503, 1000), AnswerBody.maxErrorBodyBytes)
    assert.strictEqual(AnswerBody.bodyLimit(302, 1), AnswerBody.maxErrorBodyBytes)
  })

  it("trusts a declared length only when it is a plain number within the bound", () => {
    assert.isTrue(AnswerBody.declaredWithin("10", 10))
    assert.isFalse(AnswerBody.declaredWithin("11", 10))
    assert.isFalse(AnswerBody.declaredWithin(undefined, 10))
    assert.isFalse(AnswerBody.declaredWithin("1e3", 10_000))
    assert.isFalse(AnswerBody.declaredWithin("-1", 10))
    assert.isFalse(AnswerBody.declaredWithin("1".repeat(16), Number.MAX_SAFE_INTEGER))
  })

  it("within the bound: the whole text, however it was cut in chunks", () => {
    fc.assert(fc.property(fc.string(), fc.array(fc.nat()), fc.integer({ min: 100, max: 599 }), (text, cuts, status) => {
      const bytes = encoder.encode(text)
      const { chunks, size } = read(bytes, cuts, bytes.length)
      assert.strictEqual(AnswerBody.textOf(status, chunks, size, bytes.length), text)
    }))
  })

  it("past the bound: an error answer is cut at it, a 2xx refused with a TooLarge cause", () => {
    fc.assert(fc.property(
      fc.string({ minLength: 1 }),
      fc.array(fc.nat()),
      fc.nat(),
      fc.boolean(),
      (text, cuts, bound, success) => {
        const bytes = encoder.encode(text)
        const maxBytes = bound % bytes.length
        const { chunks, size } = read(bytes, cuts, maxBytes)
        const status = success ? 200 : 500
        const out = AnswerBody.textOf(status, chunks, size, maxBytes)
        if (success) {
          assert.instanceOf(out, AnswerBody.AnswerTooLarge)
          const error = out as AnswerBody.AnswerTooLarge
          assert.strictEqual(error.limit, maxBytes)
          assert.strictEqual(TransportCode.reasonOf(TransportCode.codeOf(error)), "TooLarge")
          assert.strictEqual(error.message, `answer body over ${maxBytes} bytes`)
        } else {
          assert.strictEqual(out, decoder.decode(bytes.subarray(0, maxBytes)))
        }
      }
    ))
  })
})
