/**
 * `@sfox-effect/effect4-core`: mint sFOX Enterprise user auth tokens from
 * Effect 4 programs over any `HttpClient`. Test support (`FakeSfox`) lives in
 * `@sfox-effect/effect4-core/testing`.
 *
 * @since 0.1.0
 */

/**
 * Retry policies: the default, and how the service enforces `Retry-After`.
 *
 * @since 0.1.0
 */
export * from "./RetryPolicy.js"

/**
 * The Effect metrics the service updates.
 *
 * @since 0.1.0
 */
export * as SfoxMetrics from "./SfoxMetrics.js"

/**
 * The one budget every request to sFOX takes a turn from, shared by every
 * `UserTokenService` of a program that provides it.
 *
 * @since 0.2.0
 */
export * from "./SfoxRateLimiter.js"

/**
 * The typed errors and the `isTransient` predicate.
 *
 * @since 0.1.0
 */
export * from "./SfoxError.js"

/**
 * The token model and the wire schemas.
 *
 * @since 0.1.0
 */
export * from "./UserAuthToken.js"

/**
 * The service.
 *
 * @since 0.1.0
 */
export * from "./UserTokenService.js"

export {
  /**
   * The version of sfox-effect. Its packages are released together under
   * this one version; it is the one in the `User-Agent` of every request.
   *
   * @example
   * ```ts
   * import { version } from "@sfox-effect/effect4-core"
   *
   * console.log(`sfox-effect ${version}`)
   * ```
   *
   * @since 0.2.0
   * @category constants
   */
  version
} from "./internal/version.js"
