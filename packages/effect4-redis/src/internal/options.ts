import { RedisOptions } from "@sfox-effect/domain"
import * as OptionSchema from "@sfox-effect/effect4-core/internal/optionSchema"
import type * as Config from "effect/Config"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import * as Result from "effect/Result"
import * as Schema from "effect/Schema"
import * as SchemaIssue from "effect/SchemaIssue"
import * as SchemaTransformation from "effect/SchemaTransformation"
import type * as RedisRateLimiter from "../RedisRateLimiter.js"

export const defaultPrefix = RedisOptions.defaultPrefix

/** A checked Redis URL: the text to connect with, what to scrub from texts, and where it points (no password). */
const Url = Schema.Struct({
  text: Schema.String,
  secrets: Schema.Array(Schema.String),
  where: Schema.String
})

export type Url = typeof Url.Type

/** The URL, checked; its password (if any) for scrubbing texts (`RedisOptions.checkUrl`). */
const urlOf = (text: string): Result.Result<Url, string> => {
  const checked = RedisOptions.checkUrl(text)
  return "refused" in checked ? Result.fail(checked.refused) : Result.succeed(checked)
}

/** A string or a `Redacted` string, as a checked `Url`; a refusal says why, never what it was given. */
const RedisUrl = Schema.Unknown.pipe(
  Schema.decodeTo(
    Url,
    SchemaTransformation.transformEffect({
      decode: (input: unknown) => {
        const text = Redacted.isRedacted(input) ? Redacted.value(input) : input
        const checked = typeof text === "string" ? urlOf(text) : Result.fail(RedisOptions.messages.url)
        return Result.match(checked, {
          onFailure: (message) => Effect.fail(new SchemaIssue.InvalidValue({ message })),
          onSuccess: Effect.succeed
        })
      },
      encode: (url: Url) => Effect.succeed<unknown>(url.text)
    })
  )
)

/** `{ limit, interval }`: core's budget rule (a positive integer, a positive duration). */
const Budget = Schema.Struct({
  limit: OptionSchema.positiveInt(),
  interval: OptionSchema.duration({ min: "positive" })
})

/** A positive duration as milliseconds, `fallback` of them when absent. */
const millis = (fallback: number) =>
  OptionSchema.withDefault(
    OptionSchema.duration({ min: "positive" }).pipe(
      Schema.decodeTo(
        Schema.Number,
        SchemaTransformation.transform({ decode: Duration.toMillis, encode: Duration.millis })
      )
    ),
    () => fallback
  )

/** `Options` as one schema: each option's shape, bounds and default. */
const OptionsSchema = Schema.Struct({
  url: RedisUrl,
  limit: Budget.fields.limit,
  interval: Budget.fields.interval,
  prefix: OptionSchema.withDefault(
    Schema.String.pipe(OptionSchema.says(RedisOptions.messages.prefix)),
    () => defaultPrefix
  ),
  commandTimeout: millis(RedisOptions.defaults.commandTimeoutMillis),
  maxRequestDuration: millis(RedisOptions.defaults.maxRequestDurationMillis),
  connectTimeout: millis(RedisOptions.defaults.connectTimeoutMillis),
  // The message is for an input that is not even a record: a bad `limit` or
  // `interval` in one is named on its own.
  fallback: OptionSchema.optional(Budget.annotate({ message: RedisOptions.messages.budget }))
})

/** The options with their defaults filled in: durations in millis. */
export type Settings = typeof OptionsSchema.Type

/** Every option checked, every bad one reported (naming it, never echoing it), the defaults filled in. */
export const decode: (options: RedisRateLimiter.Options) => Effect.Effect<Settings, Config.ConfigError> = OptionSchema
  .decodeEffect(OptionsSchema)
