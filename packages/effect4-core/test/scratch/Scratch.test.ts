import { it } from "@effect/vitest"
import { Effect, Redacted } from "effect"
import { settings } from "../../src/internal/options.js"

it.effect("scratch", () =>
  Effect.gen(function*() {
    const s = yield* settings({ apiKey: Redacted.make("k"), rateLimit: false })
    console.log("rateLimit", s.rateLimit)
  }))
