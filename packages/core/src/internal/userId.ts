import * as Either from "effect/Either"
import { InvalidUserId } from "../SfoxError.js"

/** Ids longer than this are refused; sFOX's own ids are UUID-sized. */
export const maxUserIdLength = 256

// C0 and C1 control characters, DEL, and the Unicode line/paragraph
// separators: none belongs in an id, and CR/LF are header-injection vectors.
// eslint-disable-next-line no-control-regex
const forbidden = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/

const preview = (input: unknown): string => {
  if (typeof input !== "string") {
    return input === null ? "null" : Array.isArray(input) ? "an array" : `a ${typeof input}`
  }
  const shown = input.length > 40 ? `${input.slice(0, 40)}…` : input
  return JSON.stringify(shown)
}

const invalid = (input: unknown, description: string, index: number | undefined) =>
  Either.left(
    new InvalidUserId(
      index === undefined
        ? { userId: preview(input), description }
        : { userId: preview(input), description, index }
    )
  )

/**
 * Checks that an id can travel as exactly one URL path segment and come back
 * unchanged, and returns it encoded for the path.
 */
export const encodeUserId = (
  input: unknown,
  index?: number
): Either.Either<string, InvalidUserId> => {
  if (typeof input !== "string") return invalid(input, "must be a string", index)
  if (input.length === 0) return invalid(input, "must not be empty", index)
  if (input.length > maxUserIdLength) {
    return invalid(input, `must be at most ${maxUserIdLength} characters (got ${input.length})`, index)
  }
  if (input.trim() !== input) return invalid(input, "must not start or end with whitespace", index)
  if (forbidden.test(input)) return invalid(input, "must not contain control characters", index)
  // "." and ".." are removed by URL normalisation: the request would reach another route.
  if (input === "." || input === "..") return invalid(input, "must not be a dot segment", index)
  if (!input.isWellFormed()) return invalid(input, "must be well-formed Unicode", index)
  return Either.right(encodeURIComponent(input))
}
