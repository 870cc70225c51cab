/**
 * `@sfox-effect/redis`: one sFOX rate-limit budget shared by every process,
 * as an `SfoxRateLimiter` on Redis.
 *
 * @since 0.1.0
 */

/**
 * `RedisRateLimiter.layer({ url, limit, interval, prefix? })`: an
 * `SfoxRateLimiter` whose window every process on the same Redis and prefix
 * shares.
 *
 * @since 0.1.0
 */
export * as RedisRateLimiter from "./RedisRateLimiter.js"
