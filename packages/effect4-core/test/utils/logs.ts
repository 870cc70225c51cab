import { Effect, Logger } from "effect"

/** A log line as a test sees it: its level's label (`WARN`, `INFO`…) and its message. */
export interface LogLine {
  readonly level: string
  readonly message: string
}

const text = (message: unknown): string =>
  Array.isArray(message) ? message.map((part) => String(part)).join(" ") : String(message)

/**
 * Runs `effect` with its log lines kept instead of printed, for a test that
 * provokes warnings on purpose: they would read as failures in the test
 * run's output. Returns the effect's result with the lines, for the test to
 * assert on. Only `effect` is affected: no logger is replaced globally.
 *
 * Effect 4 names a level `"Warn"`; the label kept is upper case (`WARN`),
 * as the 3.x line's tests read it.
 */
export const withCapturedLogs = <A, E, R>(
  effect: Effect.Effect<A, E, R>
): Effect.Effect<readonly [A, ReadonlyArray<LogLine>], E, R> =>
  Effect.suspend(() => {
    const lines: Array<LogLine> = []
    const keep = Logger.make(({ logLevel, message }) => {
      lines.push({ level: logLevel.toUpperCase(), message: text(message) })
    })
    return effect.pipe(
      Effect.provide(Logger.layer([keep])),
      Effect.map((a) => [a, lines] as const)
    )
  })

/** The messages of the `WARN` lines. */
export const warnings = (lines: ReadonlyArray<LogLine>): ReadonlyArray<string> =>
  lines.filter((line) => line.level === "WARN").map((line) => line.message)
