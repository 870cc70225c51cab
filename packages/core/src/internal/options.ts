import * as ConfigError from "effect/ConfigError"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Redacted from "effect/Redacted"
import * as Schedule from "effect/Schedule"
import { defaultRetry } from "../RetryPolicy.js"
import type { UserTokenError } from "../SfoxError.js"
import type { UserTokenService } from "../UserTokenService.js"

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

type Check<A> = Either.Either<A, ConfigError.ConfigError>
const invalid = (key: string, message: string): Check<never> => Either.left(ConfigError.InvalidData([key], message))

/** Refuses any base URL that could leak the key or reach the wrong place. */
export const checkBaseUrl = (input: string | URL): Check<string> => {
  let url: URL
  try {
    url = new URL(String(input))
  } catch {
    return invalid("baseUrl", "is not an absolute URL")
  }
  if (url.protocol !== "https:" && !(url.protocol === "http:" && isLoopback(url.hostname))) {
    return invalid("baseUrl", "must use https: (http: is allowed only for loopback hosts)")
  }
  if (url.username !== "" || url.password !== "") return invalid("baseUrl", "must not hold credentials")
  if (url.search !== "" || String(input).includes("?")) return invalid("baseUrl", "must not have a query")
  if (url.hash !== "" || String(input).includes("#")) return invalid("baseUrl", "must not have a fragment")
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

const isRecord = (u: unknown): u is Record<string, unknown> => typeof u === "object" && u !== null && !Array.isArray(u)

const duration = (
  key: string,
  input: unknown,
  fallback: Duration.Duration,
  min: "positive" | "non-negative",
  max: Duration.Duration
): Check<Duration.Duration> => {
  if (input === undefined) return Either.right(fallback)
  const decoded = Duration.decodeUnknown(input)
  const range = `a ${min} duration of at most ${Duration.format(max)}`
  if (decoded._tag === "None") return invalid(key, `must be ${range}`)
  const value = decoded.value
  const tooSmall = min === "positive"
    ? !Duration.greaterThan(value, Duration.zero)
    : Duration.lessThan(value, Duration.zero)
  if (tooSmall || !Duration.isFinite(value) || Duration.greaterThan(value, max)) {
    return invalid(key, `must be ${range}`)
  }
  return Either.right(value)
}

const positiveInt = (key: string, input: unknown, fallback: number, max: number): Check<number> => {
  if (input === undefined) return Either.right(fallback)
  return typeof input === "number" && Number.isSafeInteger(input) && input >= 1 && input <= max
    ? Either.right(input)
    : invalid(key, `must be an integer from 1 to ${max}`)
}

const checkRateLimit = (input: unknown): Check<Settings["rateLimit"]> => {
  if (input === false) return Either.right(undefined)
  if (input === undefined) return Either.right(defaults.rateLimit)
  // Both fields, always: a missing one has no safe default (`{}` used to
  // mean a limit of 0, `{ limit: 5 }` no limit at all).
  if (!isRecord(input) || input.limit === undefined || input.interval === undefined) {
    return invalid("rateLimit", "must be false or { limit, interval } with both fields")
  }
  return Either.all({
    limit: positiveInt("rateLimit.limit", input.limit, 0, bounds.rateLimit.limit),
    interval: duration("rateLimit.interval", input.interval, Duration.zero, "positive", bounds.rateLimit.interval)
  })
}

const checkCache = (input: unknown): Check<Settings["cache"]> => {
  if (input === undefined || input === false) return Either.right(undefined)
  if (input !== true && !isRecord(input)) return invalid("cache", "must be a boolean or { capacity?, refreshBefore? }")
  const given: Record<string, unknown> = input === true ? {} : input
  return Either.all({
    capacity: positiveInt("cache.capacity", given.capacity, defaults.cache.capacity, bounds.cache.capacity),
    refreshBefore: Either.flatMap(
      duration(
        "cache.refreshBefore",
        given.refreshBefore,
        defaults.cache.refreshBefore,
        "non-negative",
        bounds.cache.refreshBefore
      ),
      (d) =>
        Duration.lessThan(d, bounds.cache.refreshBefore)
          ? Either.right(d)
          : invalid("cache.refreshBefore", "must be shorter than a token's 24 h lifetime")
    )
  })
}

export const settings = (options: UserTokenService.Options): Effect.Effect<Settings, ConfigError.ConfigError> => {
  if (!isRecord(options)) return Effect.fail(ConfigError.InvalidData([], "options must be an object"))
  if (!Redacted.isRedacted(options.apiKey) || typeof Redacted.value(options.apiKey) !== "string") {
    return Effect.fail(ConfigError.InvalidData(["apiKey"], "must be a Redacted string"))
  }
  // A key is a header value: anything but visible ASCII would be refused by
  // the HTTP client at send time, or worse, split the header.
  if (!/^[\x21-\x7e]+$/.test(Redacted.value(options.apiKey))) {
    return Effect.fail(ConfigError.InvalidData(["apiKey"], "must be non-empty visible ASCII"))
  }
  if (options.transformClient !== undefined && typeof options.transformClient !== "function") {
    return Effect.fail(ConfigError.InvalidData(["transformClient"], "must be a function"))
  }
  return Either.all({
    apiKey: Either.right(options.apiKey),
    baseUrl: typeof options.baseUrl === "string" || options.baseUrl instanceof URL || options.baseUrl === undefined
      ? checkBaseUrl(options.baseUrl ?? defaults.baseUrl)
      : invalid("baseUrl", "must be a string or a URL"),
    timeout: duration("timeout", options.timeout, defaults.timeout, "positive", bounds.timeout),
    deadline: duration("deadline", options.deadline, defaults.deadline, "positive", bounds.deadline),
    retry: options.retry === undefined
      ? Either.right(defaultRetry)
      : Schedule.isSchedule(options.retry)
      ? Either.right(options.retry)
      : invalid("retry", "must be a Schedule"),
    maxRetryAfter: duration(
      "maxRetryAfter",
      options.maxRetryAfter,
      defaults.maxRetryAfter,
      "non-negative",
      bounds.maxRetryAfter
    ),
    maxBatchSize: positiveInt("maxBatchSize", options.maxBatchSize, defaults.maxBatchSize, bounds.maxBatchSize),
    batchConcurrency: positiveInt(
      "batchConcurrency",
      options.batchConcurrency,
      defaults.batchConcurrency,
      bounds.batchConcurrency
    ),
    maxIdsPerCall: positiveInt("maxIdsPerCall", options.maxIdsPerCall, defaults.maxIdsPerCall, bounds.maxIdsPerCall),
    rateLimit: checkRateLimit(options.rateLimit),
    batchWindow: duration("batchWindow", options.batchWindow, defaults.batchWindow, "non-negative", bounds.batchWindow),
    cache: checkCache(options.cache)
  })
}
