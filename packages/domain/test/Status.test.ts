import { RequestId, Scrub, Status, TransportCode } from "@sfox-effect/domain"
import { assert, describe, it } from "vitest"

const answer = (status: number, body = "", headers: Record<string, string> = {}): Status.Answer => ({
  status,
  headers,
  body,
  receivedAt: 0
})
const KEY = "sfox-key-0123456789"

describe("Status", () => {
  it("turns each kind of refusal into its failure data", () => {
    assert.deepStrictEqual(Status.failureOf(answer(302, "moved"), 0, Scrub.none), {
      _tag: "HttpFailure",
      status: 302,
      description: "redirect refused: the enterprise key is sent to baseUrl only"
    })
    assert.deepStrictEqual(
      Status.failureOf(answer(401, "{\"error\":\"bad key\"}", { "x-request-id": "r-1" }), 0, Scrub.none, "https://x"),
      { _tag: "Unauthorized", status: 401, description: "bad key", requestId: "r-1", origin: "https://x" }
    )
    assert.deepStrictEqual(Status.failureOf(answer(429, "{\"message\":\"slow down\"}"), 0, Scrub.none), {
      _tag: "RateLimited",
      retryAfterMillis: Status.documentedLockoutMillis,
      description: "slow down"
    })
    assert.deepStrictEqual(Status.failureOf(answer(503, "", { "retry-after": "3" }), 0, Scrub.none), {
      _tag: "HttpFailure",
      status: 503,
      description: "empty body",
      retryAfterMillis: 3_000
    })
  })

  it("quotes an error body scrubbed, and describes one that is not text", () => {
    const failure = Status.failureOf(answer(500, `oops ${KEY}`), 0, Scrub.make([KEY]))
    assert.notInclude(failure.description, KEY)
    assert.strictEqual(
      Status.errorText({ body: "\u0000\u0001\u0002", headers: { "content-encoding": "gzip" } }, Scrub.none),
      "a body that is not text (3 characters, content-encoding gzip)"
    )
  })
})

describe("RequestId", () => {
  it("shows a plain id from the most specific header, and never one that looks like a secret", () => {
    assert.strictEqual(RequestId.of({ "cf-ray": "ray-1", "x-request-id": "r-1" }, Scrub.none), "r-1")
    assert.isUndefined(RequestId.of({ "x-request-id": "a".repeat(40) }, Scrub.none))
    assert.isUndefined(RequestId.of({ "x-request-id": `id-${KEY}` }, Scrub.make([KEY])))
    assert.isUndefined(RequestId.of({ "x-request-id": "two words" }, Scrub.none))
    assert.isUndefined(RequestId.of({}, Scrub.none))
  })
})

describe("TransportCode", () => {
  it("finds the code along the cause chain and names its reason", () => {
    const error = { message: "fetch failed", cause: { cause: { code: "ECONNREFUSED" } } }
    assert.strictEqual(TransportCode.codeOf(error), "ECONNREFUSED")
    assert.strictEqual(TransportCode.reasonOf("ECONNREFUSED"), "Connect")
    assert.strictEqual(TransportCode.reasonOf("CERT_HAS_EXPIRED"), "Tls")
    assert.strictEqual(TransportCode.reasonOf("EPIPE"), "Reset")
    assert.strictEqual(TransportCode.reasonOf("UND_ERR_HEADERS_TIMEOUT"), "Timeout")
    assert.strictEqual(TransportCode.reasonOf("SFOX_RESPONSE_TOO_LARGE"), "TooLarge")
    assert.strictEqual(TransportCode.reasonOf("SFOX_FOREIGN_ORIGIN"), "Request")
    assert.isUndefined(TransportCode.reasonOf("ESOMETHING"))
    assert.isUndefined(TransportCode.codeOf("not an object"))
  })
})
