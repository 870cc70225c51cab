import { LogLines } from "@sfox-effect/domain"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import type { RequestFailure } from "../SfoxError.js"
import { summaryOf } from "./telemetry.js"

/**
 * What the library tells the program's `Logger`: the lines, their levels
 * and annotations are the domain's `LogLines` (read it for what is logged
 * when, and what a line may never hold); here they reach Effect's logger.
 */

// Each line as the program's logger sees it.
const log = (line: LogLines.Line): Effect.Effect<void> =>
  (line.level === "Warning"
    ? Effect.logWarning(line.message)
    : line.level === "Info"
    ? Effect.logInfo(line.message)
    : Effect.logDebug(line.message)).pipe(Effect.annotateLogs(line.annotations))

/** A failed attempt that will be sent again after `delayMillis`. */
export const retrying = (failure: RequestFailure, attempt: number, delayMillis: number): Effect.Effect<void> =>
  log(LogLines.retrying(failure, summaryOf(failure), attempt, delayMillis))

/** A 429 the call ends with: a lockout, or a wait longer than it may take. */
export const rateLimitedNotRetried = (failure: RequestFailure, attempt: number): Effect.Effect<void> =>
  failure._tag === "RateLimited"
    ? log(
      LogLines.rateLimitedNotRetried(
        failure,
        attempt,
        Duration.toMillis(failure.retryAfter),
        Duration.format(failure.retryAfter)
      )
    )
    : Effect.void

/** sFOX refused a batch for some of its users: it is halved to find them. */
export const batchSplit = (size: number, failure: RequestFailure): Effect.Effect<void> =>
  log(LogLines.batchSplit(size, failure))

/** Waits for a rate-limit turn at least this long are logged. */
export const longTurnWaitMillis = LogLines.longTurnWaitMillis

/** A caller waited `millis` (at least `longTurnWaitMillis`) for its rate-limit turn. */
export const waitedForTurn = (millis: number): Effect.Effect<void> => log(LogLines.waitedForTurn(millis))
