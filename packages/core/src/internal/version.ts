/** Kept equal to packages/core/package.json's version by a test. */
export const version = "0.1.0"

/** Names the library and its version to sFOX, as the issue asks of every request. */
export const userAgent = `sfox-effect/${version}`
