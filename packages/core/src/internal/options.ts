import { ServiceOptions } from "@sfox-effect/domain"
import * as Config from "effect/Config"
import * as ConfigError from "effect/ConfigError"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as ParseResult from "effect/ParseResult"
import * as Redacted from "effect/Redacted"
import * as Schedule from "effect/Schedule"
import * as Schema from "effect/Schema"
import { defaultRetry } from "../RetryPolicy.js"
import type { UserTokenError } from "../SfoxError.js"
import type { UserTokenService } from "../UserTokenService.js"
import * as OptionSchema from "./optionSchema.js"

/** Options checked and filled with defaults. */
export interface Settings {
  readonly apiKey: Redacted.Redacted<string>
  /** Origin plus optional path prefix, no trailing slash. */
  readonly baseUrl: string
  readonly timeout: Duration.Duration
  readonly deadline: Duration.Duration
  readonly retry: Schedule.Schedule<unknown, UserTokenError>
  readonly maxRetryAfter: Duration.Duration
  readonly maxBatchSize: number
  readonly batchConcurrency: number
  readonly maxIdsPerCall: number
  readonly rateLimit: { readonly limit: number; readonly interval: Duration.Duration } | undefined
  readonly batchWindow: Duration.Duration
  readonly cache: { readonly capacity: number; readonly refreshBefore: Duration.Duration } | undefined
}

/** sFOX's production API: the default `baseUrl`, and `productionUrl` of the public API. */
export const productionUrl = ServiceOptions.productionUrl

// Each option's default and bound, the base URL rule and the refusals' words
// are the domain's `ServiceOptions`; here they become `Duration`s and schemas.
const { bounds, defaults, messages } = ServiceOptions

/**
 * The base URL as the service uses it (origin plus path prefix, no trailing
 * slash), or why it is refused (`ServiceOptions.checkBaseUrl`).
 */
export const baseUrlOf = (input: string | URL): Either.Either<string, string> => {
  const checked = ServiceOptions.checkBaseUrl(input)
  return "url" in checked ? Either.right(checked.url) : Either.left(checked.refused)
}

const baseUrl = OptionSchema.withDefault(
  Schema.Unknown.pipe(Schema.transformOrFail(Schema.String, {
    strict: true,
    decode: (input, _, ast) =>
      typeof input === "string" || input instanceof URL
        ? Either.match(baseUrlOf(input), {
          onLeft: (message) => ParseResult.fail(new ParseResult.Type(ast, input, message)),
          onRight: ParseResult.succeed
        })
        : ParseResult.fail(new ParseResult.Type(ast, input, messages.baseUrl)),
    encode: ParseResult.succeed
  })),
  () => defaults.baseUrl
)

const apiKey = OptionSchema.instance(
  (u): u is Redacted.Redacted<string> => Redacted.isRedacted(u) && typeof Redacted.value(u) === "string",
  messages.apiKey
).pipe(
  // A key is a header value: anything but visible ASCII would be refused by
  // the HTTP client at send time, or worse, split the header.
  Schema.filter((key) => ServiceOptions.isHeaderSafe(Redacted.value(key)), {
    message: () => messages.apiKeyText
  })
)

const duration = (min: "positive" | "non-negative", maxMillis: number, fallbackMillis: number) => {
  const fallback = Duration.millis(fallbackMillis)
  return OptionSchema.withDefault(OptionSchema.duration({ min, max: Duration.millis(maxMillis) }), () => fallback)
}

const positiveInt = (max: number, fallback: number) =>
  OptionSchema.withDefault(OptionSchema.positiveInt(max), () => fallback)

// The same objects every time, as defaults are.
const defaultBudget = { limit: defaults.rateLimit.limit, interval: Duration.millis(defaults.rateLimit.intervalMillis) }
const longestRefresh = Duration.millis(bounds.cache.refreshBeforeMillis)

const Budget = Schema.Struct({
  limit: OptionSchema.positiveInt(bounds.rateLimit.limit),
  interval: OptionSchema.duration({ min: "positive", max: Duration.millis(bounds.rateLimit.intervalMillis) })
})

// Both fields, always: a missing one has no safe default (`{}` used to mean
// a limit of 0, `{ limit: 5 }` no limit at all).
const rateLimit = Schema.transformOrFail(Schema.Unknown, Schema.UndefinedOr(Schema.typeSchema(Budget)), {
  strict: true,
  decode: (input, options, ast) =>
    input === false
      ? ParseResult.succeed(undefined)
      : input === undefined
      ? ParseResult.succeed(defaultBudget)
      : OptionSchema.isRecord(input) && input.limit !== undefined && input.interval !== undefined
      ? ParseResult.decodeUnknown(Budget)(input, options)
      : ParseResult.fail(new ParseResult.Type(ast, input, messages.rateLimit)),
  encode: ParseResult.succeed
})

const CacheSettings = Schema.Struct({
  capacity: positiveInt(bounds.cache.capacity, defaults.cache.capacity),
  refreshBefore: duration("non-negative", bounds.cache.refreshBeforeMillis, defaults.cache.refreshBeforeMillis).pipe(
    Schema.filter((d) => Duration.lessThan(d, longestRefresh), {
      message: () => messages.refreshBefore
    })
  )
})

const cache = Schema.transformOrFail(Schema.Unknown, Schema.UndefinedOr(Schema.typeSchema(CacheSettings)), {
  strict: true,
  decode: (input, options, ast) =>
    input === undefined || input === false
      ? ParseResult.succeed(undefined)
      : input === true || OptionSchema.isRecord(input)
      ? ParseResult.decodeUnknown(CacheSettings)(input === true ? {} : input, options)
      : ParseResult.fail(new ParseResult.Type(ast, input, messages.cache)),
  encode: ParseResult.succeed
})

/**
 * `UserTokenService.Options` as one schema: each option's shape, bounds and
 * default. `transformClient` is checked but kept on the options, not here.
 */
export const OptionsSchema = Schema.Struct({
  apiKey,
  baseUrl,
  timeout: duration("positive", bounds.timeoutMillis, defaults.timeoutMillis),
  deadline: duration("positive", bounds.deadlineMillis, defaults.deadlineMillis),
  retry: OptionSchema.withDefault(
    OptionSchema.instance(
      (u): u is Schedule.Schedule<unknown, UserTokenError> => Schedule.isSchedule(u),
      messages.retry
    ),
    () => defaultRetry
  ),
  maxRetryAfter: duration("non-negative", bounds.maxRetryAfterMillis, defaults.maxRetryAfterMillis),
  maxBatchSize: positiveInt(bounds.maxBatchSize, defaults.maxBatchSize),
  batchConcurrency: positiveInt(bounds.batchConcurrency, defaults.batchConcurrency),
  maxIdsPerCall: positiveInt(bounds.maxIdsPerCall, defaults.maxIdsPerCall),
  rateLimit,
  batchWindow: duration("non-negative", bounds.batchWindowMillis, defaults.batchWindowMillis),
  cache,
  transformClient: Schema.optionalWith(
    OptionSchema.instance((u): u is unknown => u === undefined || typeof u === "function", messages.transformClient),
    { exact: true }
  )
})

const decode = OptionSchema.decoder(OptionsSchema)

/** The options without the two `layerConfig` reads from the environment. */
const decodeRest = OptionSchema.decoder(OptionsSchema.pipe(Schema.omit("apiKey", "baseUrl")))

/** Every option checked, every bad one reported, the defaults filled in. */
export const settings = (options: UserTokenService.Options): Effect.Effect<Settings, ConfigError.ConfigError> =>
  Either.match(decode(options), { onLeft: Effect.fail, onRight: Effect.succeed })

/**
 * The failures of the options other than `apiKey` and `baseUrl`, for
 * `layerConfig` to report with a bad variable: every bad value at once.
 */
export const problemsOfRest = (options: object): ConfigError.ConfigError | undefined =>
  Either.match(decodeRest(options), { onLeft: (error) => error, onRight: () => undefined })

// A variable set but empty (`SFOX_ENTERPRISE_API_KEY= cmd`) counts as unset,
// so the fallback still applies; the refusal says so.
const keyVariable = (name: string): Config.Config<Redacted.Redacted<string> | "unset" | "empty"> =>
  Config.redacted(name).pipe(
    Config.option,
    Config.map((key) => key._tag === "None" ? "unset" : Redacted.value(key.value).length === 0 ? "empty" : key.value)
  )

const keyVariables = ServiceOptions.keyVariables

// Decided outside `Config.redacted`, whose errors read "<redacted>" (as if a
// secret were hidden there), and saying what to set.
const noKey = (empty: ReadonlyArray<string>): ConfigError.ConfigError =>
  ConfigError.MissingData([keyVariables[0]], ServiceOptions.noKeyAdvice(empty))

/** `UserTokenService.apiKeyConfig`. */
export const apiKeyConfig: Config.Config<Redacted.Redacted<string>> = Config.all(keyVariables.map(keyVariable)).pipe(
  Config.mapOrFail((values) => {
    const key = values.find((value): value is Redacted.Redacted<string> => typeof value !== "string")
    if (key !== undefined) return Either.right(key)
    return Either.left(noKey(keyVariables.filter((_, i) => values[i] === "empty")))
  })
)

/** `UserTokenService.baseUrlConfig`. */
export const baseUrlConfig: Config.Config<string | undefined> = Config.string(ServiceOptions.baseUrlVariable).pipe(
  // Checked here so that a bad value is reported as the variable the user set
  // (the path gets SFOX_BASE_URL), not as the `baseUrl` option.
  Config.mapOrFail((url) =>
    Either.mapBoth(baseUrlOf(url), {
      onLeft: (message) => ConfigError.InvalidData([], message),
      onRight: () => url
    })
  ),
  Config.option,
  Config.map((option) => option._tag === "Some" ? option.value : undefined)
)

/**
 * `layerConfig`'s service: the key and base URL read from their `Config`s,
 * every bad variable reported with every bad option, then `make`.
 */
export const fromConfig = <S, R>(
  options: UserTokenService.ConfigOptions,
  defaultKey: Config.Config<Redacted.Redacted<string>>,
  defaultUrl: Config.Config<string | undefined>,
  make: (options: UserTokenService.Options) => Effect.Effect<S, ConfigError.ConfigError, R>
): Effect.Effect<S, ConfigError.ConfigError, R> => {
  const { apiKey = defaultKey, baseUrl = defaultUrl, ...rest } = options
  return Effect.gen(function*() {
    const key = yield* Effect.either(apiKey)
    const url = yield* Effect.either(baseUrl)
    if (Either.isLeft(key) || Either.isLeft(url)) {
      const rejected = OptionSchema.allFailures([key, url])!
      const others = problemsOfRest(rest)
      return yield* Effect.fail(others === undefined ? rejected : ConfigError.And(rejected, others))
    }
    return yield* make(
      url.right === undefined ? { ...rest, apiKey: key.right } : { ...rest, apiKey: key.right, baseUrl: url.right }
    )
  })
}
