import * as Clock from "effect/Clock"
import type * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import type * as HttpClient from "effect/http/HttpClient"
import * as HttpClientRequest from "effect/http/HttpClientRequest"
import type * as HttpClientResponse from "effect/http/HttpClientResponse"
import * as Pull from "effect/Pull"
import * as Schedule from "effect/Schedule"
import * as Tracer from "effect/Tracer"
import type { RequestFailure } from "../SfoxError.js"
import type { SfoxRateLimiter } from "../SfoxRateLimiter.js"
import * as Attempt from "./attempt.js"
import { enforcesDeadline } from "./clientAbilities.js"
import * as Deadline from "./deadline.js"
import {
  type BuildAtTurn,
  type Endpoint,
  failureIn,
  judge,
  mayBeBuiltAgain,
  read,
  type Received,
  Unwelcome
} from "./endpoint.js"
import * as Logging from "./logging.js"
import { refusedRedirectResponse } from "./originGuard.js"
import type { Scrubber } from "./scrub.js"
import * as Telemetry from "./telemetry.js"
import { fromHttpClientError } from "./transport.js"

/** How one call is sent, beyond its endpoint and input. */
export interface SendOptions {
  /** The call's deadline when it is part of a larger call; from its start when absent. */
  readonly deadline?: Deadline.Deadline | undefined
  /** Sent as a user: the `Authorization` header's value (`Bearer <token>`). */
  readonly authorization?: string | undefined
}

/** The one way a request reaches sFOX. */
export interface Pipeline {
  readonly send: <I, A>(endpoint: Endpoint<I, A>, input: I, options?: SendOptions) => Effect.Effect<A, RequestFailure>
}

export interface PipelineOptions {
  /** Under the origin guard and any `transformClient`. */
  readonly client: HttpClient.HttpClient
  readonly limiter: SfoxRateLimiter.Service
  /** Origin plus optional path prefix, no trailing slash: where an endpoint's paths go. */
  readonly baseUrl: string
  readonly timeoutMillis: number
  readonly deadlineMillis: number
  /** The retry policy with the service's own rules already enforced (`RetryPolicy.enforce`). */
  readonly retry: Schedule.Schedule<unknown, RequestFailure>
  readonly scrubber: Scrubber
}

/** The retry policy's step for one call: Effect 4's schedules keep their state in it. */
type Step = (now: number, failure: RequestFailure) => Pull.Pull<[unknown, Duration.Duration], never, unknown>

/** What one call carries from attempt to attempt: read once, at its start. */
interface Sending<I, A> {
  readonly endpoint: Endpoint<I, A>
  readonly input: I
  readonly request: ReturnType<Endpoint<I, A>["request"]>
  readonly telemetry: Telemetry.Endpoint
  readonly deadline: Deadline.Deadline
  readonly clock: Clock.Clock
  /** The caller's context: where the call's metrics count. */
  readonly context: Context.Context<never>
  /** Whether a tracer someone installed records spans. */
  readonly traced: boolean
  /** The retry policy's step, made at the call's first failure: a call that succeeds at once never makes one. */
  step: Step | undefined
}

/**
 * The request pipeline: `send(endpoint, input)` takes a rate-limit turn,
 * makes the attempt under its time limit, reads the answer, classifies its
 * status (the one place: `judge`), decodes it, and retries by the policy,
 * all within one deadline. A request is sent again only if its body can be:
 * one read once (a stream) ends the call with its first answer.
 *
 * The deadline is a bound on each wait (the turn, the attempt, the retry
 * delay), not a race. A retry that could not start before it is not made:
 * the call ends with the failure (or the unwelcome answer) it has.
 */
export const make = (options: PipelineOptions): Pipeline => {
  const { baseUrl, client } = options
  const shell: Shell = {
    ...options,
    origin: new URL(baseUrl).origin,
    timeout: Deadline.attemptTimeout(options.timeoutMillis),
    // Asked once: the client does not change.
    enforces: enforcesDeadline(client),
    telemetryOf: telemetryCache(Telemetry.serverOf(baseUrl)),
    exchange: exchangeWith(client)
  }
  // The clock, the tracer and the context are read once per call, from the
  // caller's fiber (`Effect.withFiber`: no step of its own): each read as an
  // effect of its own was a step of every attempt.
  const send = <I, A>(endpoint: Endpoint<I, A>, input: I, options?: SendOptions): Effect.Effect<A, RequestFailure> =>
    Effect.withFiber((fiber) => {
      const clock = fiber.getRef(Clock.Clock)
      const now = clock.currentTimeMillisUnsafe()
      const call: Sending<I, A> = {
        endpoint,
        input,
        request: placed(endpoint.request(input), baseUrl, options?.authorization),
        telemetry: shell.telemetryOf(endpoint),
        deadline: options?.deadline ?? Deadline.start(now, shell.deadlineMillis),
        clock,
        context: fiber.context,
        traced: Telemetry.isRecording(fiber.getRef(Tracer.Tracer)),
        step: undefined
      }
      return loop(shell, call, now, 1, 0)
    })
  return { send }
}

/** What the pipeline's steps share: its options and what is derived from them once. */
interface Shell extends PipelineOptions {
  readonly origin: string
  /** An attempt's own limit (the `timeout` option). */
  readonly timeout: Deadline.Limit
  /** Whether the client ends its requests at the attempt's deadline itself. */
  readonly enforces: boolean
  readonly telemetryOf: <I, A>(endpoint: Endpoint<I, A>) => Telemetry.Endpoint
  readonly exchange: <I, A>(call: Sending<I, A>) => Effect.Effect<Received, RequestFailure>
}

/** Attempts until one succeeds, or the policy, the endpoint or the deadline says no more. */
const loop = <I, A>(
  shell: Shell,
  call: Sending<I, A>,
  now: number,
  number: number,
  delayMillis: number
): Effect.Effect<A, RequestFailure> =>
  Effect.catch(attempt(shell, call, now, number, delayMillis), (error) => after(shell, call, error, number))

/** One attempt: its turn, the request under its limit, the answer read, judged (the one status classification). */
const attempt = <I, A>(shell: Shell, call: Sending<I, A>, now: number, number: number, delayMillis: number) => {
  const limit = Deadline.limitAt(call.deadline, now, shell.timeout)
  const attempted = Attempt.run(shell.exchange(call), {
    clock: call.clock,
    enforces: shell.enforces,
    traced: call.traced,
    limit,
    endpoint: call.telemetry,
    requestedAt: now
  })
  return shell.limiter.withTurn(attempted, {
    maxWaitMillis: Deadline.left(call.deadline, now),
    onLate: () => Deadline.passed(call.deadline),
    maxDurationMillis: limit.millis
  }).pipe(
    Effect.flatMap((answer: Received) =>
      Effect.fromResult(judge(call.endpoint, call.input, answer, shell.scrubber, shell.origin, call.context))
    ),
    Telemetry.attemptSpan(call.traced, call.telemetry, sizeOf(call), number, delayMillis, failureIn)
  )
}

/** After a failed attempt: the next one by the policy, within the deadline, or the call's end. */
const after = <I, A>(
  shell: Shell,
  call: Sending<I, A>,
  error: RequestFailure | Unwelcome<A>,
  number: number
): Effect.Effect<A, RequestFailure> => {
  const failure = failureIn(error)
  const end = Effect.andThen(
    Logging.rateLimitedNotRetried(failure, number),
    error instanceof Unwelcome ? Effect.succeed(error.value) : Effect.fail(failure)
  )
  const { endpoint, request } = call
  if ((endpoint.mayResend !== undefined && !endpoint.mayResend(failure)) || !mayBeBuiltAgain(request)) return end
  const decide = (step: Step): Effect.Effect<A, RequestFailure> => {
    const failedAt = call.clock.currentTimeMillisUnsafe()
    return Pull.matchEffect(step(failedAt, failure), {
      onSuccess: ([, delay]) => {
        const resumeAt = failedAt + Math.max(0, Duration.toMillis(delay))
        if (resumeAt >= call.deadline.at) return end
        Telemetry.retried(call.context)
        const wait = resumeAt - failedAt
        const again = wait === 0
          ? loop(shell, call, failedAt, number + 1, 0)
          : Effect.andThen(Effect.sleep(Duration.millis(wait)), loop(shell, call, resumeAt, number + 1, wait))
        const released = error instanceof Unwelcome ? Effect.andThen(error.release, again) : again
        return Effect.andThen(Logging.retrying(failure, number, wait), released)
      },
      onFailure: Effect.failCause,
      onDone: () => end
    })
  }
  if (call.step !== undefined) return decide(call.step)
  return Effect.flatMap(Schedule.toStep(shell.retry), (step) => {
    call.step = step
    return decide(step)
  })
}

/** Each endpoint's span name and metric tags, built on its first request. */
const telemetryCache = (server: Telemetry.Server) => {
  const cache = new WeakMap<Endpoint<never, unknown>, Telemetry.Endpoint>()
  return <I, A>(endpoint: Endpoint<I, A>): Telemetry.Endpoint => {
    let found = cache.get(endpoint)
    if (found === undefined) {
      found = Telemetry.endpoint(endpoint.method, server, endpoint.template)
      cache.set(endpoint, found)
    }
    return found
  }
}

/** The batch size a span starts with: not yet known for a request built at the turn. */
const sizeOf = <I>(call: Sending<I, unknown>): number | undefined => {
  const size = call.endpoint.batchSize?.(call.input)
  return typeof size === "function" ? undefined : size
}

type Built = ReturnType<Endpoint<unknown, unknown>["request"]>

/**
 * The request on `baseUrl` when its URL is a path, with a user's
 * `Authorization` when it has one. A request built at the turn (a batch of
 * `get`) is the service's own: absolute, with the key.
 */
const placed = (request: Built, baseUrl: string, authorization: string | undefined): Built => {
  if (typeof request === "function") return request
  const located = request.url.startsWith("/") ? HttpClientRequest.setUrl(request, `${baseUrl}${request.url}`) : request
  return authorization === undefined ? located : HttpClientRequest.setHeader(located, "authorization", authorization)
}

/** The request of one attempt, sent, and its answer read (a redirect the origin guard refused included). */
const exchangeWith =
  (client: HttpClient.HttpClient) => <I, A>(call: Sending<I, A>): Effect.Effect<Received, RequestFailure> => {
    const { clock, endpoint, input, request } = call
    return Effect.catch(
      Effect.flatMap(
        typeof request === "function" ? builtAtTurn(client, call, request) : client.execute(request),
        (response: HttpClientResponse.HttpClientResponse) => read(endpoint, input, response, clock)
      ),
      (error) => {
        const redirect = refusedRedirectResponse(error)
        return redirect === undefined
          ? Effect.fail(fromHttpClientError(error))
          : Effect.mapError(read(endpoint, input, redirect, clock), fromHttpClientError)
      }
    )
  }

/** A request built at the turn: its batch size goes on the attempt's span once it is known. */
const builtAtTurn = <I>(client: HttpClient.HttpClient, call: Sending<I, unknown>, build: BuildAtTurn) =>
  Effect.suspend(() => {
    const request = build(call.context)
    if (request === undefined) return Effect.interrupt
    const size = call.traced ? call.endpoint.batchSize?.(call.input) : undefined
    return typeof size === "function"
      ? Effect.andThen(Effect.annotateCurrentSpan("sfox.batch_size", size()), client.execute(request))
      : client.execute(request)
  })
