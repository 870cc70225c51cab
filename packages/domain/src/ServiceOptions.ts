/**
 * The options of `UserTokenService` as data: each one's default and largest
 * value (durations in milliseconds), the rule a base URL must pass, what the
 * environment's key variables are and what to say when none is set, and
 * the messages of the other options' refusals. The shell's schema applies
 * them: a refusal names the rule, never the value (a key, or a base URL
 * holding a password).
 *
 * @since 0.3.0
 */

/**
 * sFOX's production API: the default `baseUrl`.
 *
 * @since 0.3.0
 */
export const productionUrl = "https://api.sfox.com"

/**
 * Each option's default.
 *
 * @since 0.3.0
 */
export const defaults = {
  baseUrl: productionUrl,
  timeoutMillis: 10_000,
  deadlineMillis: 60_000,
  maxRetryAfterMillis: 30_000,
  maxBatchSize: 100,
  batchConcurrency: 4,
  maxIdsPerCall: 100_000,
  rateLimit: { limit: 250, intervalMillis: 10_000 },
  batchWindowMillis: 5,
  cache: { capacity: 10_000, refreshBeforeMillis: 5 * 60_000 }
} as const

/**
 * The largest value each option takes. Past them a setting is a mistake (a
 * unit slip, `Infinity`): `batchWindow: "1 hour"` would hold every `get` for
 * an hour, a 10-minute attempt timeout outlives any sane caller.
 *
 * @since 0.3.0
 */
export const bounds = {
  timeoutMillis: 10 * 60_000,
  deadlineMillis: 60 * 60_000,
  maxRetryAfterMillis: 60 * 60_000,
  maxBatchSize: 100_000,
  batchConcurrency: 1024,
  maxIdsPerCall: 10_000_000,
  rateLimit: { limit: 1_000_000, intervalMillis: 60 * 60_000 },
  batchWindowMillis: 1_000,
  // A token lives 24 h: refreshing it earlier than that would never serve one.
  cache: { capacity: 10_000_000, refreshBeforeMillis: 24 * 60 * 60_000 }
} as const

/**
 * What the option refusals say (the durations' and integers' say their
 * bounds, in the shell's words for a duration).
 *
 * @since 0.3.0
 */
export const messages = {
  baseUrl: "must be a string or a URL",
  apiKey: "must be a Redacted string",
  apiKeyText: "must be non-empty visible ASCII",
  retry: "must be a Schedule",
  rateLimit: "must be false or { limit, interval } with both fields",
  cache: "must be a boolean or { capacity?, refreshBefore? }",
  refreshBefore: "must be shorter than a token's 24 h lifetime",
  transformClient: "must be a function"
} as const

/**
 * Whether a key can be a header value: anything but visible ASCII would be
 * refused by the HTTP client at send time, or worse, split the header.
 *
 * @since 0.3.0
 */
export const isHeaderSafe = (key: string): boolean => /^[\x21-\x7e]+$/.test(key)

const loopbackHosts = new Set(["localhost", "[::1]"])
const isLoopback = (hostname: string) => loopbackHosts.has(hostname) || /^127(?:\.\d{1,3}){3}$/.test(hostname)

/**
 * A base URL, checked: as the service uses it, or why it is refused.
 *
 * @since 0.3.0
 */
export type BaseUrl = { readonly url: string } | { readonly refused: string }

/**
 * The base URL as the service uses it (origin plus path prefix, no trailing
 * slash), or why it is refused: anything that could leak the key or reach
 * the wrong place.
 *
 * @since 0.3.0
 */
export const checkBaseUrl = (input: string | URL): BaseUrl => {
  let url: URL
  try {
    url = new URL(String(input))
  } catch {
    return { refused: "is not an absolute URL" }
  }
  if (url.protocol !== "https:" && !(url.protocol === "http:" && isLoopback(url.hostname))) {
    return { refused: "must use https: (http: is allowed only for loopback hosts)" }
  }
  if (url.username !== "" || url.password !== "") return { refused: "must not hold credentials" }
  if (url.search !== "" || String(input).includes("?")) return { refused: "must not have a query" }
  if (url.hash !== "" || String(input).includes("#")) return { refused: "must not have a fragment" }
  return { url: `${url.origin}${url.pathname.replace(/\/+$/, "")}` }
}

/**
 * The environment variables `layerConfig` reads the key from, first first.
 *
 * @since 0.3.0
 */
export const keyVariables = ["SFOX_ENTERPRISE_API_KEY", "ENTERPRISE_API_KEY"] as const

/**
 * The environment variable `layerConfig` reads the base URL from.
 *
 * @since 0.3.0
 */
export const baseUrlVariable = "SFOX_BASE_URL"

/**
 * What to say when no key variable is set; `empty` names those set but
 * empty (a variable set but empty counts as unset, so that a fallback still
 * applies).
 *
 * @since 0.3.0
 */
export const noKeyAdvice = (empty: ReadonlyArray<string>): string =>
  `no API key: ${
    empty.length === 0 ? "" : `${empty.join(" and ")} ${empty.length === 1 ? "is" : "are"} set but empty; `
  }set SFOX_ENTERPRISE_API_KEY (or ENTERPRISE_API_KEY) to your sFOX Enterprise API key`
