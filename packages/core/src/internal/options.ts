import * as ConfigError from "effect/ConfigError"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Redacted from "effect/Redacted"
import type * as Schedule from "effect/Schedule"
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
  readonly rateLimit: { readonly limit: number; readonly interval: Duration.Duration } | undefined
  readonly batchWindow: Duration.Duration
  readonly cache: { readonly capacity: number; readonly refreshBefore: Duration.Duration } | undefined
}

export const defaults = {
  baseUrl: "https://api.sfox.com",
  timeout: Duration.seconds(10),
  deadline: Duration.minutes(1),
  maxRetryAfter: Duration.seconds(30),
  maxBatchSize: 100,
  batchConcurrency: 4,
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

const positiveDuration = (key: string, input: Duration.DurationInput | undefined, fallback: Duration.Duration) => {
  if (input === undefined) return Either.right(fallback)
  const decoded = Duration.decodeUnknown(input)
  if (decoded._tag === "None" || !Duration.greaterThan(decoded.value, Duration.zero)) {
    return invalid(key, "must be a positive duration")
  }
  return Either.right(decoded.value)
}

const nonNegativeDuration = (key: string, input: Duration.DurationInput | undefined, fallback: Duration.Duration) => {
  if (input === undefined) return Either.right(fallback)
  const decoded = Duration.decodeUnknown(input)
  return decoded._tag === "None" ? invalid(key, "must be a duration") : Either.right(decoded.value)
}

const positiveInt = (key: string, input: number | undefined, fallback: number) => {
  if (input === undefined) return Either.right(fallback)
  return Number.isSafeInteger(input) && input >= 1 ? Either.right(input) : invalid(key, "must be a positive integer")
}

const checkRateLimit = (input: UserTokenService.Options["rateLimit"]): Check<Settings["rateLimit"]> => {
  if (input === false) return Either.right(undefined)
  if (input === undefined) return Either.right(defaults.rateLimit)
  return Either.all({
    limit: positiveInt("rateLimit.limit", input.limit, 0),
    interval: positiveDuration("rateLimit.interval", input.interval, Duration.zero)
  })
}

const checkCache = (input: UserTokenService.Options["cache"]): Check<Settings["cache"]> => {
  if (input === undefined || input === false) return Either.right(undefined)
  const given = input === true ? {} : input
  return Either.all({
    capacity: positiveInt("cache.capacity", given.capacity, defaults.cache.capacity),
    refreshBefore: nonNegativeDuration("cache.refreshBefore", given.refreshBefore, defaults.cache.refreshBefore)
  })
}

export const settings = (options: UserTokenService.Options): Effect.Effect<Settings, ConfigError.ConfigError> => {
  if (!Redacted.isRedacted(options.apiKey) || typeof Redacted.value(options.apiKey) !== "string") {
    return Effect.fail(ConfigError.InvalidData(["apiKey"], "must be a Redacted string"))
  }
  // A key is a header value: anything but visible ASCII would be refused by
  // the HTTP client at send time, or worse, split the header.
  if (!/^[\x21-\x7e]+$/.test(Redacted.value(options.apiKey))) {
    return Effect.fail(ConfigError.InvalidData(["apiKey"], "must be non-empty visible ASCII"))
  }
  return Either.all({
    apiKey: Either.right(options.apiKey),
    baseUrl: checkBaseUrl(options.baseUrl ?? defaults.baseUrl),
    timeout: positiveDuration("timeout", options.timeout, defaults.timeout),
    deadline: positiveDuration("deadline", options.deadline, defaults.deadline),
    retry: Either.right(options.retry ?? defaultRetry),
    maxRetryAfter: options.maxRetryAfter === undefined
      ? Either.right(defaults.maxRetryAfter)
      : Either.fromOption(
        Duration.decodeUnknown(options.maxRetryAfter),
        () => ConfigError.InvalidData(["maxRetryAfter"], "must be a duration")
      ),
    maxBatchSize: positiveInt("maxBatchSize", options.maxBatchSize, defaults.maxBatchSize),
    batchConcurrency: positiveInt("batchConcurrency", options.batchConcurrency, defaults.batchConcurrency),
    rateLimit: checkRateLimit(options.rateLimit),
    batchWindow: nonNegativeDuration("batchWindow", options.batchWindow, defaults.batchWindow),
    cache: checkCache(options.cache)
  })
}
