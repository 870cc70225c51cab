import type * as HttpClient from "@effect/platform/HttpClient"
import type * as HttpClientError from "@effect/platform/HttpClientError"
import type * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import type * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Inspectable from "effect/Inspectable"
import type * as Schedule from "effect/Schedule"
import * as ScheduleDecision from "effect/ScheduleDecision"
import * as ScheduleIntervals from "effect/ScheduleIntervals"
import type { RequestFailure } from "../SfoxError.js"
import type { SfoxRateLimiter } from "../SfoxRateLimiter.js"
import * as Attempt from "./attempt.js"
import * as AttemptDeadline from "./clientProtocol.js"
import * as Logging from "./logging.js"
import { refusedRedirectResponse } from "./originGuard.js"
import { isReplayable } from "./replayable.js"
import * as Telemetry from "./telemetry.js"
import { fromHttpClientError, timeout as timeoutError } from "./transport.js"

/**
 * An answer that the call would rather not have (a 503 to a `GET`, say): it
 * is retried like a failure, and handed to the caller as it is when no retry
 * follows. `release` gives its connection back before a retry.
 */
export class Unwelcome<A> {
  constructor(
    readonly value: A,
    readonly failure: RequestFailure,
    readonly release: Effect.Effect<void>
  ) {}

  // An attempt's span renders its failure: it is the failure's, never the
  // answer's (whose headers are whatever the server chose to echo).
  toJSON(): unknown {
    return this.failure.toJSON()
  }
  toString(): string {
    return String(this.failure)
  }
  [Inspectable.NodeInspectSymbol](): unknown {
    return this.failure.toJSON()
  }
}

/** The batch size a span starts with: not yet known for a request built at the turn. */
const sizeOf = (call: Pick<Call<unknown, unknown>, "batchSize">): number | undefined =>
  typeof call.batchSize === "function" ? undefined : call.batchSize

const failureOf = <A>(error: RequestFailure | Unwelcome<A>): RequestFailure =>
  error instanceof Unwelcome ? error.failure : error

/**
 * One kind of request to sFOX: the pipeline runs it, the call says what its
 * answer means. `create`, `createMany`, `get` and `clientFor` are each one of
 * these.
 */
export interface Call<R, A> {
  /**
   * The request; or a function that builds it the moment the rate-limit turn
   * is granted, on each attempt (a batch of `get` takes joiners until then),
   * and `undefined` when there is nothing left to send (the call is then
   * interrupted).
   */
  readonly request: HttpClientRequest.HttpClientRequest | (() => HttpClientRequest.HttpClientRequest | undefined)
  /**
   * Reads an answer into what the call needs of it (its body, say), within
   * the attempt's time and rate-limit turn. A redirect the origin guard
   * refused comes here too, as the response it was. `clock` is the call's
   * (to note when the answer came without an effect to read it).
   */
  readonly receive: (
    response: HttpClientResponse.HttpClientResponse,
    clock: Clock.Clock
  ) => Effect.Effect<R, HttpClientError.HttpClientError>
  /** The status of what `receive` read, for the metrics and the attempt's span. */
  readonly statusOf: (received: R) => number
  /** What the call returns for what was read, or why the attempt failed. */
  readonly judge: (received: R) => Effect.Effect<A, RequestFailure | Unwelcome<A>>
  /**
   * Whether this request may be sent again after `failure`, whatever the
   * retry policy says: a request that may have reached sFOX and is not
   * idempotent may not. Every failure may, when absent. A request whose body
   * cannot be replayed (`isReplayable`) is never sent again, whatever this says.
   */
  readonly mayResend?: ((failure: RequestFailure) => boolean) | undefined
  /** When the call, retries included, must be over (epoch millis); `deadline` from its start when absent. */
  readonly deadlineAt?: number | undefined
  /** What kind of request this is, for its attempts' spans and metrics. */
  readonly endpoint: Telemetry.Endpoint
  /** The ids in a token request, for its attempts' spans; a function when the request is built at the turn. */
  readonly batchSize?: number | (() => number) | undefined
}

/**
 * Whether an attempt's request can be sent again byte for byte: one built at
 * the turn is built afresh for each attempt; a given one only if its body
 * can be replayed.
 */
const mayBeBuiltAgain = (request: Call<unknown, unknown>["request"]): boolean =>
  typeof request === "function" || isReplayable(request.body)

/** The one way a request reaches sFOX. */
export interface Pipeline {
  readonly send: <R, A>(call: Call<R, A>) => Effect.Effect<A, RequestFailure>
}

export interface PipelineOptions {
  /** Under the origin guard and any `transformClient`. */
  readonly client: HttpClient.HttpClient
  readonly limiter: SfoxRateLimiter.Service
  readonly timeoutMillis: number
  readonly deadlineMillis: number
  /** The retry policy with the service's own rules already enforced (`RetryPolicy.enforce`). */
  readonly retry: Schedule.Schedule<unknown, RequestFailure>
}

/**
 * The request pipeline: a rate-limit turn, the attempt under its timeout,
 * classification of what went wrong, retries by the policy, telemetry, all
 * bounded by the call's deadline. A request is sent again only if its body
 * can be: one read once (a stream) ends the call with its first answer.
 *
 * The deadline is not a race around the call (a race forks two fibers on the
 * path of every mint) but a bound on each wait: the rate-limit turn, the
 * attempt's timeout, and the retry delay. A retry that could not start before
 * the deadline is not made: the call ends with the failure (or the unwelcome
 * answer) it has.
 */
export const make = (options: PipelineOptions): Pipeline => {
  const { client, deadlineMillis, limiter, retry, timeoutMillis } = options
  const pastDeadline = () => timeoutError("the call, retries included,", deadlineMillis)
  const attemptTimedOut = () => timeoutError("an attempt", timeoutMillis)
  // Asked once: the client does not change.
  const enforces = AttemptDeadline.isEnforcedBy(client)

  /** A request built at the turn: its batch size goes on the attempt's span once it is known. */
  const built = (call: Pick<Call<unknown, unknown>, "request" | "batchSize">, traced: boolean) =>
    Effect.suspend(() => {
      const request = (call.request as () => HttpClientRequest.HttpClientRequest | undefined)()
      if (request === undefined) return Effect.interrupt
      const size = call.batchSize
      return traced && typeof size === "function"
        ? Effect.zipRight(Effect.annotateCurrentSpan("sfox.batch_size", size()), client.execute(request))
        : client.execute(request)
    })

  const exchange = <R>(call: Call<R, unknown>, clock: Clock.Clock, traced: boolean): Effect.Effect<R, RequestFailure> =>
    Effect.catchAll(
      Effect.flatMap(
        typeof call.request === "function" ? built(call, traced) : client.execute(call.request),
        (response) => call.receive(response, clock)
      ),
      (error) => {
        const redirect = refusedRedirectResponse(error)
        return redirect === undefined
          ? Effect.fail(fromHttpClientError(error))
          : Effect.mapError(call.receive(redirect, clock), fromHttpClientError)
      }
    )

  // The clock and the tracer are read once per call, from the caller's fiber:
  // each read as an effect of its own was a step of every attempt.
  const send = <R, A>(call: Call<R, A>): Effect.Effect<A, RequestFailure> =>
    Effect.withFiberRuntime((fiber) => {
      const clock = Context.get(fiber.currentDefaultServices, Clock.Clock)
      const traced = Telemetry.isRecording(fiber.currentTracer)
      const startedAt = clock.unsafeCurrentTimeMillis()
      const deadlineAt = call.deadlineAt ?? startedAt + deadlineMillis
      const attempt = (now: number, attempt: number, delayMillis: number) => {
        const left = deadlineAt - now
        const lastChance = left <= timeoutMillis
        const received = Attempt.run(exchange(call, clock, traced), {
          clock,
          enforces,
          traced,
          millis: lastChance ? left : timeoutMillis,
          onTimeout: lastChance ? pastDeadline : attemptTimedOut,
          statusOf: call.statusOf,
          endpoint: call.endpoint,
          requestedAt: now
        })
        return limiter.withTurn(received, {
          maxWaitMillis: left,
          onLate: pastDeadline,
          maxDurationMillis: lastChance ? left : timeoutMillis
        }).pipe(
          Effect.flatMap(call.judge),
          Telemetry.attemptSpan(traced, call.endpoint, sizeOf(call), attempt, delayMillis, failureOf)
        )
      }
      const loop = (
        state: unknown,
        now: number,
        attemptNumber: number,
        delayMillis: number
      ): Effect.Effect<A, RequestFailure> =>
        Effect.catchAll(attempt(now, attemptNumber, delayMillis), (error) => {
          const unwelcome = error instanceof Unwelcome ? error : undefined
          const failure = failureOf(error)
          const end = Effect.zipRight(
            Logging.rateLimitedNotRetried(failure, attemptNumber),
            unwelcome === undefined ? Effect.fail(failure) : Effect.succeed(unwelcome.value)
          )
          if (
            (call.mayResend !== undefined && !call.mayResend(failure)) || !mayBeBuiltAgain(call.request)
          ) return end
          const failedAt = clock.unsafeCurrentTimeMillis()
          return Effect.flatMap(retry.step(failedAt, failure, state), ([next, , decision]) => {
            if (ScheduleDecision.isDone(decision)) {
              return end
            }
            const resumeAt = Math.max(failedAt, ScheduleIntervals.start(decision.intervals))
            if (resumeAt >= deadlineAt) {
              return end
            }
            Telemetry.retried()
            const delay = resumeAt - failedAt
            const logged = Logging.retrying(failure, attemptNumber, delay)
            const again = delay === 0
              ? loop(next, failedAt, attemptNumber + 1, 0)
              : Effect.zipRight(
                Effect.sleep(Duration.millis(delay)),
                loop(next, resumeAt, attemptNumber + 1, delay)
              )
            return Effect.zipRight(
              logged,
              unwelcome === undefined ? again : Effect.zipRight(unwelcome.release, again)
            )
          })
        })
      return loop(retry.initial, startedAt, 1, 0)
    })

  return { send }
}
