import { assert } from "@effect/vitest"
import { Cause, ConfigError, Exit, Option } from "effect"

/**
 * A `ConfigError` as its leaves, each written as its kind and the path it
 * names joined with dots (`"InvalidData rateLimit.limit"`): whether a nested
 * option is one path segment or two is the error's business, which option it
 * names is the caller's.
 */
export const configLeaves = (error: ConfigError.ConfigError): ReadonlyArray<string> => {
  switch (error._op) {
    case "And":
    case "Or":
      return [...configLeaves(error.left), ...configLeaves(error.right)]
    default:
      return [`${error._op} ${error.path.join(".")}`]
  }
}

/**
 * Asserts that `exit` failed with a `ConfigError` (nothing else: no defect,
 * no other error) made of exactly the `expected` leaves, in order.
 */
export const assertConfigError = (
  exit: Exit.Exit<unknown, unknown>,
  expected: ReadonlyArray<string>,
  message = "the ConfigError"
): void => {
  if (Exit.isSuccess(exit)) return assert.fail(`${message}: succeeded with ${String(exit.value)}`)
  const failure = Cause.failureOption(exit.cause)
  if (Option.isNone(failure) || !ConfigError.isConfigError(failure.value)) {
    return assert.fail(`${message}: not a ConfigError: ${Cause.pretty(exit.cause)}`)
  }
  assert.deepStrictEqual(configLeaves(failure.value), expected, message)
}

/** The `ConfigError` `exit` failed with (fails the test when it is anything else). */
export const configErrorOf = (exit: Exit.Exit<unknown, unknown>): ConfigError.ConfigError => {
  const failure = Exit.isFailure(exit) ? Cause.failureOption(exit.cause) : Option.none()
  if (Option.isNone(failure) || !ConfigError.isConfigError(failure.value)) {
    return assert.fail(`not a ConfigError: ${Exit.isFailure(exit) ? Cause.pretty(exit.cause) : "a success"}`)
  }
  return failure.value
}
