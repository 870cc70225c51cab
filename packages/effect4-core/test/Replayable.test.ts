/**
 * `isReplayable`: the one rule for whether a request may be sent twice,
 * over every kind of body HttpBody can hold. Replayable means the same bytes
 * go out again; anything read as it is sent, or of a kind nothing tells, is not.
 */
import { assert, describe, it } from "@effect/vitest"
import { Stream } from "effect"
import * as HttpBody from "effect/http/HttpBody"
import * as UrlParams from "effect/http/UrlParams"
import { isReplayable } from "../src/internal/replayable.js"

const bytes = new TextEncoder().encode("{\"a\":1}")

const formOf = (...entries: ReadonlyArray<readonly [string, string | Blob]>) => {
  const form = new FormData()
  for (const [name, value] of entries) form.append(name, value)
  return form
}

const replayable: ReadonlyArray<readonly [string, HttpBody.HttpBody]> = [
  ["Empty", HttpBody.empty],
  ["Uint8Array", HttpBody.uint8Array(bytes)],
  ["Uint8Array (text)", HttpBody.text("hello")],
  ["Uint8Array (unsafeJson)", HttpBody.jsonUnsafe({ a: 1 })],
  ["Uint8Array (urlParams)", HttpBody.urlParams(UrlParams.fromInput({ a: "1" }))],
  ["Raw(string)", HttpBody.raw("hello")],
  ["Raw(empty string)", HttpBody.raw("")],
  ["Raw(undefined)", HttpBody.raw(undefined)],
  ["Raw(null)", HttpBody.raw(null)],
  ["Raw(Uint8Array)", HttpBody.raw(bytes)],
  ["Raw(Buffer-like view: DataView)", HttpBody.raw(new DataView(bytes.buffer))],
  ["Raw(ArrayBuffer)", HttpBody.raw(bytes.buffer)],
  ["Raw(Blob)", HttpBody.raw(new Blob(["hello"]))],
  ["Raw(File)", HttpBody.raw(new File(["hello"], "a.txt"))],
  ["Raw(FormData of strings)", HttpBody.raw(formOf(["a", "1"]))],
  ["FormData of strings", HttpBody.formData(formOf(["a", "1"], ["b", "2"]))],
  ["FormData with a Blob", HttpBody.formData(formOf(["a", "1"], ["f", new Blob(["x"])]))],
  ["FormData, empty", HttpBody.formData(new FormData())],
  ["FormData (formDataRecord)", HttpBody.formDataRecord({ a: "1", n: 2, b: true, f: new File(["x"], "x.txt") })]
]

async function* generate() {
  yield bytes
}

function* generateSync() {
  yield bytes
}

const readOnce: ReadonlyArray<readonly [string, HttpBody.HttpBody]> = [
  ["Stream", HttpBody.stream(Stream.make(bytes))],
  ["Stream (empty)", HttpBody.stream(Stream.empty)],
  ["Raw(async iterable)", HttpBody.raw(generate())],
  ["Raw(generator)", HttpBody.raw(generateSync())],
  [
    "Raw(ReadableStream)",
    HttpBody.raw(
      new ReadableStream<Uint8Array>({
        start(controller) {
          controller.close()
        }
      })
    )
  ],
  // A Node `Readable` as core sees it: an object with `pipe` and `on` (core uses no Node API).
  ["Raw(Readable-like)", HttpBody.raw({ pipe: () => {}, on: () => {}, [Symbol.asyncIterator]: generate })],
  ["Raw(array of chunks)", HttpBody.raw([bytes, bytes])],
  ["Raw(plain object)", HttpBody.raw({ a: 1 })],
  ["Raw(number)", HttpBody.raw(42)],
  // A stand-in form (an object, not a FormData) whatever it holds.
  ["Raw(FormData-like)", HttpBody.raw({ append: () => {}, forEach: () => {} })]
]

describe("isReplayable", () => {
  for (const [name, body] of replayable) {
    it(`${name}: may be sent again`, () => {
      assert.isTrue(isReplayable(body))
    })
  }
  for (const [name, body] of readOnce) {
    it(`${name}: sent once`, () => {
      assert.isFalse(isReplayable(body))
    })
  }

  it("a FormData holding an entry that is neither a string nor a Blob is sent once", () => {
    // The standard FormData makes every entry a string or a File; a stand-in may not.
    const form = { forEach: (f: (value: unknown, name: string) => void) => f({ pipe: () => {} }, "x") }
    const body = HttpBody.formData(form as unknown as FormData)
    assert.isFalse(isReplayable(body))
  })

  it("covers every tag of HttpBody", () => {
    const tags = new Set([...replayable, ...readOnce].map(([, body]) => body._tag))
    assert.deepStrictEqual([...tags].sort(), ["Empty", "FormData", "Raw", "Stream", "Uint8Array"])
  })
})
