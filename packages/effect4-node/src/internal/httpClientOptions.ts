import * as OptionSchema from "@sfox-effect/effect4-core/internal/optionSchema"
import type * as ConfigError from "effect/ConfigError"
import * as Duration from "effect/Duration"
import type * as Either from "effect/Either"
import * as ParseResult from "effect/ParseResult"
import * as Schema from "effect/Schema"
import type { HttpClientOptions } from "../NodeSfox.js"

export const defaults = {
  connectTimeout: Duration.seconds(5),
  headersTimeout: Duration.seconds(30),
  bodyTimeout: Duration.seconds(30),
  // A batch answer is about 150 bytes a token; 1,000 tokens is ~150 KB.
  maxResponseBytes: 1024 * 1024,
  connections: 32,
  keepAliveTimeout: Duration.seconds(10)
} as const

/** undici wants whole milliseconds; 0 disables its header and body timers. */
const toMillis = (d: Duration.Duration): number =>
  Duration.isFinite(d) ? Math.max(1, Math.ceil(Duration.toMillis(d))) : 0

/** A positive duration as undici's millis; `infinite: "zero"` lets `Duration.infinity` through, as 0 (off). */
const millis = (fallback: Duration.Duration, infinite: "zero" | "refuse") =>
  OptionSchema.withDefault(
    infinite === "refuse"
      ? OptionSchema.duration({ min: "positive" })
      : OptionSchema.DurationInput.pipe(Schema.filter((d) => Duration.greaterThan(d, Duration.zero))).annotations(
        OptionSchema.says("must be a positive duration (or Duration.infinity: none)")
      ),
    () => fallback
  ).pipe(Schema.transform(Schema.Number, { strict: true, decode: toMillis, encode: Duration.millis }))

const connections = OptionSchema.withDefault(
  OptionSchema.instance(
    (u): u is number => u === Number.POSITIVE_INFINITY || (Number.isSafeInteger(u) && (u as number) >= 1),
    "must be a positive integer or Infinity"
  ),
  () => defaults.connections
).pipe(
  // undici's "no limit" is null.
  Schema.transform(Schema.NullOr(Schema.Number), {
    strict: true,
    decode: (n) => n === Number.POSITIVE_INFINITY ? null : n,
    encode: (n) => n ?? Number.POSITIVE_INFINITY
  })
)

/** `false` for none, a URL (its `href`) for that proxy, `undefined` for the environment's. */
const proxy = Schema.transformOrFail(
  Schema.Unknown,
  Schema.Union(Schema.Literal(false), Schema.String, Schema.Undefined),
  {
    strict: true,
    decode: (input, _, ast) => {
      if (input === false) return ParseResult.succeed(false as const)
      if (input === undefined) return ParseResult.succeed(undefined)
      if (typeof input === "string" || input instanceof URL) {
        try {
          return ParseResult.succeed(new URL(input).href)
        } catch {
          // Refused below, the value unshown: it may hold the proxy's password.
        }
      }
      return ParseResult.fail(new ParseResult.Type(ast, input, "must be a URL, false or undefined"))
    },
    encode: ParseResult.succeed
  }
)

/** `HttpClientOptions` as one schema: each option's shape, bounds and default. */
export const HttpClientOptionsSchema = Schema.Struct({
  connectTimeout: millis(defaults.connectTimeout, "refuse"),
  headersTimeout: millis(defaults.headersTimeout, "zero"),
  bodyTimeout: millis(defaults.bodyTimeout, "zero"),
  maxResponseBytes: OptionSchema.withDefault(OptionSchema.positiveInt(), () => defaults.maxResponseBytes),
  connections,
  keepAliveTimeout: millis(defaults.keepAliveTimeout, "refuse"),
  tracing: OptionSchema.withDefault(
    OptionSchema.instance((u): u is boolean => typeof u === "boolean", "must be a boolean"),
    () => false
  ),
  proxy
})

/** The options as the client uses them: millis, `null` for no connection limit. */
export type Settings = typeof HttpClientOptionsSchema.Type

/** Every option checked, every bad one reported, the defaults filled in. */
export const decode: (options: HttpClientOptions) => Either.Either<Settings, ConfigError.ConfigError> = OptionSchema
  .decoder(HttpClientOptionsSchema)
