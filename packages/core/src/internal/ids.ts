import * as Effect from "effect/Effect"
import { InvalidUserId } from "../SfoxError.js"
import { checkUserId, preview } from "./userId.js"

/**
 * Ids read and checked between two returns to the event loop. Checking an
 * id costs about a microsecond: a slice holds the loop for a few
 * milliseconds at most, whatever the size of the input.
 */
export const sliceSize = 4096

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

const notIterable = (userIds: unknown, secrets: ReadonlyArray<string>) =>
  new InvalidUserId({
    preview: typeof userIds === "object" && userIds !== null && !Array.isArray(userIds)
      ? "an object"
      : preview(userIds, secrets),
    description: "createMany needs an iterable of user ids (an array, a Set…), not a single value"
  })

/**
 * Reads the ids of a `createMany` call inside the effect: checks every id
 * before any request leaves, keeps the first occurrence of each in input
 * order, stops past `maxIds` (an endless iterable ends there), and returns
 * to the event loop between slices. An iterator that throws fails the call
 * with `InvalidUserId`; what it threw is not kept (it could be anything,
 * a secret included).
 */
export const readIds = (
  userIds: Iterable<string>,
  maxIds: number,
  secrets: ReadonlyArray<string>
): Effect.Effect<Array<string>, InvalidUserId> =>
  Effect.suspend(() => {
    const input: unknown = userIds
    // A string, or a String object, is iterable too, character by character:
    // `createMany("u1")` would ask for users "u" and "1".
    if (
      typeof input !== "object" || input === null || input instanceof String ||
      typeof (input as { [Symbol.iterator]?: unknown })[Symbol.iterator] !== "function"
    ) {
      return Effect.fail(notIterable(input, secrets))
    }
    let iterator: Iterator<unknown>
    try {
      iterator = (input as Iterable<unknown>)[Symbol.iterator]()
    } catch {
      return Effect.fail(
        new InvalidUserId({ preview: "an iterable", description: "reading the ids failed: the iterable threw" })
      )
    }
    const seen = new Set<string>()
    const ids: Array<string> = []
    let index = 0
    const slice = (): InvalidUserId | "more" | "done" => {
      const end = index + sliceSize
      while (index < end) {
        let next: IteratorResult<unknown>
        try {
          next = iterator.next()
        } catch {
          return new InvalidUserId({
            preview: "an iterable",
            description: `reading the ids failed: the iterable threw after ${index} ids`,
            index
          })
        }
        if (next.done === true) return "done"
        if (index >= maxIds) {
          return new InvalidUserId({
            preview: preview(next.value, secrets),
            description: `createMany takes at most ${maxIds} ids per call (maxIdsPerCall): split the input`,
            index
          })
        }
        const id = next.value
        const invalid = checkUserId(id, index, secrets)
        if (invalid !== undefined) return invalid
        index++
        if (!seen.has(id as string)) {
          seen.add(id as string)
          ids.push(id as string)
        }
      }
      return "more"
    }
    const loop: Effect.Effect<Array<string>, InvalidUserId> = Effect.suspend(() => {
      const outcome = slice()
      if (outcome === "done") return Effect.succeed(ids)
      if (outcome === "more") return Effect.zipRight(nextTurn, loop)
      closeQuietly(iterator)
      return Effect.fail(outcome)
    })
    return loop
  })

// An iterator left before its end is told so (a generator's `finally` runs).
const closeQuietly = (iterator: Iterator<unknown>): void => {
  try {
    iterator.return?.()
  } catch {
    // its own failure to close is not the caller's error
  }
}
