import type { TransportCode } from "@sfox-effect/domain"
import { ErrorText, Failures, LogLines, Status } from "@sfox-effect/domain"
import * as fc from "fast-check"
import { assert, describe, it } from "vitest"

const reasons: ReadonlyArray<TransportCode.Reason> = [
  "Connect",
  "Tls",
  "Reset",
  "Timeout",
  "TooLarge",
  "Request",
  "Other"
]

const failure: fc.Arbitrary<Failures.Failure> = fc.oneof(
  fc.constant({ _tag: "InvalidUserId" as const }),
  fc.constant({ _tag: "EmptyBatch" as const }),
  fc.integer({ min: 100, max: 599 }).map((status) => ({ _tag: "Unauthorized" as const, status })),
  fc.constant({ _tag: "RateLimited" as const }),
  fc.integer({ min: 100, max: 599 }).map((status) => ({ _tag: "HttpFailure" as const, status })),
  fc.constantFrom(...reasons).map((reason) => ({ _tag: "TransportError" as const, reason })),
  fc.integer({ min: 200, max: 299 }).map((status) => ({ _tag: "MalformedResponse" as const, status })),
  fc.constant({ _tag: "RateLimiterUnavailable" as const })
)

const requestFailure = failure.filter((f): f is Failures.RequestFailure =>
  f._tag !== "InvalidUserId" && f._tag !== "EmptyBatch"
)

describe("Failures", () => {
  it("a transport failure is resendable unless the request, the certificate or the size would fail again", () => {
    assert.deepStrictEqual(reasons.filter(Failures.isResendable), ["Connect", "Reset", "Timeout", "Other"])
  })

  it("transient: a 5xx, a 408, a 429, a resendable transport failure; nothing else", () => {
    fc.assert(fc.property(failure, (f) => {
      const expected = f._tag === "HttpFailure"
        ? f.status >= 500 || f.status === 408
        : f._tag === "RateLimited" || (f._tag === "TransportError" && Failures.isResendable(f.reason))
      assert.strictEqual(Failures.isTransient(f), expected)
    }))
  })

  it("a value of no known tag is a bug, said loudly", () => {
    assert.throws(() => Failures.isTransient({ _tag: "Other" } as unknown as Failures.Failure), /Other/)
  })

  it("the status a failure is about, and its error.type", () => {
    fc.assert(fc.property(failure, (f) => {
      const status = Failures.statusOf(f)
      if (f._tag === "RateLimited") assert.strictEqual(status, 429)
      else if ("status" in f) assert.strictEqual(status, f.status)
      else assert.isUndefined(status)
      assert.strictEqual(
        Failures.errorType(f),
        status !== undefined && status >= 400 ? String(status) : f._tag
      )
    }))
    assert.strictEqual(Failures.errorType({ _tag: "MalformedResponse", status: 200 }), "MalformedResponse")
    assert.strictEqual(Failures.errorType({ _tag: "TransportError", reason: "Reset" }), "TransportError")
  })
})

describe("ErrorText", () => {
  it("says what each error's fields say, the request id last when there is one", () => {
    assert.strictEqual(
      ErrorText.invalidUserId({ preview: "\"\"", description: "is empty", index: 3 }),
      "Invalid user id \"\" at index 3: is empty"
    )
    assert.strictEqual(
      ErrorText.invalidUserId({ preview: "\"\"", description: "is empty" }),
      "Invalid user id \"\": is empty"
    )
    assert.strictEqual(ErrorText.emptyBatch, "createMany needs at least one user id")
    assert.strictEqual(
      ErrorText.unauthorized({ status: 401, description: "bad key", requestId: "r-1", origin: "https://api.sfox.com" }),
      "sFOX answered 401: bad key; check the API key: that it is an sFOX Enterprise API key, and one issued for " +
        "https://api.sfox.com (request id r-1)"
    )
    assert.strictEqual(
      ErrorText.unauthorized({ status: 403, description: "no" }),
      "sFOX answered 403: no; check the API key: that it is an sFOX Enterprise API key, and one issued for this host"
    )
    assert.strictEqual(
      ErrorText.rateLimited({ description: "slow down" }, "1m"),
      "sFOX rate limit hit; retry after 1m: slow down"
    )
    assert.strictEqual(
      ErrorText.httpFailure({ status: 503, description: "busy", requestId: "r-2" }),
      "sFOX answered 503: busy (request id r-2)"
    )
    assert.strictEqual(
      ErrorText.transportError({ reason: "Reset", description: "socket hang up" }),
      "Reset: socket hang up"
    )
    assert.strictEqual(
      ErrorText.malformedResponse({ status: 201, description: "empty body" }),
      "Malformed sFOX answer (201): empty body"
    )
    assert.strictEqual(
      ErrorText.rateLimiterUnavailable({ description: ErrorText.limiterClosed }),
      "The shared rate limiter is unavailable, no request was sent: the rate limiter's scope was closed: no turn " +
        "will come back"
    )
  })
})

describe("LogLines", () => {
  it("a retry is Debug, a 429 Warning; both carry the attempt, the error type and the delay in seconds", () => {
    assert.deepStrictEqual(LogLines.retrying({ _tag: "HttpFailure", status: 503 }, "HttpFailure 503", 1, 500), {
      level: "Debug",
      message: "sFOX request failed (HttpFailure 503); attempt 2 in 500 ms",
      annotations: {
        "sfox.attempt": 1,
        "error.type": "503",
        "http.response.status_code": 503,
        "sfox.retry_delay": 0.5
      }
    })
    assert.deepStrictEqual(LogLines.retrying({ _tag: "RateLimited" }, "RateLimited 429", 2, 1_000), {
      level: "Warning",
      message: "sFOX answered 429: waiting 1000 ms before attempt 3",
      annotations: { "sfox.attempt": 2, "error.type": "429", "http.response.status_code": 429, "sfox.retry_delay": 1 }
    })
    assert.deepStrictEqual(
      LogLines.retrying({ _tag: "TransportError", reason: "Reset" }, "TransportError Reset", 1, 20).annotations,
      { "sfox.attempt": 1, "error.type": "TransportError", "sfox.transport_reason": "Reset", "sfox.retry_delay": 0.02 }
    )
  })

  it("a 429 not retried: the documented lockout, or a wait beyond the call's", () => {
    const limited = { _tag: "RateLimited" as const }
    assert.strictEqual(
      LogLines.rateLimitedNotRetried(limited, 1, Status.documentedLockoutMillis, "1m").message,
      "sFOX locked this client out (429 with no Retry-After: its documented 1m lockout); not retried"
    )
    const long = LogLines.rateLimitedNotRetried(limited, 2, 90_000, "1m 30s")
    assert.strictEqual(long.level, "Warning")
    assert.strictEqual(long.message, "sFOX answered 429 asking for 1m 30s, beyond what the call may wait; not retried")
    assert.deepStrictEqual(long.annotations, {
      "sfox.attempt": 2,
      "error.type": "429",
      "http.response.status_code": 429
    })
  })

  it("a split is Info, a long wait for a turn Debug; no line quotes sFOX's text", () => {
    assert.deepStrictEqual(LogLines.batchSplit(8, { _tag: "HttpFailure", status: 404 }), {
      level: "Info",
      message: "sFOX refused a batch of 8 users for some of them (HttpFailure); halving it to find them",
      annotations: { "sfox.batch_size": 8, "sfox.attempt": 1, "error.type": "404", "http.response.status_code": 404 }
    })
    assert.deepStrictEqual(LogLines.waitedForTurn(1_500), {
      level: "Debug",
      message: "waited 1500 ms for a rate-limit turn",
      annotations: { "sfox.rate_limit.wait": 1.5 }
    })
    fc.assert(fc.property(requestFailure, fc.nat(10), fc.nat(100_000), (f, attempt, delay) => {
      const line = LogLines.retrying(f, "summary", attempt, delay)
      assert.notInclude(line.message, "description")
      assert.strictEqual(line.annotations["sfox.attempt"], attempt)
    }))
  })
})
