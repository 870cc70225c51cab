import { Printable, Scrub } from "@sfox-effect/domain"
import { assert, describe, it } from "vitest"

const KEY = "sfox-key-0123456789"
const TOKEN = "ab".repeat(32)

describe("Scrub", () => {
  it("blanks the secrets it knows, and what looks like one", () => {
    const scrubber = Scrub.make([KEY])
    const out = scrubber.scrub(`key ${KEY} token ${TOKEN} {"password":"hunter2"} Bearer abc`)
    for (const secret of [KEY, TOKEN, "hunter2", "abc"]) assert.notInclude(out, secret)
    assert.include(out, "<redacted>")
    assert.strictEqual(Scrub.none.scrub("plain  text\n"), "plain text")
  })

  it("caps the excerpt and escapes what would act on a terminal", () => {
    assert.isAtMost(Scrub.scrub("word ".repeat(10_000)).length, Scrub.maxExcerpt + 1)
    assert.strictEqual(Scrub.scrub("a\u001b[31mb"), "a\\u001b[31mb")
  })

  it("knows whether a value reveals a secret", () => {
    const scrubber = Scrub.make([KEY])
    assert.isTrue(scrubber.reveals(`x${KEY}y`))
    assert.isFalse(scrubber.reveals("req-123"))
    assert.deepStrictEqual(scrubber.secrets, [KEY])
  })
})

describe("Printable", () => {
  it("escapes controls, bidi overrides, separators and lone surrogates, and keeps letters", () => {
    assert.strictEqual(Printable.printable("a\u202eb\u2028c\ud800"), "a\\u202eb\\u2028c\\ud800")
    assert.strictEqual(Printable.printable("héllo wörld 日本"), "héllo wörld 日本")
    assert.strictEqual(Printable.printable("\u{1F600}"), "\u{1F600}")
  })
})
