import * as Either from "effect/Either"
import { InvalidUserId } from "../SfoxError.js"
import { scrub } from "./scrub.js"

/** Ids longer than this are refused; sFOX's own ids are UUID-sized. */
export const maxUserIdLength = 256

// C0 and C1 control characters, DEL, and the Unicode line/paragraph
// separators: none belongs in an id, and CR/LF are header-injection vectors.
// eslint-disable-next-line no-control-regex
const forbidden = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/

// A caller may pass a secret by mistake (the key with a stray newline, a
// token where an id belongs): the whole input is scrubbed before a short
// preview of it is cut, so no part of a secret survives.
export const preview = (input: unknown, secrets: ReadonlyArray<string>): string => {
  if (typeof input !== "string") {
    return input === null ? "null" : Array.isArray(input) ? "an array" : `a ${typeof input}`
  }
  const clean = scrub(input.length > 1024 ? input.slice(0, 1024) : input, secrets)
  return JSON.stringify(clean.length > 24 ? `${clean.slice(0, 24)}…` : clean)
}

const invalid = (input: unknown, description: string, index: number | undefined, secrets: ReadonlyArray<string>) =>
  new InvalidUserId(
    index === undefined
      ? { userId: preview(input, secrets), description }
      : { userId: preview(input, secrets), description, index }
  )

const problemOf = (input: unknown): string | undefined => {
  if (typeof input !== "string") return "must be a string"
  if (input.length === 0) return "must not be empty"
  if (input.length > maxUserIdLength) return `must be at most ${maxUserIdLength} characters (got ${input.length})`
  if (input.trim() !== input) return "must not start or end with whitespace"
  if (forbidden.test(input)) return "must not contain control characters"
  // "." and ".." are removed by URL normalisation: the request would reach another route.
  if (input === "." || input === "..") return "must not be a dot segment"
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
