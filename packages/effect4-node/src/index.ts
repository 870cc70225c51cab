/**
 * `@sfox-effect/effect4-node`: `UserTokenService` on Node for Effect 4, over a
 * tuned undici `HttpClient` (`effect/http`'s), with configuration from the
 * environment. `MockSfoxServer`, the sFOX simulation on loopback, is in
 * `@sfox-effect/effect4-node/testing`. The Effect 3.x line's twin is
 * `@sfox-effect/node`.
 *
 * @since 0.1.0
 */

/**
 * `UserTokenService` on Node: the tuned undici `HttpClient` and the service
 * from environment configuration over it.
 *
 * @since 0.1.0
 */
export * as NodeSfox from "./NodeSfox.js"
