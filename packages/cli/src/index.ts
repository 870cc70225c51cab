/**
 * `@sfox-effect/cli`: the `sfox-tokens` command line, which mints sFOX
 * Enterprise user auth tokens from a shell. The package's `sfox-tokens` bin
 * runs it; this entry exports the command itself, for embedding and tests.
 *
 * @since 0.2.0
 */

/**
 * The `sfox-tokens` command line: its command, `run(argv)` and exit codes.
 *
 * @since 0.1.0
 */
export * as Cli from "./Cli.js"
