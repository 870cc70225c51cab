/**
 * The parts every package's options are declared with: one `effect/Schema`
 * per options record, decoded once, every bad option reported in one
 * `ConfigError` naming it. Shared by core, `@sfox-effect/effect4-node` and
 * `@sfox-effect/effect4-redis`. NOT FOR USERS: reached through the subpath
 * `@sfox-effect/effect4-core/internal/optionSchema`, it is not covered by
 * semver and may change in any release.
 *
 * Each option schema decodes from `unknown` (options come from JavaScript
 * callers too, and from the environment), owns its default (`undefined` or
 * an absent key takes it) and says in one message what it accepts: `says`
 * puts that message in place of every issue of what the option is made of,
 * and no issue keeps the value it refuses (a key, a password in a URL).
 *
 * Effect 4's `ConfigError` holds one `SchemaError` (or a provider's
 * `SourceError`), whose `issue` is a tree. Every bad option is one
 * `SchemaIssue.Pointer` whose `path` names the option (`["rateLimit",
 * "limit"]`) or the environment variable (`["SFOX_BASE_URL"]`), all of them
 * under one `SchemaIssue.Composite`: where 3.x joined one
 * `ConfigError.InvalidData` per bad option with `ConfigError.And`.
 *
 * @since 0.2.0
 */
import * as Config from "effect/Config"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Predicate from "effect/Predicate"
import * as Result from "effect/Result"
import * as Schema from "effect/Schema"
import * as SchemaGetter from "effect/SchemaGetter"
import * as SchemaIssue from "effect/SchemaIssue"
import * as SchemaParser from "effect/SchemaParser"
import * as SchemaTransformation from "effect/SchemaTransformation"

/**
 * A schema that fails with `message` alone, in place of whatever issues its
 * parts (types, checks, transformations) report: one message per option,
 * saying what it accepts, never the value.
 */
export const says = (message: string) => {
  const refusal = Effect.fail(new SchemaIssue.InvalidValue({ message }))
  return <S extends Schema.Constraint>(schema: S): Schema.middlewareDecoding<S, S["DecodingServices"]> =>
    Schema.catchDecoding<S>(() => refusal)(schema)
}

// The default is a decoded value, taken before `schema` runs: what `schema`
// decodes is never replaced (`rateLimit: false` decodes to `undefined`, which
// must stay). Effect 4's `withDecodingDefaultType` applies its default after
// the decoding, to an `undefined` result too.
const defaulted = <S extends Schema.Constraint, A>(schema: S, fallback: () => A) => {
  const decode = SchemaParser.decodeUnknownEffect(schema)
  return SchemaGetter.transformOptionalEffect((input: Option.Option<unknown>, options) =>
    Option.isNone(input) || input.value === undefined
      ? Effect.sync(() => Option.some<S["Type"] | A>(fallback()))
      : Effect.map(decode(input.value, options), Option.some<S["Type"] | A>)
  )
}

/**
 * An option: absent or `undefined` is `fallback()`, anything else must pass
 * `schema`.
 */
export const withDefault = <S extends Schema.Constraint>(
  schema: S,
  fallback: () => S["Type"]
): Schema.decodeTo<Schema.toType<S>, Schema.optional<Schema.Unknown>, S["DecodingServices"]> =>
  Schema.optional(Schema.Unknown).pipe(Schema.decodeTo(Schema.toType(schema), {
    decode: defaulted(schema, fallback),
    encode: SchemaGetter.passthrough({ strict: false })
  }))

/** An option without a default: absent or `undefined` is `undefined`, anything else must pass `schema`. */
export const optional = <S extends Schema.Constraint>(
  schema: S
): Schema.decodeTo<
  Schema.toType<Schema.UndefinedOr<S>>,
  Schema.optional<Schema.Unknown>,
  S["DecodingServices"]
> =>
  Schema.optional(Schema.Unknown).pipe(Schema.decodeTo(Schema.toType(Schema.UndefinedOr(schema)), {
    decode: defaulted(schema, () => undefined),
    encode: SchemaGetter.passthrough({ strict: false })
  }))

const durationKeys = new Set([
  "weeks",
  "days",
  "hours",
  "minutes",
  "seconds",
  "milliseconds",
  "microseconds",
  "nanoseconds"
])

// What `Duration.fromInput` reads, checked first: it takes any object as a
// `DurationObject` (so `{}` or `{ timeout: 5 }` would be a zero duration).
const isDurationInput = (u: unknown): u is Duration.Input => {
  if (Duration.isDuration(u) || typeof u === "bigint" || typeof u === "string") return true
  if (typeof u === "number") return !Number.isNaN(u)
  if (Array.isArray(u)) return u.length === 2 && u.every(Predicate.isNumber)
  if (!Predicate.isObject(u)) return false
  const keys = Object.keys(u)
  return keys.length > 0 && keys.every((key) => durationKeys.has(key))
}

const notADuration = new SchemaIssue.InvalidValue({ message: "must be a duration" })

/** Anything `Duration.fromInput` takes (`"5 seconds"`, millis, a `Duration`), as a `Duration`. */
export const DurationInput: Schema.decodeTo<Schema.Duration, Schema.Unknown> = Schema.Unknown.pipe(
  Schema.decodeTo(
    Schema.Duration,
    SchemaTransformation.transformEffect({
      decode: (input: unknown) => {
        const decoded = isDurationInput(input) ? Duration.fromInput(input) : Option.none()
        return Option.isSome(decoded) ? Effect.succeed(decoded.value) : Effect.fail(notADuration)
      },
      encode: (duration: Duration.Duration) => Effect.succeed<unknown>(duration)
    })
  )
)

/**
 * A finite duration, positive (or, with `min: "non-negative"`, zero too),
 * at most `max` when given.
 */
export const duration = (range: {
  readonly min: "positive" | "non-negative"
  readonly max?: Duration.Duration | undefined
}): Schema.Codec<Duration.Duration, unknown> => {
  const { max, min } = range
  const message = max === undefined
    ? `must be a ${min} duration`
    : `must be a ${min} duration of at most ${Duration.format(max)}`
  return DurationInput.check(
    Schema.makeFilter((value: Duration.Duration) =>
      (min === "positive" ? Duration.isPositive(value) : !Duration.isNegative(value)) &&
      Duration.isFinite(value) && (max === undefined || Duration.isLessThanOrEqualTo(value, max))
    )
  ).pipe(says(message))
}

/** An integer from 1 to `max` (any safe integer from 1 without one). */
export const positiveInt = (max?: number): Schema.Codec<number, unknown> =>
  Schema.Number.check(
    Schema.isInt(),
    Schema.isBetween({ minimum: 1, maximum: max ?? Number.MAX_SAFE_INTEGER })
  ).pipe(says(max === undefined ? "must be a positive integer" : `must be an integer from 1 to ${max}`))

/** A value `is` recognises, or a failure saying `message`. */
export const instance = <A>(is: (u: unknown) => u is A, message: string): Schema.Codec<A, unknown> =>
  Schema.declare(is).pipe(says(message))

/** Whether `u` is a plain record (an options object, or a nested one). */
export const isRecord = (u: unknown): u is Record<string, unknown> => Predicate.isObject(u) && !Array.isArray(u)

// A `Composite` names the schema its issues are about; a joined error is
// about no one schema.
const anything = Schema.Unknown.ast

const standard = SchemaIssue.makeFormatterStandardSchemaV1()

const at = (path: ReadonlyArray<PropertyKey>, issue: SchemaIssue.Issue): SchemaIssue.Issue =>
  path.length === 0 ? issue : new SchemaIssue.Pointer(path, issue)

/**
 * `issue` as one `Pointer` per bad option, its full path (under `prefix`)
 * to one leaf, in the options' order: a `MissingKey`, or an `InvalidValue`
 * whose message is the one the formatter reads there (a filter's message in
 * place of what is under it). The same shape whatever the schema was made
 * of, for whoever reads the error.
 */
const pointers = (issue: SchemaIssue.Issue, prefix: ReadonlyArray<PropertyKey>): Array<SchemaIssue.Issue> => {
  switch (issue._tag) {
    case "Pointer":
      return pointers(issue.issue, [...prefix, ...issue.path])
    case "Composite":
      return issue.issues.flatMap((child) => pointers(child, prefix))
    case "Encoding":
      return pointers(issue.issue, prefix)
    case "MissingKey":
    case "InvalidValue":
      return [at(prefix, issue)]
    default:
      return standard(issue).issues.map(({ message, path = [] }) =>
        at(
          [...prefix, ...path.map((segment) => typeof segment === "object" ? segment.key : segment)],
          new SchemaIssue.InvalidValue({ message })
        )
      )
  }
}

const format = SchemaIssue.makeFormatterDefault()

/** `issues` as one issue: the one, or all of them (the same message at the same path once). */
const joined = (issues: ReadonlyArray<SchemaIssue.Issue>): SchemaIssue.Issue => {
  const seen = new Set<string>()
  const kept: Array<SchemaIssue.Issue> = []
  for (const issue of issues) {
    const key = format(issue)
    if (seen.has(key)) continue
    seen.add(key)
    kept.push(issue)
  }
  const [first, ...rest] = kept
  if (first === undefined) return new SchemaIssue.InvalidValue({ message: "invalid options" })
  return rest.length === 0 ? first : new SchemaIssue.Composite(anything, [first, ...rest])
}

/**
 * A decoding failure as a `ConfigError`: one `Pointer` per bad option,
 * named by its path (under `prefix`), under one `Composite` in the
 * options' order.
 */
export const configErrorOf = (
  error: Schema.SchemaError,
  prefix: ReadonlyArray<string> = []
): Config.ConfigError => new Config.ConfigError(new Schema.SchemaError(joined(pointers(error.issue, prefix))))

/** The `ConfigError` of one bad option (or variable) at `path`: `message` says what it accepts. */
export const invalidOption = (path: ReadonlyArray<string>, message: string): Config.ConfigError =>
  new Config.ConfigError(new Schema.SchemaError(at(path, new SchemaIssue.InvalidValue({ message }))))

/**
 * Decodes options with `schema`, collecting every bad option (not only the
 * first) into one `ConfigError`. Anything but an object fails as a whole.
 */
export const decoder = <S extends Schema.ConstraintDecoder<unknown>>(
  schema: S,
  prefix: ReadonlyArray<string> = []
): (input: unknown) => Result.Result<S["Type"], Config.ConfigError> => {
  const decode = Schema.decodeUnknownResult(schema, { errors: "all", onExcessProperty: "ignore" })
  const notAnObject = configErrorOf(
    new Schema.SchemaError(new SchemaIssue.InvalidValue({ message: "options must be an object" })),
    prefix
  )
  return (input) =>
    isRecord(input)
      ? Result.mapError(decode(input), (error) => configErrorOf(error, prefix))
      : Result.fail(notAnObject)
}

/** `decoder` as an effect. */
export const decodeEffect = <S extends Schema.ConstraintDecoder<unknown>>(
  schema: S,
  prefix: ReadonlyArray<string> = []
): (input: unknown) => Effect.Effect<S["Type"], Config.ConfigError> => {
  const decode = decoder(schema, prefix)
  return (input) => Effect.fromResult(decode(input))
}

/**
 * Every failure of `results`, joined as one `ConfigError` (so that a bad
 * variable and a bad option are reported together), or `undefined` when none
 * failed. A provider that could not be read (a `SourceError`) is reported
 * alone: what it holds was not seen.
 */
export const allFailures = (
  results: ReadonlyArray<Result.Result<unknown, Config.ConfigError>>
): Config.ConfigError | undefined => {
  const failures = results.flatMap((result) => Result.isFailure(result) ? [result.failure] : [])
  if (failures.length <= 1) return failures[0]
  const issues: Array<SchemaIssue.Issue> = []
  for (const failure of failures) {
    if (!Schema.isSchemaError(failure.cause)) return failure
    for (const issue of pointers(failure.cause.issue, [])) issues.push(issue)
  }
  return new Config.ConfigError(new Schema.SchemaError(joined(issues)))
}
