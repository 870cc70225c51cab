/**
 * An `SfoxRateLimiter` whose window lives in Redis: every process that uses
 * the same Redis and `prefix` takes its turns from one budget, as sFOX counts
 * them (per egress IP, not per process).
 *
 * The window is a sliding log (a sorted set of turns) kept by one atomic Lua
 * script on Redis's own clock. A turn counts from before its request is sent
 * until `interval` after the request completed, so no window on sFOX's clock
 * holds more than `limit` requests whatever the latency; the turn of a
 * process that died is gone at most the request's timeout plus `interval`
 * after it was taken.
 *
 * When Redis cannot be reached, or answers slower than `commandTimeout`, a
 * call fails with `RateLimiterUnavailable` and nothing is sent, unless a
 * `fallback` budget is given.
 *
 * @since 0.2.0
 */
import { RateLimiterUnavailable, SfoxRateLimiter } from "@sfox-effect/core"
import * as OptionSchema from "@sfox-effect/core/internal/optionSchema"
import * as Clock from "effect/Clock"
import * as Config from "effect/Config"
import type * as ConfigError from "effect/ConfigError"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import * as ParseResult from "effect/ParseResult"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import type * as Scope from "effect/Scope"
import { Redis } from "ioredis"
import * as Script from "./internal/script.js"

/**
 * Options of `make` and `layer`.
 *
 * @example
 * ```ts
 * import { RedisRateLimiter } from "@sfox-effect/redis"
 * import { Redacted } from "effect"
 *
 * // Four worker processes on one IP; each keeps a quarter while Redis is down.
 * const options: RedisRateLimiter.Options = {
 *   url: Redacted.make("rediss://:secret@redis.internal:6380/0"),
 *   limit: 250,
 *   interval: "10 seconds",
 *   prefix: "payments:sfox:",
 *   fallback: { limit: 60, interval: "10 seconds" }
 * }
 * ```
 *
 * @since 0.2.0
 * @category models
 */
export interface Options {
  /**
   * Where Redis listens: `redis://[[user]:password@]host[:port][/db]`, or
   * `rediss://` for TLS. It may hold a password: pass it `Redacted`; it is
   * never logged nor put in an error.
   */
  readonly url: string | Redacted.Redacted<string>
  /** At most `limit` requests in any `interval`, across every process. */
  readonly limit: number
  readonly interval: Duration.DurationInput
  /**
   * Processes with the same Redis and prefix share one budget; give each
   * egress IP (or each sFOX key with its own limit) a prefix of its own.
   * @default "sfox-effect:rate-limit:"
   */
  readonly prefix?: string | undefined
  /**
   * The longest wait for one answer from Redis. A slower answer fails the
   * call with `RateLimiterUnavailable` (or engages the fallback).
   * @default "500 millis"
   */
  readonly commandTimeout?: Duration.DurationInput | undefined
  /**
   * How long a turn is held for a request whose end is never reported (its
   * process died), when its caller gives no bound of its own.
   * `UserTokenService` always gives one: the attempt's timeout.
   * @default "1 minute"
   */
  readonly maxRequestDuration?: Duration.DurationInput | undefined
  /**
   * How long building the layer waits for the first connection. Past it,
   * the layer is built anyway (with a warning), and calls fail with
   * `RateLimiterUnavailable` until Redis answers.
   * @default "5 seconds"
   */
  readonly connectTimeout?: Duration.DurationInput | undefined
  /**
   * Opt-in: a budget for this process alone, used while Redis cannot be
   * reached (a warning is logged when it engages, and when Redis is back).
   * Make it conservative: `limit / processes` at most. Without it, calls
   * fail with `RateLimiterUnavailable` while Redis is down.
   * @default none
   */
  readonly fallback?: { readonly limit: number; readonly interval: Duration.DurationInput } | undefined
}

/**
 * Options of `layerConfig`: `url` as a `Config` (by default the redacted
 * `SFOX_REDIS_URL`), the rest as plain values.
 *
 * @example
 * ```ts
 * import { RedisRateLimiter } from "@sfox-effect/redis"
 * import { Config } from "effect"
 *
 * const options: RedisRateLimiter.ConfigOptions = {
 *   url: Config.redacted("PAYMENTS_REDIS_URL"),
 *   limit: 250,
 *   interval: "10 seconds"
 * }
 * ```
 *
 * @since 0.2.0
 * @category models
 */
export interface ConfigOptions extends Omit<Options, "url"> {
  readonly url?: Config.Config<Redacted.Redacted<string>> | undefined
}

/**
 * The default key prefix.
 *
 * @example
 * ```ts
 * import { RedisRateLimiter } from "@sfox-effect/redis"
 *
 * // One budget per egress IP: keep the default visible in the key.
 * const prefixFor = (egressIp: string) => `${RedisRateLimiter.defaultPrefix}${egressIp}:`
 * ```
 *
 * @since 0.2.0
 * @category constants
 */
export const defaultPrefix = "sfox-effect:rate-limit:"

/** The URL, checked; its password (if any) for scrubbing texts. */
const urlOf = (text: string): Either.Either<{ text: string; secrets: Array<string>; where: string }, string> => {
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
}) as unknown as Schema.Schema<
  { readonly text: string; readonly secrets: ReadonlyArray<string>; readonly where: string },
  unknown
>

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

/** Every option checked, every bad one reported, the defaults filled in. */
const decodeOptions = OptionSchema.decodeEffect(OptionsSchema)

// A turn's window is kept 1 % longer than asked (at least 1 ms), as the
// in-process limiter keeps it: sFOX's clock and way of counting are not ours.
const windowOf = (intervalMillis: number) => Math.ceil(intervalMillis * 1.01)

/**
 * A Redis-backed `SfoxRateLimiter.Service`, connected for the life of the
 * scope. Fails with a `ConfigError` on options out of range; never on Redis
 * being down (calls fail then, typed).
 *
 * @example
 * ```ts
 * import { RedisRateLimiter } from "@sfox-effect/redis"
 * import { Effect, Redacted } from "effect"
 *
 * // Pace a job of one's own by the shared budget.
 * const job = Effect.gen(function*() {
 *   const limiter = yield* RedisRateLimiter.make({
 *     url: Redacted.make("redis://127.0.0.1:6379"),
 *     limit: 250,
 *     interval: "10 seconds"
 *   })
 *   return yield* limiter.withTurn(Effect.succeed("sent"), { maxWaitMillis: 10_000, onLate: () => "late" })
 * }).pipe(Effect.scoped)
 * ```
 *
 * @since 0.2.0
 * @category constructors
 */
export const make = (
  options: Options
): Effect.Effect<SfoxRateLimiter.Service, ConfigError.ConfigError, Scope.Scope> =>
  Effect.gen(function*() {
    const settings = yield* decodeOptions(options)
    const { url } = settings
    const intervalMillis = Duration.toMillis(settings.interval)
    const { commandTimeout: commandTimeoutMillis, connectTimeout: connectTimeoutMillis } = settings
    const defaultHoldMillis = settings.maxRequestDuration
    const fallback = settings.fallback === undefined
      ? undefined
      : yield* SfoxRateLimiter.make({ limit: settings.fallback.limit, interval: settings.fallback.interval })
    const fallbackWindowMillis = settings.fallback === undefined
      ? 0
      : windowOf(Duration.toMillis(settings.fallback.interval))
    const fallbackText = settings.fallback === undefined
      ? ""
      : `${settings.fallback.limit} per ${Duration.format(settings.fallback.interval)}`
    const key = `${settings.prefix}turns`
    const windowMillis = windowOf(intervalMillis)
    const limit = settings.limit

    const scrub = (text: string) => url.secrets.reduce((out, secret) => out.split(secret).join("<redacted>"), text)
    let lastError = "not connected yet"
    const redis = yield* Effect.acquireRelease(
      Effect.sync(() => {
        const client = new Redis(url.text, {
          lazyConnect: true,
          // A command while Redis is away fails at once rather than queueing:
          // a queued reservation could land after its caller gave up.
          enableOfflineQueue: false,
          maxRetriesPerRequest: 0,
          connectTimeout: Math.min(connectTimeoutMillis, 10_000),
          // Reconnect for ever, at most a second apart.
          retryStrategy: (times) => Math.min(50 * times, 1_000)
        })
        // ioredis prints an error event nobody listens to; ours are reported
        // through the calls that fail.
        client.on("error", (error: Error) => {
          lastError = scrub(error.message)
        })
        return client
      }),
      (client) =>
        Effect.promise(() =>
          client.status === "ready"
            ? client.quit().catch(() => client.disconnect())
            : Promise.resolve(client.disconnect())
        ).pipe(Effect.timeout(Duration.millis(commandTimeoutMillis * 4)), Effect.ignore)
    )
    const scripts = Script.define(redis)

    const connected = yield* Effect.tryPromise(() => redis.connect()).pipe(
      Effect.timeout(Duration.millis(connectTimeoutMillis)),
      Effect.as(true),
      Effect.catchAll(() => Effect.succeed(false))
    )
    if (!connected) {
      yield* Effect.logWarning(
        `sfox-effect: Redis at ${url.where} did not answer within ${connectTimeoutMillis} ms; calls fail with RateLimiterUnavailable${
          fallback === undefined ? "" : " (or use the fallback budget)"
        } until it does`
      )
    }

    const unavailable = (description: string) =>
      new RateLimiterUnavailable({ description: `Redis at ${url.where}: ${scrub(description)}` })

    /**
     * One script call, bounded by `commandTimeout`, or by the caller's time
     * left when that is shorter (then it is the caller's time that ran out).
     */
    const call = <A, E2>(
      run: () => Promise<A>,
      leftMillis: number,
      onLate: () => E2
    ): Effect.Effect<A, RateLimiterUnavailable | E2> => {
      const callerBound = leftMillis < commandTimeoutMillis
      const bound = callerBound ? Math.max(1, leftMillis) : commandTimeoutMillis
      return Effect.tryPromise({
        try: run,
        catch: (error) => unavailable(error instanceof Error ? error.message : "the command failed")
      }).pipe(
        Effect.timeoutFail({
          duration: Duration.millis(bound),
          onTimeout: (): RateLimiterUnavailable | E2 =>
            callerBound ? onLate() : unavailable(`no answer within ${bound} ms (last error: ${lastError})`)
        })
      )
    }

    const pollers = yield* Effect.makeSemaphore(limit)
    let counter = 0
    const processId = globalThis.crypto.randomUUID()

    /**
     * Takes a turn: asks the script, and while it says none is free, sleeps
     * for as long as it says none can free, within the caller's wait.
     */
    const acquire = <E2>(
      member: string,
      holdMillis: number,
      options: SfoxRateLimiter.TurnOptions<E2>
    ): Effect.Effect<void, E2 | RateLimiterUnavailable> =>
      Effect.flatMap(Clock.currentTimeMillis, (startedAt) => {
        const deadlineAt = startedAt + options.maxWaitMillis
        const loop: Effect.Effect<void, E2 | RateLimiterUnavailable> = Effect.flatMap(
          Clock.currentTimeMillis,
          (askedAt) =>
            Effect.flatMap(
              call(
                () => scripts.acquire(key, limit, windowMillis, holdMillis, member),
                deadlineAt - askedAt,
                options.onLate
              ),
              (wait) => {
                if (wait === 0) return Effect.void
                return Effect.flatMap(Clock.currentTimeMillis, (now) =>
                  now + wait > deadlineAt
                    // No turn can free before the caller's time is up.
                    ? Effect.fail(options.onLate())
                    : Effect.zipRight(Effect.sleep(Duration.millis(wait)), loop))
              }
            )
        )
        // At most `limit` callers of this process ask Redis at a time: no
        // more turns than that can free in one window, and a crowd of waiters
        // polling at the same instant would only load Redis. The wait for a
        // place among them counts against the caller's time too.
        const polled = pollers.withPermits(1)(loop)
        return Number.isFinite(options.maxWaitMillis)
          ? Effect.timeoutFail(polled, {
            duration: Duration.millis(Math.max(0, options.maxWaitMillis)),
            onTimeout: options.onLate
          })
          : polled
      })

    // The fallback: engaged when a Redis call fails, left once Redis answers
    // again and this process's fallback turns have all run out.
    let onFallback = false
    let inFallback = 0
    let fallbackEndsAt = 0
    const viaFallback = <A, E, R, E2>(
      fallbackLimiter: SfoxRateLimiter.Service,
      request: Effect.Effect<A, E, R>,
      options: SfoxRateLimiter.TurnOptions<E2>
    ) =>
      Effect.suspend(() => {
        inFallback++
        return fallbackLimiter.withTurn(request, options).pipe(
          Effect.ensuring(Effect.flatMap(Clock.currentTimeMillis, (now) =>
            Effect.sync(() => {
              inFallback--
              fallbackEndsAt = Math.max(fallbackEndsAt, now + fallbackWindowMillis)
            })))
        )
      })

    const viaRedis = <A, E, R, E2>(
      request: Effect.Effect<A, E, R>,
      options: SfoxRateLimiter.TurnOptions<E2>
    ): Effect.Effect<A, E | E2 | RateLimiterUnavailable, R> =>
      Effect.uninterruptibleMask((restore) => {
        const member = `${processId}:${counter++}`
        const holdMillis = options.maxDurationMillis ?? defaultHoldMillis
        return restore(acquire(member, holdMillis, options)).pipe(
          // Interrupted or out of time while asking: the turn may have been
          // taken all the same; a request never sent needs none. The command
          // runs after the reservation on this one connection.
          Effect.onError(() => Effect.sync(() => void scripts.cancel(key, member).catch(() => {}))),
          Effect.zipRight(
            Effect.ensuring(
              restore(request),
              // Not awaited: the turn's window runs from when Redis hears of
              // the end, later than the end itself; if Redis never hears of
              // it, the reservation runs out after its hold.
              Effect.sync(() => void scripts.release(key, member, windowMillis).catch(() => {}))
            )
          )
        )
      })

    const withTurn = <A, E, R, E2>(
      request: Effect.Effect<A, E, R>,
      options: SfoxRateLimiter.TurnOptions<E2>
    ): Effect.Effect<A, E | E2 | RateLimiterUnavailable, R> => {
      if (fallback === undefined) return viaRedis(request, options)
      return Effect.flatMap(Clock.currentTimeMillis, (now) => {
        if (onFallback) {
          if (redis.status !== "ready") return viaFallback(fallback, request, options)
          if (inFallback > 0 || now < fallbackEndsAt) {
            // Redis is back. This process's fallback turns are unknown to
            // it: let them run out before taking shared turns, so that here
            // the two budgets never add up in one window.
            const wait = inFallback > 0 ? 20 : fallbackEndsAt - now
            if (wait > options.maxWaitMillis) return Effect.fail(options.onLate())
            return Effect.zipRight(
              Effect.sleep(Duration.millis(wait)),
              withTurn(request, { ...options, maxWaitMillis: options.maxWaitMillis - wait })
            )
          }
          onFallback = false
          return Effect.zipRight(
            Effect.logWarning(`sfox-effect: Redis at ${url.where} answers again; back on the shared budget`),
            withTurn(request, options)
          )
        }
        return Effect.catchIf(
          viaRedis(request, options),
          // Only the limiter's own failure, never the request's.
          (error): error is RateLimiterUnavailable =>
            error instanceof RateLimiterUnavailable && error.description.startsWith(`Redis at ${url.where}:`),
          (error) =>
            Effect.suspend(() => {
              const engaging = !onFallback
              onFallback = true
              const go = viaFallback(fallback, request, options)
              return engaging
                ? Effect.zipRight(
                  Effect.logWarning(
                    `sfox-effect: the shared sFOX budget is unavailable (${error.description}); this process now keeps to its fallback budget of ${fallbackText} until Redis answers again`
                  ),
                  go
                )
                : go
            })
        )
      })
    }

    return SfoxRateLimiter.of({ withTurn })
  })

/**
 * An `SfoxRateLimiter` on Redis: provide it once, and every
 * `UserTokenService` of the program, in every process using the same Redis
 * and `prefix`, takes its turns from one budget.
 *
 * @example
 * ```ts
 * import { UserTokenService } from "@sfox-effect/core"
 * import { NodeSfox } from "@sfox-effect/node"
 * import { RedisRateLimiter } from "@sfox-effect/redis"
 * import { Effect, Layer, Redacted } from "effect"
 *
 * const Budget = RedisRateLimiter.layer({
 *   url: Redacted.make("redis://:secret@127.0.0.1:6379"),
 *   limit: 250,
 *   interval: "10 seconds"
 * })
 *
 * const program = Effect.flatMap(UserTokenService, (tokens) => tokens.create("user-1")).pipe(
 *   Effect.provide(NodeSfox.layer),
 *   Effect.provide(Budget)
 * )
 * ```
 *
 * @since 0.2.0
 * @category layers
 */
export const layer = (options: Options): Layer.Layer<SfoxRateLimiter, ConfigError.ConfigError> =>
  Layer.scoped(SfoxRateLimiter, make(options))

/**
 * `layer` with the URL from configuration: by default the redacted
 * `SFOX_REDIS_URL`.
 *
 * @example
 * ```ts
 * import { NodeSfox } from "@sfox-effect/node"
 * import { RedisRateLimiter } from "@sfox-effect/redis"
 * import { Layer } from "effect"
 *
 * const Tokens = NodeSfox.layer.pipe(
 *   Layer.provide(RedisRateLimiter.layerConfig({ limit: 250, interval: "10 seconds" }))
 * )
 * ```
 *
 * @since 0.2.0
 * @category layers
 */
export const layerConfig = (options: ConfigOptions): Layer.Layer<SfoxRateLimiter, ConfigError.ConfigError> => {
  const { url = Config.redacted("SFOX_REDIS_URL"), ...rest } = options
  return Layer.scoped(SfoxRateLimiter, Effect.flatMap(url, (url) => make({ ...rest, url })))
}
