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
export const productionUrl = "https://api.sfox.com"

export const defaults = {
  baseUrl: productionUrl,
  timeout: Duration.seconds(10),
  deadline: Duration.minutes(1),
  maxRetryAfter: Duration.seconds(30),
  maxBatchSize: 100,
  batchConcurrency: 4,
  maxIdsPerCall: 100_000,
  rateLimit: { limit: 250, interval: Duration.seconds(10) },
  batchWindow: Duration.millis(5),
  cache: { capacity: 10_000, refreshBefore: Duration.minutes(5) }
} as const

const loopbackHosts = new Set(["localhost", "[::1]"])
const isLoopback = (hostname: string) => loopbackHosts.has(hostname) || /^127(?:\.\d{1,3}){3}$/.test(hostname)

/**
 * The base URL as the service uses it (origin plus path prefix, no trailing
 * slash), or why it is refused: anything that could leak the key or reach
 * the wrong place.
 */
export const baseUrlOf = (input: string | URL): Either.Either<string, string> => {
  let url: URL
  try {
    url = new URL(String(input))
  } catch {
    return Either.left("is not an absolute URL")
  }
  if (url.protocol !== "https:" && !(url.protocol === "http:" && isLoopback(url.hostname))) {
    return Either.left("must use https: (http: is allowed only for loopback hosts)")
  }
  if (url.username !== "" || url.password !== "") return Either.left("must not hold credentials")
  if (url.search !== "" || String(input).includes("?")) return Either.left("must not have a query")
  if (url.hash !== "" || String(input).includes("#")) return Either.left("must not have a fragment")
  return Either.right(`${url.origin}${url.pathname.replace(/\/+$/, "")}`)
}

/**
 * The largest value each option takes. Past them a setting is a mistake (a
 * unit slip, `Infinity`): `batchWindow: "1 hour"` would hold every `get` for
 * an hour, a 10-minute attempt timeout outlives any sane caller.
 */
export const bounds = {
  timeout: Duration.minutes(10),
  deadline: Duration.hours(1),
  maxRetryAfter: Duration.hours(1),
  maxBatchSize: 100_000,
  batchConcurrency: 1024,
  maxIdsPerCall: 10_000_000,
  rateLimit: { limit: 1_000_000, interval: Duration.hours(1) },
  batchWindow: Duration.seconds(1),
  // A token lives 24 h: refreshing it earlier than that would never serve one.
  cache: { capacity: 10_000_000, refreshBefore: Duration.hours(24) }
} as const

const baseUrl = OptionSchema.withDefault(
  Schema.Unknown.pipe(Schema.transformOrFail(Schema.String, {
    strict: true,
    decode: (input, _, ast) =>
      typeof input === "string" || input instanceof URL
        ? Either.match(baseUrlOf(input), {
          onLeft: (message) => ParseResult.fail(new ParseResult.Type(ast, input, message)),
          onRight: ParseResult.succeed
        })
        : ParseResult.fail(new ParseResult.Type(ast, input, "must be a string or a URL")),
    encode: ParseResult.succeed
  })),
  () => defaults.baseUrl
)

const apiKey = OptionSchema.instance(
  (u): u is Redacted.Redacted<string> => Redacted.isRedacted(u) && typeof Redacted.value(u) === "string",
  "must be a Redacted string"
).pipe(
  // A key is a header value: anything but visible ASCII would be refused by
  // the HTTP client at send time, or worse, split the header.
  Schema.filter((key) => /^[\x21-\x7e]+$/.test(Redacted.value(key)), {
    message: () => "must be non-empty visible ASCII"
  })
)

const duration = (min: "positive" | "non-negative", max: Duration.Duration, fallback: Duration.Duration) =>
  OptionSchema.withDefault(OptionSchema.duration({ min, max }), () => fallback)

const positiveInt = (max: number, fallback: number) =>
  OptionSchema.withDefault(OptionSchema.positiveInt(max), () => fallback)

const Budget = Schema.Struct({
  limit: OptionSchema.positiveInt(bounds.rateLimit.limit),
  interval: OptionSchema.duration({ min: "positive", max: bounds.rateLimit.interval })
})

// Both fields, always: a missing one has no safe default (`{}` used to mean
// a limit of 0, `{ limit: 5 }` no limit at all).
const rateLimit = Schema.transformOrFail(Schema.Unknown, Schema.UndefinedOr(Schema.typeSchema(Budget)), {
  strict: true,
  decode: (input, options, ast) =>
    input === false
      ? ParseResult.succeed(undefined)
      : input === undefined
      ? ParseResult.succeed(defaults.rateLimit)
      : OptionSchema.isRecord(input) && input.limit !== undefined && input.interval !== undefined
      ? ParseResult.decodeUnknown(Budget)(input, options)
      : ParseResult.fail(new ParseResult.Type(ast, input, "must be false or { limit, interval } with both fields")),
  encode: ParseResult.succeed
})

const CacheSettings = Schema.Struct({
  capacity: positiveInt(bounds.cache.capacity, defaults.cache.capacity),
  refreshBefore: duration("non-negative", bounds.cache.refreshBefore, defaults.cache.refreshBefore).pipe(
    Schema.filter((d) => Duration.lessThan(d, bounds.cache.refreshBefore), {
      message: () => "must be shorter than a token's 24 h lifetime"
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
      : ParseResult.fail(new ParseResult.Type(ast, input, "must be a boolean or { capacity?, refreshBefore? }")),
  encode: ParseResult.succeed
})

/**
 * `UserTokenService.Options` as one schema: each option's shape, bounds and
 * default. `transformClient` is checked but kept on the options, not here.
 */
export const OptionsSchema = Schema.Struct({
  apiKey,
  baseUrl,
  timeout: duration("positive", bounds.timeout, defaults.timeout),
  deadline: duration("positive", bounds.deadline, defaults.deadline),
  retry: OptionSchema.withDefault(
    OptionSchema.instance(
      (u): u is Schedule.Schedule<unknown, UserTokenError> => Schedule.isSchedule(u),
      "must be a Schedule"
    ),
    () => defaultRetry
  ),
  maxRetryAfter: duration("non-negative", bounds.maxRetryAfter, defaults.maxRetryAfter),
  maxBatchSize: positiveInt(bounds.maxBatchSize, defaults.maxBatchSize),
  batchConcurrency: positiveInt(bounds.batchConcurrency, defaults.batchConcurrency),
  maxIdsPerCall: positiveInt(bounds.maxIdsPerCall, defaults.maxIdsPerCall),
  rateLimit,
  batchWindow: duration("non-negative", bounds.batchWindow, defaults.batchWindow),
  cache,
  transformClient: Schema.optionalWith(
    OptionSchema.instance((u): u is unknown => u === undefined || typeof u === "function", "must be a function"),
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

const keyVariables = ["SFOX_ENTERPRISE_API_KEY", "ENTERPRISE_API_KEY"] as const

// Decided outside `Config.redacted`, whose errors read "<redacted>" (as if a
// secret were hidden there), and saying what to set.
const noKey = (empty: ReadonlyArray<string>): ConfigError.ConfigError =>
  ConfigError.MissingData(
    [keyVariables[0]],
    `no API key: ${
      empty.length === 0 ? "" : `${empty.join(" and ")} ${empty.length === 1 ? "is" : "are"} set but empty; `
    }set SFOX_ENTERPRISE_API_KEY (or ENTERPRISE_API_KEY) to your sFOX Enterprise API key`
  )

/** `UserTokenService.apiKeyConfig`. */
export const apiKeyConfig: Config.Config<Redacted.Redacted<string>> = Config.all(keyVariables.map(keyVariable)).pipe(
  Config.mapOrFail((values) => {
    const key = values.find((value): value is Redacted.Redacted<string> => typeof value !== "string")
    if (key !== undefined) return Either.right(key)
    return Either.left(noKey(keyVariables.filter((_, i) => values[i] === "empty")))
  })
)

/** `UserTokenService.baseUrlConfig`. */
export const baseUrlConfig: Config.Config<string | undefined> = Config.string("SFOX_BASE_URL").pipe(
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
