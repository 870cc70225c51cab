/**
 * The options of the Redis rate limiter as data: the rule a Redis URL must
 * pass and what is kept of it (the text to connect with, the secrets to
 * scrub from every text, where it points without its password), the key
 * prefix, the defaults (in milliseconds), and the refusals' words. The
 * shell's schema applies them; a refusal never echoes the URL.
 *
 * @since 0.3.0
 */

/**
 * The prefix of every budget's key.
 *
 * @since 0.3.0
 */
export const defaultPrefix = "sfox-effect:rate-limit:" as const

/**
 * The options' defaults.
 *
 * @since 0.3.0
 */
export const defaults = {
  commandTimeoutMillis: 500,
  maxRequestDurationMillis: 60_000,
  connectTimeoutMillis: 5_000
} as const

/**
 * What the refusals say (the budget's fields say their own).
 *
 * @since 0.3.0
 */
export const messages = {
  url: "must be a string or a Redacted string",
  budget: "must be { limit, interval }",
  prefix: "must be a string"
} as const

/**
 * A checked Redis URL: the text to connect with, what to scrub from texts,
 * and where it points (no password).
 *
 * @since 0.3.0
 */
export interface Url {
  readonly text: string
  readonly secrets: ReadonlyArray<string>
  readonly where: string
}

/**
 * The URL, checked, or why it is refused; its password (as written and
 * decoded) is among the secrets.
 *
 * @since 0.3.0
 */
export const checkUrl = (text: string): Url | { readonly refused: string } => {
  let url: URL
  try {
    url = new URL(text)
  } catch {
    // The text itself is not echoed: it may hold a password.
    return { refused: "is not an absolute URL" }
  }
  if (url.protocol !== "redis:" && url.protocol !== "rediss:") return { refused: "must be a redis: or rediss: URL" }
  let decoded = url.password
  try {
    decoded = decodeURIComponent(url.password)
  } catch {
    // Not percent-encoding after all: the password as written is the one to hide.
  }
  const secrets = [text, url.password, decoded].filter((s) => s.length > 0)
  return { text, secrets, where: `${url.hostname}:${url.port === "" ? "6379" : url.port}` }
}
