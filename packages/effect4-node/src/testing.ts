/**
 * Test support on Node: the sFOX simulation of `@sfox-effect/effect4-core/testing`
 * served over real HTTP on loopback, for integration tests, demos and
 * benchmarks. Kept out of the main entry so that a program importing
 * `NodeSfox` never loads it.
 *
 * @since 0.2.0
 */

/**
 * The sFOX simulation served over HTTP on loopback.
 *
 * @since 0.1.0
 */
export * from "./MockSfoxServer.js"
