/**
 * The one place the version is written in code. The packages are released
 * together under one version (changesets' fixed group), so this is also the
 * cli's; a test keeps it equal to every package.json.
 */
export const version: string = "0.1.0"

/** Names the library and its version to sFOX, as the issue asks of every request. */
export const userAgent = `sfox-effect/${version}`
