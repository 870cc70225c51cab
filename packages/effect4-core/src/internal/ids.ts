import { UserId } from "@sfox-effect/domain"
import * as Effect from "effect/Effect"
import { InvalidUserId } from "../SfoxError.js"

/**
 * Reads the ids of a `createMany` call inside the effect (the rules: the
 * domain's `UserId.readList`): every id checked before any request leaves,
 * with a return to the event loop between slices.
 *
 * The 3.x shell needed its own `setImmediate` for that turn (3.x's
 * `yieldNow` stayed on the microtask queue, where no timer fires). Effect
 * 4's scheduler resumes a yielded fiber from `setImmediate` (a zero timer
 * where there is none), so `Effect.yieldNow` is the turn.
 */
export const readIds = Effect.fnUntraced(function*(
  userIds: Iterable<string>,
  maxIds: number
): Effect.fn.Return<Array<string>, InvalidUserId> {
  const reader = UserId.readList(userIds, maxIds)
  if (!("next" in reader)) return yield* new InvalidUserId(reader)
  while (true) {
    const outcome = reader.next()
    if (outcome === "done") return reader.ids
    if (outcome !== "more") return yield* new InvalidUserId(outcome)
    yield* Effect.yieldNow
  }
})
