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
import type { SfoxRateLimiter } from "@sfox-effect/effect4-core"
import type * as Config from "effect/Config"
import type * as Duration from "effect/Duration"
import type * as Effect from "effect/Effect"
import type * as Layer from "effect/Layer"
import type * as Redacted from "effect/Redacted"
import type * as Scope from "effect/Scope"
import * as InternalOptions from "./internal/options.js"
import * as Internal from "./internal/rateLimiter.js"

/**
 * Options of `make` and `layer`.
 *
 * @example
 * ```ts
 * import { RedisRateLimiter } from "@sfox-effect/effect4-redis"
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
  readonly interval: Duration.Input
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
  readonly commandTimeout?: Duration.Input | undefined
  /**
   * How long a turn is held for a request whose end is never reported (its
   * process died), when its caller gives no bound of its own.
   * `UserTokenService` always gives one: the attempt's timeout.
   * @default "1 minute"
   */
  readonly maxRequestDuration?: Duration.Input | undefined
  /**
   * How long building the layer waits for the first connection. Past it,
   * the layer is built anyway (with a warning), and calls fail with
   * `RateLimiterUnavailable` until Redis answers.
   * @default "5 seconds"
   */
  readonly connectTimeout?: Duration.Input | undefined
  /**
   * Opt-in: a budget for this process alone, used while Redis cannot be
   * reached (a warning is logged when it engages, and when Redis is back).
   * Make it conservative: `limit / processes` at most. Without it, calls
   * fail with `RateLimiterUnavailable` while Redis is down.
   * @default none
   */
  readonly fallback?: { readonly limit: number; readonly interval: Duration.Input } | undefined
}

/**
 * Options of `layerConfig`: `url` as a `Config` (by default the redacted
 * `SFOX_REDIS_URL`), the rest as plain values.
 *
 * @example
 * ```ts
 * import { RedisRateLimiter } from "@sfox-effect/effect4-redis"
 * import { Config } from "effect"
 *
 * const options: RedisRateLimiter.ConfigOptions = {
 *   url: Config.Redacted("PAYMENTS_REDIS_URL"),
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
 * import { RedisRateLimiter } from "@sfox-effect/effect4-redis"
 *
 * // One budget per egress IP: keep the default visible in the key.
 * const prefixFor = (egressIp: string) => `${RedisRateLimiter.defaultPrefix}${egressIp}:`
 * ```
 *
 * @since 0.2.0
 * @category constants
 */
export const defaultPrefix: "sfox-effect:rate-limit:" = InternalOptions.defaultPrefix

/**
 * A Redis-backed `SfoxRateLimiter.Service`, connected for the life of the
 * scope. Fails with a `ConfigError` on options out of range; never on Redis
 * being down (calls fail then, typed).
 *
 * @example
 * ```ts
 * import { RedisRateLimiter } from "@sfox-effect/effect4-redis"
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
export const make: (
  options: Options
) => Effect.Effect<SfoxRateLimiter.Service, Config.ConfigError, Scope.Scope> = Internal.make

/**
 * An `SfoxRateLimiter` on Redis: provide it once, and every
 * `UserTokenService` of the program, in every process using the same Redis
 * and `prefix`, takes its turns from one budget.
 *
 * @example
 * ```ts
 * import { UserTokenService } from "@sfox-effect/effect4-core"
 * import { NodeSfox } from "@sfox-effect/effect4-node"
 * import { RedisRateLimiter } from "@sfox-effect/effect4-redis"
 * import { Effect, Redacted } from "effect"
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
export const layer: (options: Options) => Layer.Layer<SfoxRateLimiter, Config.ConfigError> = Internal.layer

/**
 * `layer` with the URL from configuration: by default the redacted
 * `SFOX_REDIS_URL`.
 *
 * @example
 * ```ts
 * import { NodeSfox } from "@sfox-effect/effect4-node"
 * import { RedisRateLimiter } from "@sfox-effect/effect4-redis"
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
export const layerConfig: (options: ConfigOptions) => Layer.Layer<SfoxRateLimiter, Config.ConfigError> =
  Internal.layerConfig
