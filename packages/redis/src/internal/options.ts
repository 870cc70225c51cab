import { Budget } from "@sfox-effect/domain"
import * as ConfigError from "effect/ConfigError"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"

export const defaultPrefix = "sfox-effect:rate-limit:" as const

export const positiveMillis = (key: string, input: Duration.DurationInput | undefined, fallback: number) => {
  if (input === undefined) return Effect.succeed(fallback)
  const decoded = Duration.decodeUnknown(input)
  return decoded._tag === "Some" && Duration.greaterThan(decoded.value, Duration.zero)
    ? Effect.succeed(Duration.toMillis(decoded.value))
    : Effect.fail(ConfigError.InvalidData([key], "must be a positive duration"))
}

/** The budget rule of the domain, the one core's `SfoxRateLimiter` keeps too. */
export const checkBudget = (limit: number, interval: Duration.DurationInput, path: ReadonlyArray<string>) => {
  const decoded = Duration.decodeUnknown(interval)
  const checked = Budget.check(limit, decoded._tag === "Some" ? Duration.toMillis(decoded.value) : undefined)
  return Budget.isProblem(checked)
    ? Effect.fail(ConfigError.InvalidData([...path, checked.option], checked.message))
    : Effect.succeed({ limit: checked.limit, intervalMillis: checked.intervalMillis })
}

/** The URL, checked; its password (if any) for scrubbing texts. */
export const checkUrl = (input: string | Redacted.Redacted<string>) => {
  const text = Redacted.isRedacted(input) ? Redacted.value(input) : input
  let url: URL
  try {
    url = new URL(text)
  } catch {
    // The text itself is not echoed: it may hold a password.
    return Effect.fail(ConfigError.InvalidData(["url"], "is not an absolute URL"))
  }
  if (url.protocol !== "redis:" && url.protocol !== "rediss:") {
    return Effect.fail(ConfigError.InvalidData(["url"], "must be a redis: or rediss: URL"))
  }
  let decoded = url.password
  try {
    decoded = decodeURIComponent(url.password)
  } catch {
    // Not percent-encoding after all: the password as written is the one to hide.
  }
  const secrets = [text, url.password, decoded].filter((s) => s.length > 0)
  return Effect.succeed({ text, secrets, where: `${url.hostname}:${url.port === "" ? "6379" : url.port}` })
}
