/**
 * `@sfox-effect/effect4-redis`: one sFOX rate-limit budget shared by every process,
 * as an `SfoxRateLimiter` on Redis.
 *
 * @since 0.2.0
 */

/**
 * `RedisRateLimiter.layer({ url, limit, interval, prefix? })`: an
 * `SfoxRateLimiter` whose window every process on the same Redis and prefix
 * shares.
 *
 * @since 0.2.0
 */
export * as RedisRateLimiter from "./RedisRateLimiter.js"
