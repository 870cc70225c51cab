import { assert, it } from "@effect/vitest"
import { UserTokenService } from "@sfox-effect/core"
import { FakeSfox } from "@sfox-effect/core/testing"
import { Effect, Redacted } from "effect"

it.effect("mints", () =>
  Effect.gen(function*() {
    const tokens = yield* UserTokenService
    const t = yield* tokens.create("u1")
    assert.strictEqual(t.userId, "u1")
    assert.strictEqual(Redacted.value(t.token).length, 64)
    const many = yield* tokens.createMany(["a", "b", "a"])
    assert.deepStrictEqual(many.map((t) => t.userId), ["a", "b"])
  }).pipe(Effect.provide(FakeSfox.layerTest())))
