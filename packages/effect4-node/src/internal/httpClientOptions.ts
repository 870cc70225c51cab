import * as OptionSchema from "@sfox-effect/effect4-core/internal/optionSchema"
import type * as Config from "effect/Config"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import type * as Result from "effect/Result"
import * as Schema from "effect/Schema"
import * as SchemaIssue from "effect/SchemaIssue"
import * as SchemaTransformation from "effect/SchemaTransformation"
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

/** Back from undici's millis (0: off), for the schema's encoding side only. */
const fromMillis = (millis: number): Duration.Duration => millis === 0 ? Duration.infinity : Duration.millis(millis)

/** A positive duration as undici's millis; `infinite: "zero"` lets `Duration.infinity` through, as 0 (off). */
const millis = (fallback: Duration.Duration, infinite: "zero" | "refuse") =>
  OptionSchema.withDefault(
    infinite === "refuse"
      ? OptionSchema.duration({ min: "positive" })
      : OptionSchema.DurationInput.check(Schema.makeFilter(Duration.isPositive)).pipe(
        OptionSchema.says("must be a positive duration (or Duration.infinity: none)")
      ),
    () => fallback
  ).pipe(Schema.decodeTo(Schema.Number, SchemaTransformation.transform({ decode: toMillis, encode: fromMillis })))

const connections = OptionSchema.withDefault(
  OptionSchema.instance(
    (u): u is number => u === Number.POSITIVE_INFINITY || (Number.isSafeInteger(u) && (u as number) >= 1),
    "must be a positive integer or Infinity"
  ),
  () => defaults.connections
).pipe(
  // undici's "no limit" is null.
  Schema.decodeTo(
    Schema.NullOr(Schema.Number),
    SchemaTransformation.transform({
      decode: (n: number) => n === Number.POSITIVE_INFINITY ? null : n,
      encode: (n: number | null) => n ?? Number.POSITIVE_INFINITY
    })
  )
)

// Refused without the value: a proxy URL may hold the proxy's password.
const notAProxy = new SchemaIssue.InvalidValue({ message: "must be a URL, false or undefined" })

/** `false` for none, a URL (its `href`) for that proxy, `undefined` for the environment's. */
const proxy = OptionSchema.optional(
  Schema.Unknown.pipe(Schema.decodeTo(
    Schema.Union([Schema.Literal(false), Schema.String]),
    SchemaTransformation.transformEffect({
      decode: (input: unknown) => {
        if (input === false) return Effect.succeed(false as const)
        if (typeof input === "string" || input instanceof URL) {
          try {
            return Effect.succeed(new URL(input).href)
          } catch {
            // Refused below.
          }
        }
        return Effect.fail(notAProxy)
      },
      encode: (value: string | false) => Effect.succeed<unknown>(value)
    })
  ))
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
export const decode: (options: HttpClientOptions) => Result.Result<Settings, Config.ConfigError> = OptionSchema
  .decoder(HttpClientOptionsSchema)
