/**
 * `@sfox-effect/node`: `UserTokenService` on Node (a tuned undici
 * `HttpClient`, configuration from the environment) and the `sfox-tokens`
 * command line. `MockSfoxServer`, the sFOX simulation on loopback, is in
 * `@sfox-effect/node/testing`.
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

/**
 * The `sfox-tokens` command line: its command, `run(argv)` and exit codes.
 *
 * @since 0.1.0
 */
export * as Cli from "./Cli.js"
