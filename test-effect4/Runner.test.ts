import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"

describe("the Effect 4 edition's runner", () => {
  it.effect("runs Effect 4 on Node 24", () =>
    Effect.gen(function*() {
      const major = yield* Effect.sync(() => Number(process.versions.node.split(".")[0]))
      assert.isAtLeast(major, 24)
    }))
})
