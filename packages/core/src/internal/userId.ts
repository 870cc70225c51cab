import * as Either from "effect/Either"
import { InvalidUserId } from "../SfoxError.js"

/** Ids longer than this are refused; sFOX's own ids are UUID-sized. */
export const maxUserIdLength = 256

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

/** A description of a refused input that can never hold a secret or a part of one. */
export const preview = (input: unknown, _secrets: ReadonlyArray<string>): string => {
  if (typeof input !== "string") {
    return input === null ? "null" : Array.isArray(input) ? "an array" : `a ${typeof input}`
  }
  return input.length <= maxPreviewLength
    ? escapeText(input)
    : `(${input.length} characters, fingerprint ${fingerprint(input)})`
}

const invalid = (input: unknown, description: string, index: number | undefined, secrets: ReadonlyArray<string>) =>
  new InvalidUserId(
    index === undefined
      ? { preview: preview(input, secrets), description }
      : { preview: preview(input, secrets), description, index }
  )

// Ids of unreserved ASCII only (UUIDs and most ids): within the length,
// nothing to trim, nothing hidden, well-formed, and the same once encoded
// for a path. Such ids skip the checks below but the dot segments', and
// their encoding: every mint and every id of a batch is checked.
const unreserved = /^[A-Za-z0-9\-._~]{1,256}$/

const dotSegment = "must not be a dot segment"

const problemOf = (input: unknown): string | undefined => {
  if (typeof input === "string" && unreserved.test(input)) {
    return input === "." || input === ".." ? dotSegment : undefined
  }
  if (typeof input !== "string") return "must be a string"
  if (input.length === 0) return "must not be empty"
  if (input.length > maxUserIdLength) return `must be at most ${maxUserIdLength} characters (got ${input.length})`
  if (input.trim() !== input) return "must not start or end with whitespace"
  if (forbidden.test(input)) return "must not contain control characters"
  if (invisible.test(input)) return "must hold at least one visible character"
  // "." and ".." are removed by URL normalisation: the request would reach another route.
  if (input === "." || input === "..") return dotSegment
  if (!input.isWellFormed()) return "must be well-formed Unicode"
  return undefined
}

/**
 * Checks that an id can travel as exactly one URL path segment and come back
 * unchanged, and returns it encoded for the path.
 */
export const encodeUserId = (
  input: unknown,
  index?: number,
  secrets: ReadonlyArray<string> = []
): Either.Either<string, InvalidUserId> => {
  if (typeof input === "string" && unreserved.test(input) && input !== "." && input !== "..") {
    return Either.right(input)
  }
  const problem = problemOf(input)
  return problem === undefined
    ? Either.right(encodeURIComponent(input as string))
    : Either.left(invalid(input, problem, index, secrets))
}

/** The same checks for an id that travels in a JSON body (a batch), where it needs no encoding. */
export const checkUserId = (
  input: unknown,
  index: number | undefined,
  secrets: ReadonlyArray<string>
): InvalidUserId | undefined => {
  const problem = problemOf(input)
  return problem === undefined ? undefined : invalid(input, problem, index, secrets)
}
