/**
 * Hostile user ids, over a real socket: every id given to `create`,
 * `createMany` or `get` is either refused as `InvalidUserId` with no request
 * sent, or reaches the server as exactly one path segment (or one batch entry)
 * that decodes back to the very same id.
 */
import { assert, describe, layer } from "@effect/vitest"
import { type UserAuthToken, type UserTokenError, UserTokenService } from "@sfox-effect/core"
import type { SfoxSimulator } from "@sfox-effect/core/testing"
import { NodeSfox } from "@sfox-effect/node"
import { MockSfoxServer, type MockSfoxServerService } from "@sfox-effect/node/testing"
import { Context, Effect, Either, FastCheck as fc, Layer, Redacted, Runtime, Schedule } from "effect"

const KEY = "sk-hostile-ids-81f2a6c0d3"
const prefix = "/v1/enterprise/user-tokens"

/** One server and one service for the whole file; each probe starts from a clean record. */
class Sut extends Context.Tag("test/HostileIds/Sut")<Sut, {
  readonly server: MockSfoxServerService
  readonly tokens: UserTokenService.Service
}>() {}

const SutLive = Layer.scoped(
  Sut,
  Effect.gen(function*() {
    const server = yield* MockSfoxServer
    const tokens = yield* UserTokenService.make({
      apiKey: Redacted.make(KEY),
      baseUrl: server.url,
      timeout: "2 seconds",
      retry: Schedule.stop,
      rateLimit: false,
      batchWindow: "1 millis"
    })
    return { server, tokens }
  })
).pipe(Layer.provide(Layer.merge(MockSfoxServer.layer({ apiKey: KEY }), NodeSfox.httpClient)))

type Method = "create" | "createMany" | "get"
const methods: ReadonlyArray<Method> = ["create", "createMany", "get"]

interface Probe {
  readonly method: Method
  readonly result: Either.Either<UserAuthToken, UserTokenError>
  readonly requests: ReadonlyArray<SfoxSimulator.RecordedRequest>
}

/** Sends `id` as a JavaScript caller might, bypassing the types, through `method`. */
const probe = (id: unknown, method: Method) =>
  Effect.gen(function*() {
    const { server, tokens } = yield* Sut
    yield* server.reset
    const call: Effect.Effect<UserAuthToken, UserTokenError> = method === "create"
      ? tokens.create(id as string)
      : method === "get"
      ? tokens.get(id as string)
      : Effect.map(tokens.createMany([id as string]), (minted) => minted[0]!)
    const result = yield* Effect.either(call)
    return { method, result, requests: yield* server.requests } satisfies Probe
  })

const probeAll = (id: unknown) => Effect.forEach(methods, (method) => probe(id, method))

const assertRefused = (probes: ReadonlyArray<Probe>, label: string) => {
  for (const { method, requests, result } of probes) {
    assert.isTrue(Either.isLeft(result), `${method}(${label}) should be refused`)
    if (Either.isLeft(result)) assert.strictEqual(result.left._tag, "InvalidUserId", `${method}(${label})`)
    assert.strictEqual(requests.length, 0, `${method}(${label}) sent a request`)
  }
}

/** The id arrived whole: one segment (or one batch entry) decoding back to it, and its token is its own. */
const assertSentWhole = (probes: ReadonlyArray<Probe>, id: string, label: string) => {
  for (const { method, requests, result } of probes) {
    assert.isTrue(Either.isRight(result), `${method}(${label}) failed: ${Either.isLeft(result) ? result.left : ""}`)
    if (Either.isRight(result)) assert.strictEqual(result.right.userId, id, `${method}(${label}) token's user`)
    assert.strictEqual(requests.length, 1, `${method}(${label}) requests`)
    const request = requests[0]!
    assert.strictEqual(request.status, 201, `${method}(${label}) status`)
    assert.deepStrictEqual(request.userIds, [id], `${method}(${label}) ids the server read`)
    assert.isUndefined(request.headers["x-injected"], "a header was injected")
    if (method === "create") {
      assert.isTrue(request.path.startsWith(`${prefix}/`), request.path)
      const segment = request.path.slice(prefix.length + 1)
      assert.notInclude(segment, "/", `${label} became more than one path segment: ${request.path}`)
      assert.isAbove(segment.length, 0)
      assert.strictEqual(decodeURIComponent(segment), id, `${label}'s segment does not decode back to it`)
    } else {
      assert.strictEqual(request.path, prefix)
      assert.deepStrictEqual((JSON.parse(request.body) as { data: unknown }).data, [id])
    }
  }
}

type Expectation = "refused" | "sent"

const hostileStrings: ReadonlyArray<readonly [label: string, id: string, expected: Expectation]> = [
  ["\"\" (empty)", "", "refused"],
  ["\" \" (a space)", " ", "refused"],
  ["\".\"", ".", "refused"],
  ["\"..\"", "..", "refused"],
  ["\"%2e%2e\"", "%2e%2e", "sent"],
  ["\"a/b\"", "a/b", "sent"],
  ["\"a?b\"", "a?b", "sent"],
  ["\"a#b\"", "a#b", "sent"],
  ["\"a\\r\\nX-Injected: 1\"", "a\r\nX-Injected: 1", "refused"],
  ["\"\\u0000\"", "\u0000", "refused"],
  ["10,000 characters", "x".repeat(10_000), "refused"],
  ["emoji \"🦊🔑\"", "🦊🔑", "sent"],
  ["emoji ZWJ sequence \"👩‍👩‍👧\"", "👩‍👩‍👧", "sent"],
  ["\"...\" (not a dot segment)", "...", "sent"],
  ["\"./..\"", "./..", "sent"],
  ["\"/\"", "/", "sent"],
  ["\"%\" and \"%zz\" (no valid escape)", "%zz%", "sent"],
  ["\"a b\" (inner space)", "a b", "sent"],
  ["\"a+b&c=d;e\"", "a+b&c=d;e", "sent"],
  ["\"a\\\\b\" (backslash)", "a\\b", "sent"],
  ["\" a\" (leading space)", " a", "refused"],
  ["\"a\\u00a0\" (trailing no-break space)", "a\u00a0", "refused"],
  ["\"a\\tb\" (tab)", "a\tb", "refused"],
  ["\"a\\u2028b\" (line separator)", "a\u2028b", "refused"],
  ["\"\\ud800\" (lone surrogate)", "\ud800", "refused"],
  ["256 characters (the limit)", "u".repeat(256), "sent"],
  ["257 characters", "u".repeat(257), "refused"],
  // Invisible ids (issue 10): nothing a person could read or tell apart.
  ["\"\\u200b\" (zero-width space only)", "\u200b", "refused"],
  ["\"\\u202e\" (right-to-left override only)", "\u202e", "refused"],
  ["\"\\u{e0001}\" (language tag only)", "\u{e0001}", "refused"],
  ["\"\\u200b\\u2060\\ufeff\\u200d\" (zero-width characters only)", "\u200b\u2060\ufeff\u200d", "refused"],
  ["\"\\u3164\" (Hangul filler only)", "\u3164", "refused"],
  ["\"\\u2066\\u2069\" (bidi isolates only)", "\u2066\u2069", "refused"],
  ["\"a\\u200bb\" (visible, with a zero-width space inside)", "a\u200bb", "sent"]
]

const nonStrings: ReadonlyArray<readonly [label: string, value: unknown]> = [
  ["42", 42],
  ["NaN", Number.NaN],
  ["null", null],
  ["undefined", undefined],
  ["true", true],
  ["10n", 10n],
  ["Symbol(\"u1\")", Symbol("u1")],
  ["{}", {}],
  ["{ toString: () => \"u1\" }", { toString: () => "u1" }],
  ["new String(\"u1\")", new String("u1")],
  ["[]", []],
  ["[\"u1\"]", ["u1"]],
  ["() => \"u1\"", () => "u1"]
]

layer(SutLive, { excludeTestServices: true })("hostile ids over a real socket", (it) => {
  describe("strings", () => {
    for (const [label, id, expected] of hostileStrings) {
      it.effect(`${label} → ${expected === "refused" ? "InvalidUserId, no request" : "one segment, decodes back"}`, () =>
        Effect.gen(function*() {
          const probes = yield* probeAll(id)
          if (expected === "refused") assertRefused(probes, label)
          else assertSentWhole(probes, id, label)
        }))
    }

    it.effect("the 10,000-character id is described by a short preview, not echoed whole", () =>
      Effect.gen(function*() {
        const { result } = (yield* probeAll("x".repeat(10_000)))[0]!
        assert.isTrue(Either.isLeft(result))
        if (Either.isLeft(result)) assert.isBelow(result.left.message.length, 200)
      }))
  })

  describe("non-strings from JavaScript callers", () => {
    for (const [label, value] of nonStrings) {
      it.effect(`${label} → InvalidUserId, no request`, () =>
        Effect.gen(function*() {
          assertRefused(yield* probeAll(value), label)
        }))
    }

    it.effect("createMany given no iterable of ids (a string, a number, null, undefined, {}, an array-like) → InvalidUserId, no request", () =>
      Effect.gen(function*() {
        const { server, tokens } = yield* Sut
        yield* server.reset
        for (const input of ["abc", 42, null, undefined, {}, { length: 1, 0: "u1" }]) {
          const error = yield* Effect.flip(tokens.createMany(input as unknown as Iterable<string>))
          assert.strictEqual(error._tag, "InvalidUserId", String(input))
        }
        assert.strictEqual((yield* server.requests).length, 0)
      }))

    it.effect("createMany with one bad id among good ones → InvalidUserId naming its index, no request", () =>
      Effect.gen(function*() {
        const { server, tokens } = yield* Sut
        yield* server.reset
        for (const [ids, index] of [[["ok", ".."], 1], [["ok", "fine", 42], 2], [[null, "ok"], 0]] as const) {
          const error = yield* Effect.flip(tokens.createMany(ids as unknown as Iterable<string>))
          assert.strictEqual(error._tag, "InvalidUserId")
          if (error._tag === "InvalidUserId") assert.strictEqual(error.index, index)
        }
        assert.strictEqual((yield* server.requests).length, 0)
      }))

    it.effect("get with a bad id joins no batch: a good id waiting at the same time gets its token alone", () =>
      Effect.gen(function*() {
        const { server, tokens } = yield* Sut
        yield* server.reset
        const [bad, good] = yield* Effect.all(
          [Effect.either(tokens.get(null as unknown as string)), tokens.get("ok")],
          {
            concurrency: "unbounded"
          }
        )
        assert.isTrue(Either.isLeft(bad))
        assert.strictEqual(good.userId, "ok")
        const requests = yield* server.requests
        assert.deepStrictEqual(requests.map((r) => r.userIds), [["ok"]])
      }))
  })

  describe("properties (fast-check, 200 runs each, real socket)", () => {
    const dangerous = fc.constantFrom("/", "?", "#", "%", ".", "\r", "\n", "\u0000", " ", "2", "e", "a", "\\", "&")

    const anyString = fc.oneof(
      fc.string({ unit: "binary", maxLength: 24 }),
      fc.string({ unit: "grapheme", maxLength: 24 }),
      fc.string({ unit: "binary-ascii", maxLength: 24 }),
      fc.string({ unit: dangerous, maxLength: 12 }),
      fc.string({ unit: "grapheme-ascii", minLength: 250, maxLength: 262 })
    )

    /**
     * What any string must come to, through all three methods alike. Two
     * claims pin the rule down from both sides: what may split a header or a
     * path is refused, and ids of sFOX's own shape always go through.
     */
    const holds = (id: string) =>
      Effect.gen(function*() {
        const probes = yield* probeAll(id)
        const refused = probes.map((p) => Either.isLeft(p.result))
        assert.isTrue(refused.every((r) => r === refused[0]), `the three methods disagree on ${JSON.stringify(id)}`)
        if (refused[0]) assertRefused(probes, JSON.stringify(id))
        else assertSentWhole(probes, id, JSON.stringify(id))
        if (/[\r\n]/.test(id) || id.includes("\u0000") || id === "" || id === "." || id === "..") {
          assert.isTrue(refused[0], `${JSON.stringify(id)} must be refused`)
        }
        if (/^[A-Za-z0-9_-]{1,256}$/.test(id)) assert.isFalse(refused[0], `${JSON.stringify(id)} must be sent`)
      })

    const property = (arbitrary: fc.Arbitrary<string>) =>
      Effect.gen(function*() {
        const run = Runtime.runPromise(yield* Effect.runtime<Sut>())
        yield* Effect.promise(() => fc.assert(fc.asyncProperty(arbitrary, (id) => run(holds(id))), { numRuns: 200 }))
      })

    it.effect("any string (binary, unicode graphemes, ASCII, around the length limit): refused with nothing sent, or one segment that decodes back", () =>
      property(anyString))

    it.effect("strings built from / ? # % . \\r \\n \\u0000 space: refused with nothing sent, or one segment that decodes back", () =>
      property(fc.string({ unit: dangerous, minLength: 1, maxLength: 16 })))

    it.effect("ids shaped like sFOX's (uuid, client_…): always sent whole", () =>
      property(
        fc.oneof(fc.uuid(), fc.uuid().map((u) => `client_${u}`), fc.stringMatching(/^[A-Za-z0-9_-]{1,64}$/))
      ))
  })
})
