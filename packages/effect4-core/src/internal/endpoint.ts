import type * as Clock from "effect/Clock"
import type * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import type * as HttpClientError from "effect/http/HttpClientError"
import type * as HttpClientRequest from "effect/http/HttpClientRequest"
import type * as HttpClientResponse from "effect/http/HttpClientResponse"
import * as Inspectable from "effect/Inspectable"
import * as Result from "effect/Result"
import * as Schema from "effect/Schema"
import { MalformedResponse, type RequestFailure } from "../SfoxError.js"
import { readBody } from "./answerBody.js"
import { type Answer, describeIssues, failureOf } from "./classify.js"
import { isReplayable } from "./replayable.js"
import type { Scrubber } from "./scrub.js"

/**
 * One kind of request to sFOX, as data: how its request is built from its
 * input, how much of its answer's body is read, how a 2xx answer decodes,
 * whether it may be sent again, and its span and metric names. The pipeline
 * (`request.ts` `send`) does the rest, the same way for every endpoint: a
 * mint, a batch, a call as a user.
 */
export interface Endpoint<I, A> {
  /** `http.request.method`, and with `template` the span's name (OpenTelemetry's HTTP client span). */
  readonly method: string
  /** `url.template`; absent when the path may hold ids and no template is known. */
  readonly template?: string | undefined
  /**
   * The request, its URL absolute or a path on `baseUrl`; or a function that
   * builds it the moment the rate-limit turn is granted, on each attempt (a
   * batch of `get` takes joiners until then), and `undefined` when there is
   * nothing left to send (the call is then interrupted). The function is
   * given the caller's context: what it counts, it counts there.
   */
  readonly request: (input: I) => HttpClientRequest.HttpClientRequest | BuildAtTurn
  /** The most bytes of the body read for `status`; absent: the body is left to the caller, unread. */
  readonly bodyLimit?: ((status: number, input: I) => number) | undefined
  /**
   * What a 2xx answer means, or why it is no good. `context` is the caller's:
   * a decoder that counts (tokens minted) counts in its metric registry.
   */
  readonly decode: (answer: Received, input: I, context: Context.Context<never>) => Result.Result<A, RequestFailure>
  /**
   * Absent: every answer but a 2xx is the call's failure. Present: a refusal
   * is the caller's answer, handed over as it is; a `retried` one is retried
   * like a failure first (and `release`d before the retry).
   */
  readonly refusal?: Refusal<A> | undefined
  /**
   * Whether the request may be sent again after `failure`, whatever the
   * retry policy says: one that may have reached sFOX and is not idempotent
   * may not. Every failure may, when absent. A request whose body cannot be
   * replayed is never sent again, whatever this says.
   */
  readonly mayResend?: ((failure: RequestFailure) => boolean) | undefined
  /** Sent with the enterprise key: an `Unauthorized` names the origin it went to. */
  readonly keyed?: boolean | undefined
  /** The ids in a token request, for its attempts' spans; a function when the request is built at the turn. */
  readonly batchSize?: ((input: I) => number | (() => number)) | undefined
}

/** A request built at the rate-limit turn, in the caller's context; `undefined`: nothing left to send. */
export type BuildAtTurn = (context: Context.Context<never>) => HttpClientRequest.HttpClientRequest | undefined

/** How an endpoint whose refusals are its caller's answers treats them. */
export interface Refusal<A> {
  readonly answer: (answer: Received) => A
  /** Statuses retried when the request may be sent again (a 503, say). */
  readonly retried: (status: number) => boolean
  /** Gives the answer's connection back before a retry. */
  readonly release: (answer: Received) => Effect.Effect<void>
}

/** An answer as read within its attempt: status, body within its bound, when it came, and the response itself. */
export interface Received extends Answer {
  readonly response: HttpClientResponse.HttpClientResponse
}

/**
 * An answer the endpoint would rather not have (a 503 to a user's `GET`,
 * say): it is retried like a failure, and handed to the caller as it is when
 * no retry follows.
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

export const failureIn = <A>(error: RequestFailure | Unwelcome<A>): RequestFailure =>
  error instanceof Unwelcome ? error.failure : error

// Marks an answer whose body is not read here: it is the caller's.
const bodyLeftToCaller = "(answer body left to the caller)"

/**
 * Reads an answer within its attempt: its body within the endpoint's bound
 * for its status, or not at all. A redirect's body is never read: it is
 * refused whatever it says.
 */
export const read = <I>(
  endpoint: Endpoint<I, unknown>,
  input: I,
  response: HttpClientResponse.HttpClientResponse,
  clock: Clock.Clock
): Effect.Effect<Received, HttpClientError.HttpClientError> => {
  const { headers, status } = response
  const limit = endpoint.bodyLimit
  if (limit === undefined || (status >= 300 && status < 400)) {
    const body = limit === undefined ? bodyLeftToCaller : ""
    return Effect.succeed({ status, headers, body, receivedAt: clock.currentTimeMillisUnsafe(), response })
  }
  return Effect.map(
    readBody(response, limit(status, input)),
    (body): Received => ({ status, headers, body, receivedAt: clock.currentTimeMillisUnsafe(), response })
  )
}

/**
 * The one status classification: a 2xx decodes, anything else is a typed
 * failure (`failureOf`, a Retry-After counted from when the answer came),
 * unless the endpoint hands its refusals to its caller.
 */
export const judge = <I, A>(
  endpoint: Endpoint<I, A>,
  input: I,
  answer: Received,
  scrubber: Scrubber,
  origin: string,
  context: Context.Context<never>
): Result.Result<A, RequestFailure | Unwelcome<A>> => {
  const status = answer.status
  if (status >= 200 && status < 300) return endpoint.decode(answer, input, context)
  const refusal = endpoint.refusal
  if (refusal !== undefined && !refusal.retried(status)) return Result.succeed(refusal.answer(answer))
  const failure = failureOf(answer, answer.receivedAt, scrubber, endpoint.keyed === true ? origin : undefined)
  return Result.fail(
    refusal === undefined ? failure : new Unwelcome(refusal.answer(answer), failure, refusal.release(answer))
  )
}

/**
 * Whether an attempt's request can be sent again byte for byte: one built at
 * the turn is built afresh for each attempt; a given one only if its body
 * can be replayed.
 */
export const mayBeBuiltAgain = (request: ReturnType<Endpoint<unknown, unknown>["request"]>): boolean =>
  typeof request === "function" || isReplayable(request.body)

/**
 * The decoder of a 2xx JSON answer by `schema`. A body that is not JSON, or
 * not of the schema, is a `MalformedResponse` naming what did not match
 * (paths, never values: a user's data stays out of errors).
 */
export const decodeJson = <A>(
  schema: Schema.Decoder<A>
): (answer: Received) => Result.Result<A, RequestFailure> => {
  const decode = Schema.decodeUnknownResult(schema)
  return (answer) => {
    let json: unknown
    try {
      json = JSON.parse(answer.body)
    } catch {
      const description = answer.body.length === 0 ? "empty body" : "not JSON"
      return Result.fail(new MalformedResponse({ status: answer.status, description }))
    }
    return Result.mapError(
      decode(json),
      (error) => new MalformedResponse({ status: answer.status, description: describeIssues(error) })
    )
  }
}
