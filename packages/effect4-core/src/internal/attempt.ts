import * as Cause from "effect/Cause"
import type * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import type * as Fiber from "effect/Fiber"
import type { RequestFailure } from "../SfoxError.js"
import * as SfoxMetrics from "../SfoxMetrics.js"
import { errorType } from "./classify.js"
import { deadlines } from "./clientAbilities.js"
import type { Limit } from "./deadline.js"
import type { Received } from "./endpoint.js"
import * as Logging from "./logging.js"
import * as Telemetry from "./telemetry.js"
import { AttemptTimer, liveClock, timeoutFail } from "./timeout.js"

/** What one attempt is measured and bounded by. */
export interface Frame {
  /** The clock the call reads (the live one, or a `TestClock`). */
  readonly clock: Clock.Clock
  /** Whether the client ends its requests at the attempt's deadline itself (`clientAbilities.ts`). */
  readonly enforces: boolean
  /** Whether a tracer someone installed records spans (then the attempt's span gets its status). */
  readonly traced: boolean
  /** The attempt's time: its `timeout`, or what is left of the call's deadline. */
  readonly limit: Limit
  readonly endpoint: Telemetry.Endpoint
  /** When the attempt asked for its rate-limit turn (epoch millis): a long wait is logged. */
  readonly requestedAt: number
}

/**
 * One attempt: bounded by its time limit, timed into
 * `http.client.request.duration` by its status or its error (`Interrupted`
 * when its caller gave it up), its status set on its span.
 *
 * Under a client that enforces the attempt's deadline, on the live clock, the
 * attempt runs on the caller's fiber: a plain timer aborts the client's
 * request at the limit, and the attempt then fails with the limit's `onTimeout()`,
 * however it ended. Any other client, or any other clock, races the attempt
 * against the timeout (`timeoutFail`).
 *
 * The limit, the metric and the span's status are one exit handler, run
 * whatever the end (an interruption included): each was an `onExit` or an
 * `acquireUseRelease` of its own, and together they were a third of the
 * service's own cost per mint (bench/src/micro.ts).
 */
export const run = (
  exchange: Effect.Effect<Received, RequestFailure>,
  frame: Frame
): Effect.Effect<Received, RequestFailure> =>
  Effect.uninterruptibleMask((restore) =>
    Effect.withFiberRuntime<Received, RequestFailure>((fiber) => {
      const start = frame.clock.unsafeCurrentTimeMillis()
      const { millis, onTimeout } = frame.limit
      const deadline = frame.enforces && frame.clock === liveClock && Number.isFinite(millis)
        ? new AttemptTimer(millis)
        : undefined
      if (deadline !== undefined) deadlines.set(fiber, deadline)
      const attempt = Effect.matchCauseEffect(
        restore(deadline === undefined ? timeoutFail(exchange, millis, onTimeout) : exchange),
        {
          // A caller's interruption goes on as it is; anything else after the deadline is its Timeout.
          onFailure: (cause) =>
            ended(
              frame,
              start,
              expired(deadline, fiber) && !Cause.isInterruptedOnly(cause)
                ? Exit.fail(onTimeout())
                : Exit.failCause(cause)
            ),
          // An answer that came as the timer fired is late all the same (as under `timeoutFail`).
          onSuccess: (value) =>
            ended(frame, start, expired(deadline, fiber) ? Exit.fail(onTimeout()) : Exit.succeed(value))
        }
      )
      const waited = start - frame.requestedAt
      return waited < Logging.longTurnWaitMillis ? attempt : Effect.zipRight(Logging.waitedForTurn(waited), attempt)
    })
  )

/** Ends the attempt's deadline, however the attempt ended: whether it ran past it. */
const expired = (deadline: AttemptTimer | undefined, fiber: Fiber.RuntimeFiber<unknown, unknown>): boolean => {
  if (deadline === undefined) return false
  deadline.settle()
  deadlines.delete(fiber)
  return deadline.expired
}

/** Records the attempt's end; hands its exit on. */
const ended = (
  frame: Frame,
  start: number,
  exit: Exit.Exit<Received, RequestFailure>
): Effect.Effect<Received, RequestFailure> => {
  const seconds = (frame.clock.unsafeCurrentTimeMillis() - start) / 1000
  if (exit._tag === "Success") {
    const status = exit.value.status
    SfoxMetrics.requestDuration.unsafeUpdate(seconds, frame.endpoint.answered(status))
    return frame.traced ? Effect.zipRight(Telemetry.annotateAnswer(status), exit) : exit
  }
  const failure = Cause.failureOption(exit.cause)
  // An attempt given up by its caller ended without an answer or an error of its own.
  SfoxMetrics.requestDuration.unsafeUpdate(
    seconds,
    frame.endpoint.failed(failure._tag === "Some" ? errorType(failure.value) : "Interrupted")
  )
  return exit
}
