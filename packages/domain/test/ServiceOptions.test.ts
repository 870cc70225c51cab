import { ServiceOptions } from "@sfox-effect/domain"
import * as fc from "fast-check"
import { assert, describe, it } from "vitest"

const { bounds, checkBaseUrl, defaults } = ServiceOptions

describe("ServiceOptions", () => {
  it("every default is within its bound", () => {
    assert.isAtMost(defaults.timeoutMillis, bounds.timeoutMillis)
    assert.isAtMost(defaults.deadlineMillis, bounds.deadlineMillis)
    assert.isAtMost(defaults.maxRetryAfterMillis, bounds.maxRetryAfterMillis)
    assert.isAtMost(defaults.maxBatchSize, bounds.maxBatchSize)
    assert.isAtMost(defaults.batchConcurrency, bounds.batchConcurrency)
    assert.isAtMost(defaults.maxIdsPerCall, bounds.maxIdsPerCall)
    assert.isAtMost(defaults.rateLimit.limit, bounds.rateLimit.limit)
    assert.isAtMost(defaults.rateLimit.intervalMillis, bounds.rateLimit.intervalMillis)
    assert.isAtMost(defaults.batchWindowMillis, bounds.batchWindowMillis)
    assert.isAtMost(defaults.cache.capacity, bounds.cache.capacity)
    assert.isBelow(defaults.cache.refreshBeforeMillis, bounds.cache.refreshBeforeMillis)
    assert.deepStrictEqual(checkBaseUrl(defaults.baseUrl), { url: ServiceOptions.productionUrl })
  })

  it("a base URL: https (http for loopback only), no credentials, query or fragment; no trailing slash", () => {
    assert.deepStrictEqual(checkBaseUrl("https://api.sfox.com/"), { url: "https://api.sfox.com" })
    assert.deepStrictEqual(checkBaseUrl(new URL("https://x.test/prefix//")), { url: "https://x.test/prefix" })
    assert.deepStrictEqual(checkBaseUrl("http://127.0.0.1:8080"), { url: "http://127.0.0.1:8080" })
    assert.deepStrictEqual(checkBaseUrl("http://[::1]:1"), { url: "http://[::1]:1" })
    assert.deepStrictEqual(checkBaseUrl("http://localhost"), { url: "http://localhost" })
    assert.deepStrictEqual(checkBaseUrl("api.sfox.com"), { refused: "is not an absolute URL" })
    assert.deepStrictEqual(checkBaseUrl("http://api.sfox.com"), {
      refused: "must use https: (http: is allowed only for loopback hosts)"
    })
    assert.deepStrictEqual(checkBaseUrl("https://u:p@api.sfox.com"), { refused: "must not hold credentials" })
    assert.deepStrictEqual(checkBaseUrl("https://api.sfox.com/?"), { refused: "must not have a query" })
    assert.deepStrictEqual(checkBaseUrl("https://api.sfox.com/#"), { refused: "must not have a fragment" })
  })

  it("a refusal never quotes the URL", () => {
    fc.assert(fc.property(fc.webUrl({ withQueryParameters: true, withFragments: true }), fc.string(), (url, secret) => {
      const checked = checkBaseUrl(`${url}${secret}`)
      if ("refused" in checked && secret.length > 3) assert.notInclude(checked.refused, secret)
    }))
  })

  it("says which key variables to set, and which were set but empty", () => {
    assert.strictEqual(
      ServiceOptions.noKeyAdvice([]),
      "no API key: set SFOX_ENTERPRISE_API_KEY (or ENTERPRISE_API_KEY) to your sFOX Enterprise API key"
    )
    assert.strictEqual(
      ServiceOptions.noKeyAdvice(["SFOX_ENTERPRISE_API_KEY"]),
      "no API key: SFOX_ENTERPRISE_API_KEY is set but empty; set SFOX_ENTERPRISE_API_KEY (or ENTERPRISE_API_KEY) " +
        "to your sFOX Enterprise API key"
    )
    assert.include(ServiceOptions.noKeyAdvice([...ServiceOptions.keyVariables]), "ENTERPRISE_API_KEY are set but empty")
  })

  it("a key is header-safe only as non-empty visible ASCII", () => {
    assert.isTrue(ServiceOptions.isHeaderSafe("sfox-key_0123"))
    for (const bad of ["", "a b", "a\r\nb", "ключ", "a\u0000"]) assert.isFalse(ServiceOptions.isHeaderSafe(bad), bad)
  })
})
