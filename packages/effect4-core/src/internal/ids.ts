import { UserId } from "@sfox-effect/domain"
import * as Effect from "effect/Effect"
import { InvalidUserId } from "../SfoxError.js"

// One turn of the event loop, so that timers and I/O waiting behind a long
// `createMany` run between two slices (`Effect.yieldNow` alone stays on the
// microtask queue, which lets no timer fire). `setImmediate` where there is
// one (Node, Bun, Deno), a zero timer elsewhere.
// Typed here: core is built without Node's (or the DOM's) globals.
const host = globalThis as unknown as {
  readonly setImmediate?: (f: () => void) => unknown
  readonly clearImmediate?: (handle: unknown) => void
  readonly setTimeout: (f: () => void, millis: number) => unknown
  readonly clearTimeout: (handle: unknown) => void
}

const nextTurn: Effect.Effect<void> = Effect.async<void>((resume) => {
  if (host.setImmediate !== undefined && host.clearImmediate !== undefined) {
    const clear = host.clearImmediate
    const handle = host.setImmediate(() => resume(Effect.void))
    return Effect.sync(() => clear(handle))
  }
  const handle = host.setTimeout(() => resume(Effect.void), 0)
  return Effect.sync(() => host.clearTimeout(handle))
})

/**
 * Reads the ids of a `createMany` call inside the effect (the rules: the
 * domain's `UserId.readList`): every id checked before any request leaves,
 * with a return to the event loop between slices.
 */
export const readIds = (
  userIds: Iterable<string>,
  maxIds: number
): Effect.Effect<Array<string>, InvalidUserId> =>
  Effect.suspend(() => {
    const reader = UserId.readList(userIds, maxIds)
    if (!("next" in reader)) return Effect.fail(new InvalidUserId(reader))
    const loop: Effect.Effect<Array<string>, InvalidUserId> = Effect.suspend(() => {
      const outcome = reader.next()
      if (outcome === "done") return Effect.succeed(reader.ids)
      if (outcome === "more") return Effect.zipRight(nextTurn, loop)
      return Effect.fail(new InvalidUserId(outcome))
    })
    return loop
  })
