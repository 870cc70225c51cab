/**
 * sFOX's text in errors is terminal-safe (issue 20): whatever a hostile or
 * broken server writes (terminal escapes, BEL, bidi overrides, C1 controls,
 * NUL, lone surrogates, a gzip body nobody asked for), an error's
 * description and message hold none of it raw, only `\uXXXX` escapes.
 */
import { assert, describe, it } from "@effect/vitest"
import { printable, type UserTokenError, UserTokenService } from "@sfox-effect/effect4-core"
import { FakeSfox, Fault } from "@sfox-effect/effect4-core/testing"
import { Effect, Schedule } from "effect"
import { gzipSync } from "node:zlib"

const noRetry = { retry: Schedule.recurs(0) }

// Everything that prints nothing or acts on the terminal that prints it.
const unsafe = /[\p{C}\p{Zl}\p{Zp}]/u

const hostile = "gone\u001b[2J\u001b]0;owned\u0007 \u202efdp.exe\u2066a\u2067b\u2068c\u2069 \u009b31m\u0000 \ud800 end"

const failWith = (faults: ReadonlyArray<Fault>) =>
  Effect.gen(function*() {
    const fake = yield* FakeSfox
    yield* fake.enqueue(faults)
    return yield* Effect.flip((yield* UserTokenService).create("u1"))
  }).pipe(Effect.provide(FakeSfox.layerTest({}, noRetry)))

const assertSafe = (error: UserTokenError) => {
  const texts = [error.message, "description" in error ? error.description : ""]
  for (const text of texts) {
    assert.notMatch(text, unsafe, `raw unprintable character in ${JSON.stringify(text)}`)
  }
}

describe("printable", () => {
  it("escapes controls, bidi, format characters, lone surrogates and separators; keeps printable text", () => {
    assert.strictEqual(printable("a\u001b[2Jb\u0007"), "a\\u001b[2Jb\\u0007")
    assert.strictEqual(printable("\u202e\u2066\u2067\u2068\u2069"), "\\u202e\\u2066\\u2067\\u2068\\u2069")
    assert.strictEqual(printable("\u0085\u009b\u0000\u007f"), "\\u0085\\u009b\\u0000\\u007f")
    assert.strictEqual(printable("x\ud800y\udc00"), "x\\ud800y\\udc00")
    assert.strictEqual(printable("\u200b\u2028\u{e0041}"), "\\u200b\\u2028\\udb40\\udc41")
    assert.strictEqual(printable("utilisateur non trouvé: Zoë 🙂"), "utilisateur non trouvé: Zoë 🙂")
    // JSON reads the escapes back as the same text.
    assert.strictEqual(JSON.parse(`"${printable("\u202e\u{e0041}\ud800")}"`), "\u202e\u{e0041}\ud800")
  })
})

describe("server text in errors is terminal-safe", () => {
  it.effect("HttpFailure: sFOX's error text with ESC, BEL, bidi, C1, NUL and a lone surrogate", () =>
    Effect.gen(function*() {
      const error = yield* failWith([Fault.status(500, { body: { error: hostile } })])
      assert.strictEqual(error._tag, "HttpFailure")
      assertSafe(error)
      assert.include(error.message, "gone\\u001b[2J\\u001b]0;owned\\u0007 \\u202efdp.exe\\u2066a")
      assert.include(error.message, "\\u009b31m\\u0000 \\ud800 end")
    }))

  it.effect("the excerpt's bound counts the escapes, and its cut never splits one", () =>
    Effect.gen(function*() {
      const error = yield* failWith([Fault.status(500, { body: { error: `x${"\u001b".repeat(500)}` } })])
      assert.strictEqual(error._tag, "HttpFailure")
      if (error._tag !== "HttpFailure") return
      assertSafe(error)
      // "x", then as many whole 6-character escapes as fit in 200, then "…".
      assert.strictEqual(error.description, `x${"\\u001b".repeat(33)}…`)
    }))

  it.effect("Unauthorized and RateLimited quote it escaped too", () =>
    Effect.gen(function*() {
      const unauthorized = yield* failWith([Fault.status(403, { body: { error: hostile } })])
      assert.strictEqual(unauthorized._tag, "Unauthorized")
      assertSafe(unauthorized)
      const limited = yield* failWith([Fault.status(429, { body: { message: hostile } })])
      assert.strictEqual(limited._tag, "RateLimited")
      assertSafe(limited)
    }))

  it.effect("an HTML page or plain text that is not JSON", () =>
    Effect.gen(function*() {
      const page = yield* failWith([Fault.status(502, { body: `<h1>${hostile}</h1>` })])
      assertSafe(page)
      const malformed = yield* failWith([Fault.malformed(`oops ${hostile}`)])
      assert.strictEqual(malformed._tag, "MalformedResponse")
      assertSafe(malformed)
      const errorBody = yield* failWith([Fault.malformed(JSON.stringify({ error: hostile }))])
      assert.include(errorBody.message, "success status with an error body")
      assertSafe(errorBody)
    }))

  it.effect("a gzip body nobody asked for is described, not quoted", () =>
    Effect.gen(function*() {
      const gzip = gzipSync(JSON.stringify({ data: { token: "x".repeat(64), partner_user_id: "u1" } }))
      // What reading the body as text makes of it (readBody's TextDecoder).
      const body = new TextDecoder().decode(gzip)
      for (
        const fault of [Fault.malformed(body), Fault.status(500, { body, headers: { "content-encoding": "gzip" } })]
      ) {
        const error = yield* failWith([fault])
        assertSafe(error)
        assert.match(error.message, /a body that is not text \(\d+ characters/)
      }
      const error = yield* failWith([Fault.status(500, { body, headers: { "content-encoding": "gzip" } })])
      assert.include(error.message, "content-encoding gzip")
    }))

  it.effect("a request id header with a terminal escape is not shown", () =>
    Effect.gen(function*() {
      const error = yield* failWith([
        Fault.status(500, { body: { error: "down" }, headers: { "x-request-id": "abc\u001b[2Jdef" } })
      ])
      assertSafe(error)
      assert.notInclude(error.message, "request id")
    }))

  it.effect("a refused batch names its users escaped", () =>
    Effect.gen(function*() {
      const tokens = yield* UserTokenService
      const error = yield* Effect.flip(tokens.createMany(["known", "evil\u202etxt.exe"]))
      assert.strictEqual(error._tag, "HttpFailure")
      assertSafe(error)
      assert.include(error.message, "evil\\u202etxt.exe")
    }).pipe(Effect.provide(FakeSfox.layerTest({ users: ["known"] }, noRetry))))
})
