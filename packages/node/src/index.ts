/**
 * @since 0.1.0
 */

/**
 * The sFOX simulation served over HTTP on loopback.
 *
 * @since 0.1.0
 */
export * from "./MockSfoxServer.js"
