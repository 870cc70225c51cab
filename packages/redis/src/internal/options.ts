import * as OptionSchema from "@sfox-effect/core/internal/optionSchema"
import { RedisOptions } from "@sfox-effect/domain"
import type * as ConfigError from "effect/ConfigError"
import * as Duration from "effect/Duration"
import type * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as ParseResult from "effect/ParseResult"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import type * as RedisRateLimiter from "../RedisRateLimiter.js"

export const defaultPrefix = RedisOptions.defaultPrefix

/** A checked Redis URL: the text to connect with, what to scrub from texts, and where it points (no password). */
export type Url = RedisOptions.Url

/** The URL, checked; its password (if any) for scrubbing texts (`RedisOptions.checkUrl`). */
const urlOf = (text: string): Either.Either<Url, string> => {
  const checked = RedisOptions.checkUrl(text)
  return "refused" in checked ? Either.left(checked.refused) : Either.right(checked)
}

const RedisUrl = Schema.transformOrFail(Schema.Unknown, Schema.Any, {
  strict: true,
  decode: (input, _, ast) => {
    const text = Redacted.isRedacted(input) ? Redacted.value(input) : input
    return typeof text !== "string"
      ? ParseResult.fail(new ParseResult.Type(ast, input, RedisOptions.messages.url))
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
}).annotations({ message: () => RedisOptions.messages.budget })

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
    OptionSchema.instance((u): u is string => typeof u === "string", RedisOptions.messages.prefix),
    () => defaultPrefix
  ),
  commandTimeout: millis(RedisOptions.defaults.commandTimeoutMillis),
  maxRequestDuration: millis(RedisOptions.defaults.maxRequestDurationMillis),
  connectTimeout: millis(RedisOptions.defaults.connectTimeoutMillis),
  fallback: OptionSchema.optional(Budget)
})

/** The options with their defaults filled in: durations in millis. */
export type Settings = Schema.Schema.Type<typeof OptionsSchema>

/** Every option checked, every bad one reported (naming it, never echoing it), the defaults filled in. */
export const decode: (options: RedisRateLimiter.Options) => Effect.Effect<Settings, ConfigError.ConfigError> =
  OptionSchema.decodeEffect(OptionsSchema)
