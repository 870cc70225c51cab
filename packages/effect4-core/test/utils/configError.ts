import { assert } from "@effect/vitest"
import { Cause, Config, Exit, Option, Schema, type SchemaIssue } from "effect"

/**
 * A schema issue as its leaves, each written as its kind and the path the
 * `Pointer`s above it name, joined with dots. A missing key is `MissingData`
 * (3.x's name for it), any other leaf `InvalidData`.
 */
const issueLeaves = (issue: SchemaIssue.Issue, path: ReadonlyArray<PropertyKey>): Array<string> => {
  switch (issue._tag) {
    case "Pointer":
      return issueLeaves(issue.issue, [...path, ...issue.path])
    case "Composite":
    case "AnyOf":
      return issue.issues.flatMap((inner) => issueLeaves(inner, path))
    case "Filter":
    case "Encoding":
      return issueLeaves(issue.issue, path)
    case "MissingKey":
      return [`MissingData ${path.map(String).join(".")}`]
    default:
      return [`InvalidData ${path.map(String).join(".")}`]
  }
}

/**
 * A `ConfigError` as its leaves, each written as its kind and the path it
 * names joined with dots (`"InvalidData rateLimit.limit"`): whether a nested
 * option is one path segment or two is the error's business, which option it
 * names is the caller's.
 *
 * Effect 4's `ConfigError` wraps a `SchemaError` (its issue tree names the
 * paths) or a `SourceError` (the provider could not be read).
 */
export const configLeaves = (error: Config.ConfigError): ReadonlyArray<string> =>
  Schema.isSchemaError(error.cause) ? issueLeaves(error.cause.issue, []) : [`SourceUnavailable ${error.cause.message}`]

const isConfigError = (u: unknown): u is Config.ConfigError => u instanceof Config.ConfigError

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
  const failure = Cause.findErrorOption(exit.cause)
  if (Option.isNone(failure) || !isConfigError(failure.value)) {
    return assert.fail(`${message}: not a ConfigError: ${Cause.pretty(exit.cause)}`)
  }
  assert.deepStrictEqual(configLeaves(failure.value), expected, message)
}

/** The `ConfigError` `exit` failed with (fails the test when it is anything else). */
export const configErrorOf = (exit: Exit.Exit<unknown, unknown>): Config.ConfigError => {
  const failure = Exit.isFailure(exit) ? Cause.findErrorOption(exit.cause) : Option.none()
  if (Option.isNone(failure) || !isConfigError(failure.value)) {
    return assert.fail(`not a ConfigError: ${Exit.isFailure(exit) ? Cause.pretty(exit.cause) : "a success"}`)
  }
  return failure.value
}
