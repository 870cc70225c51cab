/**
 * Errors from an answer carry the answer's request id (sFOX documents no
 * header for it; the common ones are read), shown in the message, and never
 * when the value could be a secret the server echoed.
 */
import { assert, describe, it } from "@effect/vitest"
import { UserTokenService } from "@sfox-effect/effect4-core"
import { FakeSfox, Fault } from "@sfox-effect/effect4-core/testing"
import { Effect, Redacted, Schedule } from "effect"

const noRetry = { retry: Schedule.recurs(0) }

const failureWith = (fault: Fault) =>
  Effect.gen(function*() {
    const fake = yield* FakeSfox
    yield* fake.enqueue(fault)
    return yield* Effect.flip((yield* UserTokenService).create("u1"))
  })

describe("request id", () => {
  it.effect("a 503, a 401, a 429 and a malformed 2xx each carry the answer's id, in the message too", () =>
    Effect.gen(function*() {
      const cases = [
        [Fault.status(503, { headers: { "x-request-id": "req_503-a" } }), "HttpFailure", "req_503-a"],
        [
          Fault.status(401, { headers: { "x-request-id": "9f1c2e3d-1111-4a4a-8b8b-0123456789ab" } }),
          "Unauthorized",
          "9f1c2e3d-1111-4a4a-8b8b-0123456789ab"
        ],
        [Fault.status(429, { headers: { "request-id": "rl:42" } }), "RateLimited", "rl:42"],
        [Fault.status(500, { headers: { "cf-ray": "8c2f1a2b3c4d5e6f-IAD" } }), "HttpFailure", "8c2f1a2b3c4d5e6f-IAD"]
      ] as const
      for (const [fault, tag, id] of cases) {
        const error = yield* failureWith(fault)
        assert.strictEqual(error._tag, tag)
        assert.strictEqual((error as { readonly requestId?: string }).requestId, id)
        assert.include(error.message, `(request id ${id})`)
      }
      const fake = yield* FakeSfox
      yield* fake.enqueue(Fault.status(201, { body: "{not json", headers: { "x-request-id": "req_bad-body" } }))
      const malformed = yield* Effect.flip((yield* UserTokenService).create("u1"))
      assert.strictEqual(malformed._tag, "MalformedResponse")
      assert.strictEqual((malformed as { readonly requestId?: string }).requestId, "req_bad-body")
    }).pipe(Effect.provide(FakeSfox.layerTest({}, noRetry))))

  it.effect("no id header: no requestId, and the message is as before", () =>
    Effect.gen(function*() {
      const error = yield* failureWith(Fault.status(503))
      assert.strictEqual(error._tag, "HttpFailure")
      assert.isUndefined((error as { readonly requestId?: string }).requestId)
      assert.notInclude(error.message, "request id")
    }).pipe(Effect.provide(FakeSfox.layerTest({}, noRetry))))

  it.effect("an id that could be a secret or is not a plain id is not shown", () =>
    Effect.gen(function*() {
      const fake = yield* FakeSfox
      const key = Redacted.value(fake.apiKey)
      for (
        const id of [
          key,
          `req-${key}`,
          "ab".repeat(32), // shaped like a token sFOX mints
          "x".repeat(129),
          "has space",
          "semi;colon",
          "<script>"
        ]
      ) {
        const error = yield* failureWith(Fault.status(503, { headers: { "x-request-id": id } }))
        assert.isUndefined((error as { readonly requestId?: string }).requestId, id)
        assert.notInclude(error.message, id)
      }
    }).pipe(Effect.provide(FakeSfox.layerTest({ apiKey: "sk-live-0123456789" }, noRetry))))
})
