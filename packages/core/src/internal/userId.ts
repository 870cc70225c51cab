import { UserId } from "@sfox-effect/domain"
import * as Either from "effect/Either"
import { InvalidUserId } from "../SfoxError.js"

/** Ids longer than this are refused; sFOX's own ids are UUID-sized. */
export const maxUserIdLength = UserId.maxLength

/**
 * Checks that an id can travel as exactly one URL path segment and come back
 * unchanged, and returns it encoded for the path (the rules: the domain's
 * `UserId`).
 */
export const encodeUserId = (
  input: unknown,
  index?: number
): Either.Either<string, InvalidUserId> => {
  const encoded = UserId.encodeOrInvalid(input, index)
  return typeof encoded === "string" ? Either.right(encoded) : Either.left(new InvalidUserId(encoded))
}

/** The same checks for an id that travels in a JSON body (a batch), where it needs no encoding. */
export const checkUserId = (
  input: unknown,
  index?: number
): InvalidUserId | undefined => {
  const invalid = UserId.check(input, index)
  return invalid === undefined ? undefined : new InvalidUserId(invalid)
}
