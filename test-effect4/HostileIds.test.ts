/**
 * Hostile user ids, over a real socket, for the Effect 4 edition (the twin
 * of test/HostileIds.test.ts): every id given to `create`, `createMany` or
 * `get` is either refused as `InvalidUserId` with no request sent, or reaches
 * the server as exactly one path segment (or one batch entry) that decodes
 * back to the very same id. The ids and the checks are shared with the 3.x
 * line (test/shared/hostileIds.ts).
 */
import { assert, describe, layer } from "@effect/vitest"
import { type UserAuthToken, type UserTokenError, UserTokenService } from "@sfox-effect/effect4-core"
import { NodeSfox } from "@sfox-effect/effect4-node"
import { MockSfoxServer, type MockSfoxServerService } from "@sfox-effect/effect4-node/testing"
import { Context, Effect, Layer, Redacted, Result, Schedule } from "effect"
import * as fc from "fast-check"
import { type Method, methods, type Outcome } from "../test/shared/faults.js"
import {
  assertRefused,
  assertStringCase,
  badAmongGood,
  badGetAlone,
  dangerousUnits,
  holds,
  hostileStrings,
  KEY,
  longId,
  nonStrings,
  notIterable,
  type Probe,
  properties,
  sfoxShaped
} from "../test/shared/hostileIds.js"

/** One server and one service for the whole file; each probe starts from a clean record. */
class Sut extends Context.Service<Sut, {
  readonly server: MockSfoxServerService
  readonly tokens: UserTokenService.Service
}>()("test-effect4/HostileIds/Sut") {}

const SutLive = Layer.effect(
  Sut,
  Effect.gen(function*() {
    const server = yield* MockSfoxServer
    const tokens = yield* UserTokenService.make({
      apiKey: Redacted.make(KEY),
      baseUrl: server.url,
      timeout: "2 seconds",
      retry: Schedule.recurs(0),
      rateLimit: false,
      batchWindow: "1 millis"
    })
    return { server, tokens }
  })
).pipe(Layer.provide(Layer.merge(MockSfoxServer.layer({ apiKey: KEY }), NodeSfox.httpClient)))

const outcomeOf = (result: Result.Result<UserAuthToken, UserTokenError>): Outcome =>
  Result.isSuccess(result) ? { ok: true, userId: result.success.userId } : { ok: false, error: result.failure }

/** Sends `id` as a JavaScript caller might, bypassing the types, through `method`. */
const probe = Effect.fnUntraced(function*(id: unknown, method: Method) {
  const { server, tokens } = yield* Sut
  yield* server.reset
  const call: Effect.Effect<UserAuthToken, UserTokenError> = method === "create"
    ? tokens.create(id as string)
    : method === "get"
    ? tokens.get(id as string)
    : Effect.map(tokens.createMany([id as string]), (minted) => minted[0]!)
  const result = yield* Effect.result(call)
  return { method, outcome: outcomeOf(result), requests: yield* server.requests } satisfies Probe
})

const probeAll = (id: unknown) => Effect.forEach(methods, (method) => probe(id, method))

layer(SutLive, { excludeTestServices: true })("hostile ids over a real socket", (it) => {
  describe("strings", () => {
    for (const c of hostileStrings) {
      it.effect(c.name, () =>
        Effect.gen(function*() {
          assertStringCase(assert, yield* probeAll(c.id), c)
        }))
    }

    it.effect(longId.name, () =>
      Effect.gen(function*() {
        longId.check(assert, yield* probeAll(longId.id))
      }))
  })

  describe("non-strings from JavaScript callers", () => {
    for (const { label, name, value } of nonStrings) {
      it.effect(name, () =>
        Effect.gen(function*() {
          assertRefused(assert, yield* probeAll(value), label)
        }))
    }

    it.effect(notIterable.name, () =>
      Effect.gen(function*() {
        const { server, tokens } = yield* Sut
        yield* server.reset
        for (const input of notIterable.inputs) {
          const error = yield* Effect.flip(tokens.createMany(input as Iterable<string>))
          assert.strictEqual(error._tag, "InvalidUserId", String(input))
        }
        assert.strictEqual((yield* server.requests).length, 0)
      }))

    it.effect(badAmongGood.name, () =>
      Effect.gen(function*() {
        const { server, tokens } = yield* Sut
        yield* server.reset
        for (const [ids, index] of badAmongGood.cases) {
          const error = yield* Effect.flip(tokens.createMany(ids as Iterable<string>))
          assert.strictEqual(error._tag, "InvalidUserId")
          if (error._tag === "InvalidUserId") assert.strictEqual(error.index, index)
        }
        assert.strictEqual((yield* server.requests).length, 0)
      }))

    it.effect(badGetAlone.name, () =>
      Effect.gen(function*() {
        const { server, tokens } = yield* Sut
        yield* server.reset
        const [bad, good] = yield* Effect.all(
          [Effect.result(tokens.get(badGetAlone.bad as string)), tokens.get(badGetAlone.good)],
          { concurrency: "unbounded" }
        )
        assert.isTrue(Result.isFailure(bad))
        assert.strictEqual(good.userId, badGetAlone.good)
        const requests = yield* server.requests
        assert.deepStrictEqual(requests.map((r) => r.userIds), badGetAlone.batches)
      }))
  })

  describe(properties.describe, () => {
    const dangerous = fc.constantFrom(...dangerousUnits)

    const anyString = fc.oneof(
      fc.string({ unit: "binary", maxLength: 24 }),
      fc.string({ unit: "grapheme", maxLength: 24 }),
      fc.string({ unit: "binary-ascii", maxLength: 24 }),
      fc.string({ unit: dangerous, maxLength: 12 }),
      fc.string({ unit: "grapheme-ascii", minLength: 250, maxLength: 262 })
    )

    // Each run is a promise run in the test's own context (its Sut): Effect 4 has no Runtime.
    const property = (arbitrary: fc.Arbitrary<string>) =>
      Effect.gen(function*() {
        const context = yield* Effect.context<Sut>()
        yield* Effect.promise(() =>
          fc.assert(
            fc.asyncProperty(
              arbitrary,
              (id) => Effect.runPromiseWith(context)(Effect.map(probeAll(id), (probes) => holds(assert, probes, id)))
            ),
            { numRuns: properties.numRuns }
          )
        )
      })

    it.effect(properties.anyString, () => property(anyString))

    it.effect(properties.dangerous, () => property(fc.string({ unit: dangerous, minLength: 1, maxLength: 16 })))

    it.effect(properties.sfoxShaped, () =>
      property(
        fc.oneof(fc.uuid(), fc.uuid().map((u) => `client_${u}`), fc.stringMatching(sfoxShaped))
      ))
  })
})
