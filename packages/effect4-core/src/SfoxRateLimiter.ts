/**
 * `SfoxRateLimiter`: the one budget every request to sFOX takes a turn from.
 *
 * sFOX counts requests per egress IP (250 per 10 s) and locks the key out
 * for 60 s on the first one over. A `UserTokenService` keeps its own limiter
 * (its `rateLimit` option); when a program provides an `SfoxRateLimiter`,
 * every `UserTokenService` built in it takes its turns from that one instead,
 * however many service layers exist. `SfoxRateLimiter.layer` is the
 * in-process limiter; `RedisRateLimiter.layer` of `@sfox-effect/effect4-redis` shares
 * one window between processes.
 *
 * @since 0.2.0
 */
import type * as Config from "effect/Config"
import * as Context from "effect/Context"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type * as Scope from "effect/Scope"
import * as Internal from "./internal/rateLimiter.js"
import type { RateLimiterUnavailable } from "./SfoxError.js"

/**
 * The budget of requests to sFOX, shared by every `UserTokenService` of the
 * program that provides it.
 *
 * @example
 * ```ts
 * import { SfoxRateLimiter, UserTokenService } from "@sfox-effect/effect4-core"
 * import { FetchHttpClient } from "effect/http"
 * import { Effect, Layer, Redacted } from "effect"
 *
 * // Two services (two keys' worth of code, one egress IP): one budget.
 * const Budget = SfoxRateLimiter.layer({ limit: 250, interval: "10 seconds" })
 * const tokens = UserTokenService.layer({ apiKey: Redacted.make("my-enterprise-key") })
 *
 * const program = Effect.flatMap(UserTokenService, (service) => service.create("user-1")).pipe(
 *   Effect.provide(tokens),
 *   Effect.provide(Layer.merge(Budget, FetchHttpClient.layer))
 * )
 * ```
 *
 * @since 0.2.0
 * @category services
 */
export class SfoxRateLimiter extends Context.Service<SfoxRateLimiter, SfoxRateLimiter.Service>()(
  "@sfox-effect/effect4-core/SfoxRateLimiter"
) {
  /**
   * An in-process limiter: at most `limit` requests in any `interval`, a
   * request counted from the moment it is sent until `interval` after it
   * completed, so that no window on sFOX's clock holds more than `limit`
   * whatever the latency. The window is kept 1 % longer than asked. Fails
   * with a `ConfigError` when `limit` is not a positive integer or
   * `interval` not a positive duration.
   *
   * @example
   * ```ts
   * import { SfoxRateLimiter } from "@sfox-effect/effect4-core"
   * import { Effect } from "effect"
   *
   * // A limiter of one's own, to pace other calls to sFOX by the same budget.
   * const program = Effect.gen(function*() {
   *   const limiter = yield* SfoxRateLimiter.make({ limit: 250, interval: "10 seconds" })
   *   return yield* limiter.withTurn(Effect.succeed("sent"), {
   *     maxWaitMillis: 5_000,
   *     onLate: () => new Error("no turn within 5 s")
   *   })
   * }).pipe(Effect.scoped)
   * ```
   *
   * @since 0.2.0
   */
  static readonly make = (
    options: SfoxRateLimiter.Options
  ): Effect.Effect<SfoxRateLimiter.Service, Config.ConfigError, Scope.Scope> =>
    Effect.flatMap(Internal.checkBudget(options), ({ interval, limit }) => Internal.make(limit, interval))

  /**
   * `make` as a layer: provide it once, and every `UserTokenService` built
   * in the program shares it.
   *
   * @example
   * ```ts
   * import { SfoxRateLimiter, UserTokenService } from "@sfox-effect/effect4-core"
   * import { FetchHttpClient } from "effect/http"
   * import { Layer, Redacted } from "effect"
   *
   * // Leave headroom under sFOX's 250 per 10 s for another client on the same IP.
   * const Tokens = UserTokenService.layer({ apiKey: Redacted.make("my-enterprise-key") }).pipe(
   *   Layer.provide(SfoxRateLimiter.layer({ limit: 200, interval: "10 seconds" })),
   *   Layer.provide(FetchHttpClient.layer)
   * )
   * ```
   *
   * @since 0.2.0
   */
  static readonly layer = (options: SfoxRateLimiter.Options): Layer.Layer<SfoxRateLimiter, Config.ConfigError> =>
    Layer.effect(SfoxRateLimiter, SfoxRateLimiter.make(options))
}

/**
 * The types of `SfoxRateLimiter`.
 *
 * @example
 * ```ts
 * import { SfoxRateLimiter } from "@sfox-effect/effect4-core"
 *
 * const budget: SfoxRateLimiter.Options = { limit: 250, interval: "10 seconds" }
 * ```
 *
 * @since 0.2.0
 * @category models
 */
export declare namespace SfoxRateLimiter {
  /**
   * A budget of requests. Implement it to put the window somewhere else
   * (the Redis one of `@sfox-effect/effect4-redis` does).
   *
   * @example
   * ```ts
   * import { SfoxRateLimiter } from "@sfox-effect/effect4-core"
   * import { Layer } from "effect"
   *
   * // No limit at all: for a test that counts requests, not turns.
   * const Unlimited = Layer.succeed(SfoxRateLimiter, { withTurn: (request) => request })
   * ```
   *
   * @since 0.2.0
   * @category models
   */
  export interface Service {
    /**
     * Runs `request` as one request to sFOX: waits for a turn (at most
     * `options.maxWaitMillis`, after which it fails with `options.onLate()`
     * and takes none), runs the request, and counts it until the window's
     * length after the request ended. A limiter whose store is out of reach,
     * or whose scope is closed, fails with `RateLimiterUnavailable` (every
     * caller still waiting, whatever its longest wait), and never runs the
     * request without a turn. Interrupting a waiting caller takes no turn.
     */
    readonly withTurn: <A, E, R, E2>(
      request: Effect.Effect<A, E, R>,
      options: TurnOptions<E2>
    ) => Effect.Effect<A, E | E2 | RateLimiterUnavailable, R>
  }

  /**
   * How one caller waits for its turn.
   *
   * @example
   * ```ts
   * import { SfoxRateLimiter } from "@sfox-effect/effect4-core"
   *
   * const turn: SfoxRateLimiter.TurnOptions<string> = {
   *   maxWaitMillis: 2_000,
   *   onLate: () => "busy: try again later",
   *   maxDurationMillis: 10_000
   * }
   * ```
   *
   * @since 0.2.0
   * @category models
   */
  export interface TurnOptions<E2> {
    /** The longest wait for a turn, in milliseconds (`Infinity`: no bound). */
    readonly maxWaitMillis: number
    /** The failure of a caller that would wait longer. */
    readonly onLate: () => E2
    /**
     * How long the request can run at most (its timeout), in milliseconds.
     * A limiter shared between processes holds the turn of a request whose
     * process died for at most this long past its start, then a window.
     */
    readonly maxDurationMillis?: number | undefined
  }

  /**
   * A budget: at most `limit` requests in any `interval`.
   *
   * @example
   * ```ts
   * import { SfoxRateLimiter } from "@sfox-effect/effect4-core"
   *
   * // sFOX's documented limit per egress IP.
   * const sfoxLimit: SfoxRateLimiter.Options = { limit: 250, interval: "10 seconds" }
   * ```
   *
   * @since 0.2.0
   * @category models
   */
  export interface Options {
    readonly limit: number
    readonly interval: Duration.Input
  }
}
