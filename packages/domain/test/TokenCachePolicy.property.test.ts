/**
 * The cache's policy against a plain model (a list, most recently used
 * last), over random lookups, stores (with expiries short, long and absurd),
 * invalidations and clock moves.
 */
import * as fc from "fast-check"
import * as assert from "node:assert/strict"
import { describe, it } from "vitest"
import { TokenCachePolicy as P } from "../src/index.js"

const day = 24 * 60 * 60 * 1000
const capacity = 3
const refreshBefore = 1_000
const keys = ["a", "b", "c", "d", "e"]

type Op =
  | { readonly _tag: "Lookup"; readonly key: number }
  | { readonly _tag: "Store"; readonly key: number; readonly life: number; readonly askedAgo: number }
  | { readonly _tag: "Invalidate"; readonly key: number }
  | { readonly _tag: "Wait"; readonly millis: number }

const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ _tag: fc.constant("Lookup" as const), key: fc.nat(keys.length - 1) }),
  fc.record({
    _tag: fc.constant("Store" as const),
    key: fc.nat(keys.length - 1),
    // From already expired to year 9999.
    life: fc.oneof(fc.integer({ min: -2_000, max: 5_000 }), fc.constant(day), fc.constant(1e14)),
    askedAgo: fc.nat(3_000)
  }),
  fc.record({ _tag: fc.constant("Invalidate" as const), key: fc.nat(keys.length - 1) }),
  fc.record({ _tag: fc.constant("Wait" as const), millis: fc.oneof(fc.nat(3_000), fc.constant(day)) })
)

interface ModelEntry {
  readonly key: string
  readonly value: number
  readonly until: number
}

describe("TokenCachePolicy", () => {
  it("serves a token until min(expires, asked + 24 h) - refreshBefore, least recently used evicted past capacity", () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 40 }), (ops) => {
        const state = P.initial<number>(capacity, refreshBefore)
        let model: Array<ModelEntry> = []
        let now = 1_000_000
        let next = 0
        for (const o of ops) {
          if (o._tag === "Wait") {
            now += o.millis
            continue
          }
          const key = keys[o.key]!
          const found = model.find((e) => e.key === key)
          if (o._tag === "Lookup") {
            const { commands } = P.step(state, { _tag: "Lookup", key }, now)
            const fresh = found !== undefined && found.until > now
            model = model.filter((e) => e.key !== key)
            if (fresh) model.push(found)
            assert.deepStrictEqual(commands, [fresh ? { _tag: "Serve", value: found.value } : { _tag: "Mint" }])
          } else if (o._tag === "Invalidate") {
            assert.deepStrictEqual(P.step(state, { _tag: "Invalidate", key }, now).commands, [])
            model = model.filter((e) => e.key !== key)
          } else {
            const askedAt = now - o.askedAgo
            const expiresMillis = now + o.life
            const value = next++
            const { commands } = P.step(state, { _tag: "Store", key, value, expiresMillis, askedAt }, now)
            model = model.filter((e) => e.key !== key)
            model.push({ key, value, until: Math.min(expiresMillis, askedAt + day) - refreshBefore })
            const evicted = model.length > capacity ? model.shift()!.key : undefined
            assert.deepStrictEqual(commands, evicted === undefined ? [] : [{ _tag: "Evicted", key: evicted }])
          }
          assert.deepStrictEqual(
            Array.from(state.entries, ([key, e]) => ({ key, value: e.value, until: e.until })),
            model
          )
          assert.ok(state.entries.size <= capacity)
        }
      }),
      { numRuns: 10_000 }
    )
  })

  it("never serves a token past 24 h after it was asked for, whatever its expiry says", () => {
    const state = P.initial<string>(10, 0)
    P.step(state, { _tag: "Store", key: "a", value: "t", expiresMillis: 253402300799000, askedAt: 0 }, 0)
    assert.deepStrictEqual(P.step(state, { _tag: "Lookup", key: "a" }, day - 1).commands, [{
      _tag: "Serve",
      value: "t"
    }])
    assert.deepStrictEqual(P.step(state, { _tag: "Lookup", key: "a" }, day).commands, [{ _tag: "Mint" }])
  })

  it("cache: the shells' LRU of tokens, served by the policy's lookup and store", () => {
    const cache = P.cache<{ readonly userId: string; readonly expiresAtMillis: number; readonly n: number }>(2, 100)
    const token = (userId: string, n: number) => ({ userId, expiresAtMillis: 1_000, n })
    cache.set(token("a", 1), 0)
    cache.set(token("b", 2), 0)
    assert.strictEqual(cache.get("a", 899)?.n, 1)
    assert.strictEqual(cache.get("a", 900), undefined, "served until refreshBefore ahead of its expiry")
    cache.set(token("a", 3), 0)
    cache.set(token("c", 4), 0)
    assert.strictEqual(cache.get("b", 0), undefined, "the least recently used goes past capacity")
    cache.invalidate("a")
    assert.strictEqual(cache.get("a", 0), undefined)
    assert.strictEqual(cache.get("c", 0)?.n, 4)
  })
})
