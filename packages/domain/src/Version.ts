/**
 * The version of the library, written once in code.
 *
 * @since 0.1.0
 */

/**
 * The version of the packages (released together under one version, the
 * domain's included; a test keeps it equal to every package.json).
 *
 * @since 0.1.0
 */
export const version: string = "0.1.0"

/**
 * Names the library and its version to sFOX, as the issue asks of every request.
 *
 * @since 0.1.0
 */
export const userAgent = `sfox-effect/${version}`
