/**
 * The parts every package's options are declared with: one `effect/Schema`
 * per options record, decoded once, every bad option reported as a
 * `ConfigError` naming it. Shared by core, `@sfox-effect/node` and
 * `@sfox-effect/redis`. NOT FOR USERS: reached through the subpath
 * `@sfox-effect/core/internal/optionSchema`, it is not covered by semver and
 * may change in any release.
 *
 * Each option schema decodes from `unknown` (options come from JavaScript
 * callers too, and from the environment), owns its default (`undefined` or
 * an absent key takes it) and says in one message what it accepts: the
 * message overrides the schema's own ("Expected …, actual …"), which would
 * echo the value (a key, a password in a URL).
 *
 * @since 0.2.0
 */
import * as ConfigError from "effect/ConfigError"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as ParseResult from "effect/ParseResult"
import * as Schema from "effect/Schema"

/** A schema's failure message, in place of every message of what it is made of. */
export const says = (message: string) => ({ message: () => ({ message, override: true }) })

/**
 * An option: absent or `undefined` is `fallback()`, anything else must pass
 * `schema`.
 */
export const withDefault = <A, I, R>(schema: Schema.Schema<A, I, R>, fallback: () => A): Schema.Schema<A, unknown, R> =>
  Schema.transformOrFail(Schema.Unknown, Schema.typeSchema(schema), {
    strict: true,
    decode: (input, options) =>
      input === undefined ? ParseResult.succeed(fallback()) : ParseResult.decodeUnknown(schema)(input, options),
    encode: ParseResult.succeed
  })

/** An option without a default: absent or `undefined` stays `undefined`, anything else must pass `schema`. */
export const optional = <A, I, R>(schema: Schema.Schema<A, I, R>): Schema.Schema<A | undefined, unknown, R> =>
  Schema.transformOrFail(Schema.Unknown, Schema.UndefinedOr(Schema.typeSchema(schema)), {
    strict: true,
    decode: (input, options) =>
      input === undefined ? ParseResult.succeed(undefined) : ParseResult.decodeUnknown(schema)(input, options),
    encode: ParseResult.succeed
  })

/** Anything `Duration.decode` takes (`"5 seconds"`, millis, a `Duration`), as a `Duration`. */
export const DurationInput: Schema.Schema<Duration.Duration, unknown> = Schema.transformOrFail(
  Schema.Unknown,
  Schema.DurationFromSelf,
  {
    strict: true,
    decode: (input, _, ast) => {
      const decoded = Duration.decodeUnknown(input)
      return decoded._tag === "Some" ? ParseResult.succeed(decoded.value) : ParseResult.fail(
        new ParseResult.Type(ast, input)
      )
    },
    encode: ParseResult.succeed
  }
)

/**
 * A finite duration, positive (or, with `min: "non-negative"`, zero too),
 * at most `max` when given.
 */
export const duration = (range: {
  readonly min: "positive" | "non-negative"
  readonly max?: Duration.Duration | undefined
}): Schema.Schema<Duration.Duration, unknown> => {
  const { max, min } = range
  const message = max === undefined
    ? `must be a ${min} duration`
    : `must be a ${min} duration of at most ${Duration.format(max)}`
  return DurationInput.pipe(
    Schema.filter((value) =>
      (min === "positive" ? Duration.greaterThan(value, Duration.zero) : !Duration.lessThan(value, Duration.zero)) &&
      Duration.isFinite(value) && (max === undefined || !Duration.greaterThan(value, max))
    ),
    Schema.annotations(says(message))
  )
}

/** An integer from 1 to `max` (any safe integer from 1 without one). */
export const positiveInt = (max?: number): Schema.Schema<number, unknown> =>
  Schema.Unknown.pipe(
    Schema.compose(Schema.Number),
    Schema.int(),
    Schema.between(1, max ?? Number.MAX_SAFE_INTEGER),
    Schema.annotations(says(max === undefined ? "must be a positive integer" : `must be an integer from 1 to ${max}`))
  )

/** A value `is` recognises, or a failure saying `message`. */
export const instance = <A>(is: (u: unknown) => u is A, message: string): Schema.Schema<A, unknown> =>
  Schema.Unknown.pipe(Schema.filter(is), Schema.annotations(says(message))) as unknown as Schema.Schema<A, unknown>

/** Whether `u` is a plain record (an options object, or a nested one). */
export const isRecord = (u: unknown): u is Record<string, unknown> =>
  typeof u === "object" && u !== null && !Array.isArray(u)

/**
 * A `ParseError` as a `ConfigError`: one `InvalidData` per bad option, named
 * by its path (under `prefix`), joined with `And` in the options' order.
 */
export const configErrorOf = (
  error: ParseResult.ParseError,
  prefix: ReadonlyArray<string> = []
): ConfigError.ConfigError => {
  const seen = new Set<string>()
  const leaves: Array<ConfigError.ConfigError> = []
  for (const issue of ParseResult.ArrayFormatter.formatErrorSync(error)) {
    const path = [...prefix, ...issue.path.map(String)]
    const key = JSON.stringify([path, issue.message])
    if (seen.has(key)) continue
    seen.add(key)
    leaves.push(ConfigError.InvalidData(path, issue.message))
  }
  return leaves.reduce((all, leaf) => ConfigError.And(all, leaf))
}

/**
 * Decodes options with `schema`, collecting every bad option (not only the
 * first) into one `ConfigError`. Anything but an object fails as a whole.
 */
export const decoder = <A, I>(
  schema: Schema.Schema<A, I>,
  prefix: ReadonlyArray<string> = []
): (input: unknown) => Either.Either<A, ConfigError.ConfigError> => {
  const decode = Schema.decodeUnknownEither(schema, { errors: "all", onExcessProperty: "ignore" })
  return (input) =>
    isRecord(input)
      ? Either.mapLeft(decode(input), (error) => configErrorOf(error, prefix))
      : Either.left(ConfigError.InvalidData([...prefix], "options must be an object"))
}

/** `decoder` as an effect. */
export const decodeEffect = <A, I>(
  schema: Schema.Schema<A, I>,
  prefix: ReadonlyArray<string> = []
): (input: unknown) => Effect.Effect<A, ConfigError.ConfigError> => {
  const decode = decoder(schema, prefix)
  return (input) => Either.match(decode(input), { onLeft: Effect.fail, onRight: Effect.succeed })
}

/**
 * Every failure of `results`, joined as one `ConfigError` (so that a bad
 * variable and a bad option are reported together), or `undefined` when none
 * failed.
 */
export const allFailures = (
  results: ReadonlyArray<Either.Either<unknown, ConfigError.ConfigError>>
): ConfigError.ConfigError | undefined => {
  const failures = results.flatMap((result) => Either.isLeft(result) ? [result.left] : [])
  return failures.length === 0 ? undefined : failures.reduce((all, failure) => ConfigError.And(all, failure))
}
