import { Wire } from "@sfox-effect/domain"
import * as fc from "fast-check"
import { assert, describe, it } from "vitest"

const { parseExpires } = Wire

/**
 * The reference: the expression `parseExpires` reads by hand, and the same
 * range checks, as the service had them before the hand-written reader.
 */
const isoUtc = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(?:Z|\+00:00)$/
const monthDays = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
const reference = (expires: string): number | undefined => {
  if (expires.length > 40) return undefined
  const m = isoUtc.exec(expires)
  if (m === null) return undefined
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number
  ]
  if (month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || second > 59) return undefined
  const leap = year % 4 === 0 && year % 100 !== 0 || year % 400 === 0
  if (day > (month === 2 && leap ? 29 : monthDays[month - 1]!)) return undefined
  const millis = m[7] === undefined ? 0 : Number(m[7].slice(0, 3).padEnd(3, "0"))
  const date = new Date(0)
  date.setUTCFullYear(year, month - 1, day)
  date.setUTCHours(hour, minute, second, millis)
  return date.getTime()
}

const twoDigits = fc.integer({ min: 0, max: 99 }).map((n) => String(n).padStart(2, "0"))
const isoLike = fc.tuple(
  fc.integer({ min: 0, max: 9999 }).map((n) => String(n).padStart(4, "0")),
  twoDigits,
  twoDigits,
  twoDigits,
  twoDigits,
  twoDigits,
  fc.option(fc.stringMatching(/^[0-9]{0,11}$/), { nil: undefined }),
  fc.constantFrom("Z", "+00:00", "", "z", "+01:00", "-00:00", "+00:00Z", "ZZ", " ")
).map(([y, mo, d, h, mi, s, fraction, zone]) =>
  `${y}-${mo}-${d}T${h}:${mi}:${s}${fraction === undefined ? "" : `.${fraction}`}${zone}`
)
// One character of an ISO-like value changed, dropped or doubled.
const mutated = fc.tuple(isoLike, fc.nat(), fc.constantFrom("drop", "double", "replace"), fc.string({ maxLength: 1 }))
  .map(([text, at, how, by]) => {
    const i = at % text.length
    return how === "drop"
      ? text.slice(0, i) + text.slice(i + 1)
      : how === "double"
      ? text.slice(0, i + 1) + text.slice(i)
      : text.slice(0, i) + by + text.slice(i + 1)
  })

describe("parseExpires", () => {
  it("reads the seeds' two forms", () => {
    assert.strictEqual(parseExpires("2024-05-14T19:22:09.901Z"), Date.UTC(2024, 4, 14, 19, 22, 9, 901))
    assert.strictEqual(parseExpires("2022-02-08T03:28:56Z"), Date.UTC(2022, 1, 8, 3, 28, 56))
    assert.strictEqual(parseExpires("2022-02-08T03:28:56+00:00"), Date.UTC(2022, 1, 8, 3, 28, 56))
    assert.strictEqual(parseExpires("2022-02-08T03:28:56.1Z"), Date.UTC(2022, 1, 8, 3, 28, 56, 100))
    assert.strictEqual(parseExpires("2022-02-08T03:28:56.123456789Z"), Date.UTC(2022, 1, 8, 3, 28, 56, 123))
    assert.strictEqual(parseExpires("0099-12-31T23:59:59Z"), reference("0099-12-31T23:59:59Z"))
    for (const bad of ["2022-02-08T03:28:56", "2022-02-08T03:28:56.Z", "2022-02-30T03:28:56Z", "soon", ""]) {
      assert.isUndefined(parseExpires(bad), bad)
    }
  })

  it("agrees with the regular expression on ISO-like values", () => {
    fc.assert(
      fc.property(isoLike, (text) => {
        assert.strictEqual(parseExpires(text), reference(text), text)
      }),
      { numRuns: 5_000 }
    )
  })

  it("agrees with the regular expression on values one character off", () => {
    fc.assert(
      fc.property(mutated, (text) => {
        assert.strictEqual(parseExpires(text), reference(text), text)
      }),
      { numRuns: 5_000 }
    )
  })

  it("agrees with the regular expression on any string", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 45 }), (text) => {
        assert.strictEqual(parseExpires(text), reference(text), text)
      })
    )
  })
})

const minted = (token: string, userId: string, expiresAtMillis: number) => ({ token, userId, expiresAtMillis })
const hex64 = "a".repeat(64)

describe("readToken", () => {
  it("reads a token in the seeds' shape, and nothing else", () => {
    const wire = { token: hex64, partner_user_id: "u1", expires: "2022-02-08T03:28:56Z" }
    assert.deepStrictEqual(Wire.readToken(wire, minted), minted(hex64, "u1", Date.UTC(2022, 1, 8, 3, 28, 56)))
    for (
      const bad of [
        null,
        "text",
        { ...wire, token: "has space" },
        { ...wire, token: "x".repeat(Wire.maxTokenLength + 1) },
        { ...wire, partner_user_id: "" },
        { ...wire, partner_user_id: 1 },
        { ...wire, expires: "tomorrow" },
        { ...wire, expires: 1 }
      ]
    ) {
      assert.isUndefined(Wire.readToken(bad, minted), JSON.stringify(bad))
    }
  })
})

describe("matchBatch", () => {
  const now = Date.UTC(2024, 0, 1)
  const live = now + 3_600_000
  it("matches every token to the user asked for, whatever the order", () => {
    const tokens = [minted("t2", "u2", live), minted("t1", "u1", live)]
    const matched = Wire.matchBatch(tokens, ["u1", "u2"], now)
    assert.notStrictEqual(typeof matched, "string")
    assert.strictEqual((matched as ReadonlyMap<string, { token: string }>).get("u1")!.token, "t1")
  })
  it("refuses the whole answer for a user missing, added or repeated, or a token expired", () => {
    const t = (userId: string, at = live) => minted(`t-${userId}`, userId, at)
    assert.strictEqual(Wire.matchBatch([t("u1")], ["u1", "u2"], now), "answer misses 1 of 2 requested users")
    assert.strictEqual(
      Wire.matchBatch([t("u1"), t("x")], ["u1"], now),
      "answer holds a token for a user that was not requested"
    )
    assert.strictEqual(Wire.matchBatch([t("u1"), t("u1")], ["u1"], now), "answer holds two tokens for one user")
    assert.strictEqual(Wire.matchBatch([t("u1", now - Wire.clockSkewMillis)], ["u1"], now), Wire.expiredText)
    assert.notStrictEqual(typeof Wire.matchBatch([t("u1", now - Wire.clockSkewMillis + 1)], ["u1"], now), "string")
  })
  it("checks a single answer's user and expiry", () => {
    assert.isUndefined(Wire.checkSingle(minted("t", "u1", live), "u1", now))
    assert.strictEqual(
      Wire.checkSingle(minted("t", "u2", live), "u1", now),
      "token issued for a different user than requested"
    )
    assert.strictEqual(Wire.checkSingle(minted("t", "u1", now - Wire.clockSkewMillis), "u1", now), Wire.expiredText)
  })
})
