import { Version } from "@sfox-effect/domain"

/**
 * The version, written once in code (the domain's `Version`). The packages
 * are released together under one version (changesets' fixed group), so this
 * is also the cli's; a test keeps it equal to every package.json.
 */
export const version: string = Version.version

/** Names the library and its version to sFOX, as the issue asks of every request. */
export const userAgent: string = Version.userAgent
