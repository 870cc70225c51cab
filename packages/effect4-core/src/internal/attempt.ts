import * as Cause from "effect/Cause"
import type * as Clock from "effect/Clock"
import type * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import type * as Fiber from "effect/Fiber"
import type { RequestFailure } from "../SfoxError.js"
import { errorType } from "./classify.js"
import { deadlines } from "./clientAbilities.js"
import type { Limit } from "./deadline.js"
import type { Received } from "./endpoint.js"
import * as Logging from "./logging.js"
import * as Telemetry from "./telemetry.js"
import { AttemptTimer, liveClock, timeoutOrFail } from "./timeout.js"

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
 * against the timeout (`timeoutOrFail`).
 *
 * The limit, the metric and the span's status are one exit handler, run
 * whatever the end (an interruption included): each was an `onExit` or an
 * `acquireUseRelease` of its own in the 3.x shell, and together they were a
 * third of the service's own cost per mint (bench/src/micro.ts). The fiber
 * is read once (`Effect.withFiber`): its context is where the metric counts.
 */
export const run = (
  exchange: Effect.Effect<Received, RequestFailure>,
  frame: Frame
): Effect.Effect<Received, RequestFailure> =>
  Effect.uninterruptibleMask((restore) =>
    Effect.withFiber<Received, RequestFailure>((fiber) => {
      const start = frame.clock.currentTimeMillisUnsafe()
      const { millis, onTimeout } = frame.limit
      const deadline = frame.enforces && frame.clock === liveClock && Number.isFinite(millis)
        ? new AttemptTimer(millis)
        : undefined
      if (deadline !== undefined) deadlines.set(fiber, deadline)
      const attempt = Effect.matchCauseEffect(
        restore(deadline === undefined ? timeoutOrFail(exchange, millis, onTimeout) : exchange),
        {
          // A caller's interruption goes on as it is; anything else after the deadline is its Timeout.
          onFailure: (cause) =>
            afterAborts(deadline, () =>
              ended(
                frame,
                fiber.context,
                start,
                expired(deadline, fiber) && !Cause.hasInterruptsOnly(cause)
                  ? Exit.fail(onTimeout())
                  : Exit.failCause(cause)
              )),
          // An answer that came as the timer fired is late all the same (as under `timeoutOrFail`).
          onSuccess: (value) =>
            afterAborts(deadline, () =>
              ended(
                frame,
                fiber.context,
                start,
                expired(deadline, fiber) ? Exit.fail(onTimeout()) : Exit.succeed(value)
              ))
        }
      )
      const waited = start - frame.requestedAt
      return waited < Logging.longTurnWaitMillis ? attempt : Effect.andThen(Logging.waitedForTurn(waited), attempt)
    })
  )

/**
 * Once the timer has fired, the attempt is ended only after every abort it
 * holds has run. Effect 4 resumes a fiber inline, on the stack of whoever
 * resumes it: a client whose abort resumes the request would otherwise run
 * the caller on, past this attempt, before the timer's next abort (the
 * attempt's other request) is called. A yield lets the timer finish first;
 * only an attempt past its deadline pays it.
 */
const afterAborts = <A, E>(
  deadline: AttemptTimer | undefined,
  end: () => Effect.Effect<A, E>
): Effect.Effect<A, E> =>
  deadline !== undefined && deadline.expired ? Effect.andThen(Effect.yieldNow, Effect.suspend(end)) : end()

/** Ends the attempt's deadline, however the attempt ended: whether it ran past it. */
const expired = (deadline: AttemptTimer | undefined, fiber: Fiber.Fiber<unknown, unknown>): boolean => {
  if (deadline === undefined) return false
  deadline.settle()
  deadlines.delete(fiber)
  return deadline.expired
}

/** Records the attempt's end in the caller's context (its metric registry); hands its exit on. */
const ended = (
  frame: Frame,
  context: Context.Context<never>,
  start: number,
  exit: Exit.Exit<Received, RequestFailure>
): Effect.Effect<Received, RequestFailure> => {
  const seconds = (frame.clock.currentTimeMillisUnsafe() - start) / 1000
  if (exit._tag === "Success") {
    const status = exit.value.status
    frame.endpoint.answered(status).updateUnsafe(seconds, context)
    return frame.traced ? Effect.andThen(Telemetry.annotateAnswer(status), exit) : exit
  }
  const failure = Cause.findErrorOption(exit.cause)
  // An attempt given up by its caller ended without an answer or an error of its own.
  frame.endpoint.failed(failure._tag === "Some" ? errorType(failure.value) : "Interrupted").updateUnsafe(
    seconds,
    context
  )
  return exit
}
