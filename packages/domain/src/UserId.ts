/**
 * The rules a user id must meet to travel as exactly one URL path segment
 * (or one string of a batch body) and come back unchanged; a description of
 * a refused id that can never hold a secret; and the reading of a list of
 * ids, slice by slice.
 *
 * @since 0.1.0
 */

/**
 * Ids longer than this are refused; sFOX's own ids are UUID-sized.
 *
 * @since 0.1.0
 */
export const maxLength = 256

// C0 and C1 control characters, DEL, and the Unicode line/paragraph
// separators: none belongs in an id, and CR/LF are header-injection vectors.
// eslint-disable-next-line no-control-regex
const forbidden = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/

// An id made only of characters that show nothing: whitespace, format
// characters (zero-width space U+200B, the bidi controls U+202A–U+202E and
// U+2066–U+2069, the tag characters U+E0000–U+E007F…) and the other
// default-ignorable code points (variation selectors, the Hangul fillers).
// Such an id cannot be told apart from another (or from none) in a log or a
// dashboard, so it is refused; an id with a visible character may still
// hold some of them.
const invisible = /^[\p{White_Space}\p{Cf}\p{Default_Ignorable_Code_Point}]*$/u

/**
 * Longest refused id that an error shows as it is. A refused id may be a
 * secret passed by mistake, or a part of one (the key with a NUL in the
 * middle): a longer one is shown only as its length and a short hash, which
 * is enough to tell two inputs apart and holds no character of either.
 *
 * @since 0.1.0
 */
export const maxPreviewLength = 8

// FNV-1a over the UTF-16 code units: not a cryptographic hash, only a short
// fingerprint (32 bits of a secret of 20+ random characters tell nothing).
const fingerprint = (text: string): string => {
  let hash = 0x811c9dc5
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i)
    hash = Math.imul(hash, 0x01000193)
  }
  return (hash >>> 0).toString(16).padStart(8, "0")
}

// Everything but printable ASCII is shown as an escape: a control character
// or a bidi override must not act on the terminal or log that prints it.
const escapeText = (text: string): string =>
  JSON.stringify(text).replace(/[^\x20-\x7e]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`)

/**
 * A description of a refused input that can never hold a secret or a part of one.
 *
 * @since 0.1.0
 */
export const preview = (input: unknown): string => {
  if (typeof input !== "string") {
    return input === null ? "null" : Array.isArray(input) ? "an array" : `a ${typeof input}`
  }
  return input.length <= maxPreviewLength
    ? escapeText(input)
    : `(${input.length} characters, fingerprint ${fingerprint(input)})`
}

/**
 * A refused id, as data: the shell turns it into its error.
 *
 * @since 0.1.0
 */
export interface Invalid {
  readonly preview: string
  readonly description: string
  readonly index?: number
}

/**
 * The refusal of `input` for `description` (at `index` of a list).
 *
 * @since 0.1.0
 */
export const invalid = (input: unknown, description: string, index?: number): Invalid =>
  index === undefined
    ? { preview: preview(input), description }
    : { preview: preview(input), description, index }

// Ids of unreserved ASCII only (UUIDs and most ids): within the length,
// nothing to trim, nothing hidden, well-formed, and the same once encoded
// for a path. Such ids skip the checks below but the dot segments', and
// their encoding: every mint and every id of a batch is checked.
const unreserved = /^[A-Za-z0-9\-._~]{1,256}$/

const dotSegment = "must not be a dot segment"

/**
 * What is wrong with `input` as a user id, or `undefined` when nothing is.
 *
 * @since 0.1.0
 */
export const problemOf = (input: unknown): string | undefined => {
  if (typeof input === "string" && unreserved.test(input)) {
    return input === "." || input === ".." ? dotSegment : undefined
  }
  if (typeof input !== "string") return "must be a string"
  if (input.length === 0) return "must not be empty"
  if (input.length > maxLength) return `must be at most ${maxLength} characters (got ${input.length})`
  if (input.trim() !== input) return "must not start or end with whitespace"
  if (forbidden.test(input)) return "must not contain control characters"
  if (invisible.test(input)) return "must hold at least one visible character"
  // "." and ".." are removed by URL normalisation: the request would reach another route.
  if (input === "." || input === "..") return dotSegment
  if (!input.isWellFormed()) return "must be well-formed Unicode"
  return undefined
}

/**
 * `input` encoded for a URL path segment, or `undefined` when it is refused
 * (`problemOf` says why). Unreserved ASCII ids, the common case, take a
 * fast path: one regular expression, no encoding.
 *
 * @since 0.1.0
 */
export const encode = (input: unknown): string | undefined => {
  if (typeof input === "string" && unreserved.test(input) && input !== "." && input !== "..") return input
  return problemOf(input) === undefined ? encodeURIComponent(input as string) : undefined
}

/**
 * `input` encoded for a URL path segment, or what is wrong with it (at
 * `index` of a list, if it came from one).
 *
 * @since 0.3.0
 */
export const encodeOrInvalid = (input: unknown, index?: number): string | Invalid => {
  const encoded = encode(input)
  return encoded !== undefined ? encoded : invalid(input, problemOf(input)!, index)
}

/**
 * The same checks for an id that travels in a JSON body (a batch), where it needs no encoding.
 *
 * @since 0.1.0
 */
export const check = (input: unknown, index?: number): Invalid | undefined => {
  const problem = problemOf(input)
  return problem === undefined ? undefined : invalid(input, problem, index)
}

/**
 * Ids read and checked per slice of a list. Checking an id costs about a
 * microsecond: a slice holds the shell's event loop for a few milliseconds
 * at most, whatever the size of the input, if it yields between slices.
 *
 * @since 0.1.0
 */
export const sliceSize = 4096

/**
 * A list of ids being read, slice by slice.
 *
 * @since 0.1.0
 */
export interface ListReader {
  /** The ids read so far: the first occurrence of each, in input order. */
  readonly ids: Array<string>
  /**
   * Reads and checks up to `sliceSize` more ids: `"more"` when the list
   * goes on, `"done"` at its end, or the refusal (the iterator is then
   * closed).
   */
  readonly next: () => Invalid | "more" | "done"
}

const iterableThrew: Invalid = { preview: "an iterable", description: "reading the ids failed: the iterable threw" }

const notIterable = (userIds: unknown): Invalid => ({
  preview: typeof userIds === "object" && userIds !== null && !Array.isArray(userIds) ? "an object" : preview(userIds),
  description: "createMany needs an iterable of user ids (an array, a Set…), not a single value"
})

/**
 * Starts reading the ids of a `createMany` call: every id is checked, the
 * first occurrence of each kept in input order, and the reading stops past
 * `maxIds` (an endless iterable ends there). An iterator that throws is a
 * refusal; what it threw is not kept (it could be anything, a secret
 * included). A value that is not an iterable of ids is refused at once.
 *
 * @since 0.1.0
 */
export const readList = (userIds: unknown, maxIds: number): ListReader | Invalid => {
  // A string, or a String object, is iterable too, character by character:
  // `createMany("u1")` would ask for users "u" and "1".
  if (
    typeof userIds !== "object" || userIds === null || userIds instanceof String ||
    typeof (userIds as { [Symbol.iterator]?: unknown })[Symbol.iterator] !== "function"
  ) {
    return notIterable(userIds)
  }
  let iterator: Iterator<unknown>
  try {
    iterator = (userIds as Iterable<unknown>)[Symbol.iterator]()
  } catch {
    return iterableThrew
  }
  return listReader(iterator, maxIds)
}

const listReader = (iterator: Iterator<unknown>, maxIds: number): ListReader => {
  const seen = new Set<string>()
  const ids: Array<string> = []
  let index = 0
  const take = (): Invalid | "more" | "done" => {
    const end = index + sliceSize
    while (index < end) {
      let next: IteratorResult<unknown>
      try {
        next = iterator.next()
      } catch {
        return { ...iterableThrew, description: `${iterableThrew.description} after ${index} ids`, index }
      }
      if (next.done === true) return "done"
      if (index >= maxIds) {
        return invalid(
          next.value,
          `createMany takes at most ${maxIds} ids per call (maxIdsPerCall): split the input`,
          index
        )
      }
      const id = next.value
      const refused = check(id, index)
      if (refused !== undefined) return refused
      index++
      if (!seen.has(id as string)) {
        seen.add(id as string)
        ids.push(id as string)
      }
    }
    return "more"
  }
  return {
    ids,
    next: () => {
      const outcome = take()
      if (typeof outcome === "object") closeQuietly(iterator)
      return outcome
    }
  }
}

// An iterator left before its end is told so (a generator's `finally` runs).
const closeQuietly = (iterator: Iterator<unknown>): void => {
  try {
    iterator.return?.()
  } catch {
    // its own failure to close is not the caller's error
  }
}
