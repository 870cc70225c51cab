/**
 * `@sfox-effect/node`: `UserTokenService` on Node, over a tuned undici
 * `HttpClient`, with configuration from the environment. `MockSfoxServer`,
 * the sFOX simulation on loopback, is in `@sfox-effect/node/testing`; the
 * `sfox-tokens` command line is `@sfox-effect/cli`.
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
