import { ServiceOptions } from "@sfox-effect/domain"
import * as Config from "effect/Config"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Result from "effect/Result"
import * as Schedule from "effect/Schedule"
import * as Schema from "effect/Schema"
import * as SchemaIssue from "effect/SchemaIssue"
import * as SchemaParser from "effect/SchemaParser"
import * as SchemaTransformation from "effect/SchemaTransformation"
import * as Struct from "effect/Struct"
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
export const baseUrlOf = (input: string | URL): Result.Result<string, string> => {
  const checked = ServiceOptions.checkBaseUrl(input)
  return "url" in checked ? Result.succeed(checked.url) : Result.fail(checked.refused)
}

// The refusals name the rule, never the value, and keep no input: a base URL
// may hold a password (which is the first thing refused).
const refuse = (message: string) => Effect.fail(new SchemaIssue.InvalidValue({ message }))

const baseUrl = OptionSchema.withDefault(
  Schema.Unknown.pipe(Schema.decodeTo(
    Schema.String,
    SchemaTransformation.transformEffect({
      decode: (input: unknown) =>
        typeof input === "string" || input instanceof URL
          ? Result.match(baseUrlOf(input), { onFailure: refuse, onSuccess: Effect.succeed })
          : refuse(messages.baseUrl),
      encode: (url: string) => Effect.succeed<unknown>(url)
    })
  )),
  () => defaults.baseUrl
)

const apiKey = OptionSchema.instance(
  (u): u is Redacted.Redacted<string> => Redacted.isRedacted(u) && typeof Redacted.value(u) === "string",
  messages.apiKey
).check(
  // A key is a header value: anything but visible ASCII would be refused by
  // the HTTP client at send time, or worse, split the header.
  Schema.makeFilter((key: Redacted.Redacted<string>) => ServiceOptions.isHeaderSafe(Redacted.value(key)), {
    message: messages.apiKeyText
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

const decodeBudget = SchemaParser.decodeUnknownEffect(Budget)

type Budget = typeof Budget.Type

// Both fields, always: a missing one has no safe default (`{}` used to mean
// a limit of 0, `{ limit: 5 }` no limit at all).
const rateLimit = OptionSchema.withDefault(
  Schema.Unknown.pipe(Schema.decodeTo(
    Schema.UndefinedOr(Schema.toType(Budget)),
    SchemaTransformation.transformEffect({
      decode: (input: unknown, options): Effect.Effect<Budget | undefined, SchemaIssue.Issue> =>
        input === false
          ? Effect.succeed(undefined)
          : OptionSchema.isRecord(input) && input.limit !== undefined && input.interval !== undefined
          ? decodeBudget(input, options)
          : refuse(messages.rateLimit),
      encode: (budget: Budget | undefined) => Effect.succeed<unknown>(budget)
    })
  )),
  () => defaultBudget
)

const CacheSettings = Schema.Struct({
  capacity: positiveInt(bounds.cache.capacity, defaults.cache.capacity),
  refreshBefore: duration("non-negative", bounds.cache.refreshBeforeMillis, defaults.cache.refreshBeforeMillis).check(
    Schema.makeFilter((d: Duration.Duration) => Duration.isLessThan(d, longestRefresh), {
      message: messages.refreshBefore
    })
  )
})

const decodeCacheSettings = SchemaParser.decodeUnknownEffect(CacheSettings)

type CacheSettings = typeof CacheSettings.Type

const cache = OptionSchema.withDefault(
  Schema.Unknown.pipe(Schema.decodeTo(
    Schema.UndefinedOr(Schema.toType(CacheSettings)),
    SchemaTransformation.transformEffect({
      decode: (input: unknown, options): Effect.Effect<CacheSettings | undefined, SchemaIssue.Issue> =>
        input === false
          ? Effect.succeed(undefined)
          : input === true || OptionSchema.isRecord(input)
          ? decodeCacheSettings(input === true ? {} : input, options)
          : refuse(messages.cache),
      encode: (settings: CacheSettings | undefined) => Effect.succeed<unknown>(settings)
    })
  )),
  () => undefined
)

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
  transformClient: Schema.optionalKey(
    OptionSchema.instance((u): u is unknown => u === undefined || typeof u === "function", messages.transformClient)
  )
})

const decode = OptionSchema.decoder(OptionsSchema)

/** The options without the two `layerConfig` reads from the environment. */
const decodeRest = OptionSchema.decoder(OptionsSchema.mapFields(Struct.omit(["apiKey", "baseUrl"])))

/** Every option checked, every bad one reported, the defaults filled in. */
export const settings = (options: UserTokenService.Options): Effect.Effect<Settings, Config.ConfigError> =>
  Effect.fromResult(decode(options))

/**
 * The failures of the options other than `apiKey` and `baseUrl`, for
 * `layerConfig` to report with a bad variable: every bad value at once.
 */
export const problemsOfRest = (options: object): Result.Result<unknown, Config.ConfigError> => decodeRest(options)

// A variable set but empty (`SFOX_ENTERPRISE_API_KEY= cmd`) counts as unset,
// so the fallback still applies; the refusal says so. (Effect 4's
// `ConfigProvider.fromEnv` drops empty values itself unless asked to keep
// them with `preserveEmptyStrings`: only then is "empty" seen here.)
const keyVariable = (name: string): Config.Config<Redacted.Redacted<string> | "unset" | "empty"> =>
  Config.Redacted(name).pipe(
    Config.option,
    Config.map((key) => Option.isNone(key) ? "unset" : Redacted.value(key.value).length === 0 ? "empty" : key.value)
  )

const keyVariables = ServiceOptions.keyVariables

// Decided outside `Config.Redacted`, whose errors would read as if a secret
// were hidden there, and saying what to set: a missing key at the first
// variable's name, its message the whole advice.
const noKey = (empty: ReadonlyArray<string>): Config.ConfigError =>
  new Config.ConfigError(
    new Schema.SchemaError(
      new SchemaIssue.Pointer(
        [keyVariables[0]],
        new SchemaIssue.MissingKey({ messageMissingKey: ServiceOptions.noKeyAdvice(empty) })
      )
    )
  )

/** `UserTokenService.apiKeyConfig`. */
export const apiKeyConfig: Config.Config<Redacted.Redacted<string>> = Config.all(keyVariables.map(keyVariable)).pipe(
  Config.mapEffect((values) => {
    const key = values.find((value): value is Redacted.Redacted<string> => typeof value !== "string")
    return key !== undefined
      ? Effect.succeed(key)
      : Effect.fail(noKey(keyVariables.filter((_, i) => values[i] === "empty")))
  })
)

/**
 * `SFOX_BASE_URL` as it was set, checked here so that a bad value is
 * reported as the variable the user set (its path is SFOX_BASE_URL), not
 * as the `baseUrl` option.
 */
const BaseUrlVariable = Schema.String.check(
  Schema.makeFilter((url: string) =>
    Result.match(baseUrlOf(url), { onFailure: (message) => message, onSuccess: () => true })
  )
)

/** `UserTokenService.baseUrlConfig`. */
export const baseUrlConfig: Config.Config<string | undefined> = Config.schema(
  BaseUrlVariable,
  ServiceOptions.baseUrlVariable
).pipe(
  Config.option,
  Config.map(Option.getOrUndefined)
)

/**
 * `layerConfig`'s service: the key and base URL read from their `Config`s,
 * every bad variable reported with every bad option, then `make`.
 */
export const fromConfig = Effect.fnUntraced(function*<S, R>(
  options: UserTokenService.ConfigOptions,
  defaultKey: Config.Config<Redacted.Redacted<string>>,
  defaultUrl: Config.Config<string | undefined>,
  make: (options: UserTokenService.Options) => Effect.Effect<S, Config.ConfigError, R>
): Effect.fn.Return<S, Config.ConfigError, R> {
  const { apiKey = defaultKey, baseUrl = defaultUrl, ...rest } = options
  const key = yield* Effect.result(apiKey)
  const url = yield* Effect.result(baseUrl)
  if (Result.isFailure(key) || Result.isFailure(url)) {
    return yield* Effect.fail(OptionSchema.allFailures([key, url, problemsOfRest(rest)])!)
  }
  return yield* make(
    url.success === undefined
      ? { ...rest, apiKey: key.success }
      : { ...rest, apiKey: key.success, baseUrl: url.success }
  )
})
