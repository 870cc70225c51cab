import { assert, it } from "@effect/vitest"
import { UserTokenService } from "@sfox-effect/effect4-core"
import { Fault } from "@sfox-effect/effect4-core/testing"
import { MockSfoxServer } from "@sfox-effect/effect4-node/testing"
import { Effect, Layer, Redacted } from "effect"
import { FetchHttpClient } from "effect/http"

it.live("mock server over fetch", () =>
  Effect.gen(function*() {
    const server = yield* MockSfoxServer
    const tokens = yield* UserTokenService.make({ apiKey: Redacted.make("k"), baseUrl: server.url, retry: undefined })
    const t = yield* tokens.create("a/b")
    assert.strictEqual(t.userId, "a/b")
    yield* server.enqueue([Fault.reset(), Fault.resetAfterHeaders(), Fault.shortBody()])
    const many = yield* tokens.createMany(["x", "y"])
    assert.strictEqual(many.length, 2)
    const reqs = yield* server.requests
    assert.deepStrictEqual(reqs.map((r) => r.status), [201, 201, 201, 201, 201])
    assert.deepStrictEqual(reqs[0]!.userIds, ["a/b"])
  }).pipe(Effect.scoped, Effect.provide(Layer.merge(MockSfoxServer.layer({ apiKey: "k" }), FetchHttpClient.layer))))
