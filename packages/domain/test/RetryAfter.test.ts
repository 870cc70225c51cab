import { RetryAfter } from "@sfox-effect/domain"
import { assert, describe, it } from "vitest"

const now = Date.UTC(1994, 10, 6, 8, 49, 30)

describe("RetryAfter", () => {
  it("reads delay-seconds as milliseconds", () => {
    assert.strictEqual(RetryAfter.parse("5", now), 5_000)
    assert.strictEqual(RetryAfter.parse(" 0 ", now), 0)
  })

  it("reads the three forms of HTTP-date, a past date as now", () => {
    for (
      const date of ["Sun, 06 Nov 1994 08:49:37 GMT", "Sunday, 06-Nov-94 08:49:37 GMT", "Sun Nov  6 08:49:37 1994"]
    ) {
      assert.strictEqual(RetryAfter.parse(date, now), 7_000, date)
    }
    assert.strictEqual(RetryAfter.parse("Sun, 06 Nov 1994 08:49:00 GMT", now), 0)
  })

  it("takes anything else as no hint at all", () => {
    for (
      const value of [undefined, "-5", "1.5", "+5", "1, 2", "soon", "Sun, 31 Feb 1994 08:49:37 GMT", "9".repeat(65)]
    ) {
      assert.isUndefined(RetryAfter.parse(value, now), String(value))
    }
  })
})
