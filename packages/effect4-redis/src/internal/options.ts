import * as OptionSchema from "@sfox-effect/effect4-core/internal/optionSchema"
import type * as ConfigError from "effect/ConfigError"
import * as Duration from "effect/Duration"
import type * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as ParseResult from "effect/ParseResult"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import type * as RedisRateLimiter from "../RedisRateLimiter.js"

export const defaultPrefix = "sfox-effect:rate-limit:" as const

/** A checked Redis URL: the text to connect with, what to scrub from texts, and where it points (no password). */
export interface Url {
  readonly text: string
  readonly secrets: ReadonlyArray<string>
  readonly where: string
}

/** The URL, checked; its password (if any) for scrubbing texts. */
const urlOf = (text: string): Either.Either<Url, string> => {
  let url: URL
  try {
    url = new URL(text)
  } catch {
    // The text itself is not echoed: it may hold a password.
    return Either.left("is not an absolute URL")
  }
  if (url.protocol !== "redis:" && url.protocol !== "rediss:") return Either.left("must be a redis: or rediss: URL")
  let decoded = url.password
  try {
    decoded = decodeURIComponent(url.password)
  } catch {
    // Not percent-encoding after all: the password as written is the one to hide.
  }
  const secrets = [text, url.password, decoded].filter((s) => s.length > 0)
  return Either.right({ text, secrets, where: `${url.hostname}:${url.port === "" ? "6379" : url.port}` })
}

const RedisUrl = Schema.transformOrFail(Schema.Unknown, Schema.Any, {
  strict: true,
  decode: (input, _, ast) => {
    const text = Redacted.isRedacted(input) ? Redacted.value(input) : input
    return typeof text !== "string"
      ? ParseResult.fail(new ParseResult.Type(ast, input, "must be a string or a Redacted string"))
      : Either.match(urlOf(text), {
        onLeft: (message) => ParseResult.fail(new ParseResult.Type(ast, input, message)),
        onRight: ParseResult.succeed
      })
  },
  encode: ParseResult.succeed
}) as unknown as Schema.Schema<Url, unknown>

/** `{ limit, interval }`: core's budget rule (a positive integer, a positive duration). */
const Budget = Schema.Struct({
  limit: OptionSchema.positiveInt(),
  interval: OptionSchema.duration({ min: "positive" })
}).annotations({ message: () => "must be { limit, interval }" })

const millis = (fallback: number) =>
  OptionSchema.withDefault(OptionSchema.duration({ min: "positive" }), () => Duration.millis(fallback)).pipe(
    Schema.transform(Schema.Number, { strict: true, decode: Duration.toMillis, encode: Duration.millis })
  )

/** `Options` as one schema: each option's shape, bounds and default. */
const OptionsSchema = Schema.Struct({
  url: RedisUrl,
  limit: Budget.fields.limit,
  interval: Budget.fields.interval,
  prefix: OptionSchema.withDefault(
    OptionSchema.instance((u): u is string => typeof u === "string", "must be a string"),
    () => defaultPrefix
  ),
  commandTimeout: millis(500),
  maxRequestDuration: millis(60_000),
  connectTimeout: millis(5_000),
  fallback: OptionSchema.optional(Budget)
})

/** The options with their defaults filled in: durations in millis. */
export type Settings = Schema.Schema.Type<typeof OptionsSchema>

/** Every option checked, every bad one reported (naming it, never echoing it), the defaults filled in. */
export const decode: (options: RedisRateLimiter.Options) => Effect.Effect<Settings, ConfigError.ConfigError> =
  OptionSchema.decodeEffect(OptionsSchema)
