import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as SfoxMetrics from "../SfoxMetrics.js"

// Effect's built-in tracer keeps spans nowhere: with it, making a span per
// call costs (about 30 µs each with its garbage, measured on 10,000 `get`s)
// and shows nowhere. Spans are made only under a tracer someone installed.
const builtInTracer = Effect.runSync(Effect.tracer)

// Metrics are updated in place (`unsafeUpdate`): they sit on the path of
// every mint, where an extra effect per update would show in the benchmark.

export const retried = (): void => SfoxMetrics.retries.unsafeUpdate(1, [])

export const batched = (size: number): void => SfoxMetrics.batchSize.unsafeUpdate(size, [])

export const minted = (count: number) => (): void => SfoxMetrics.tokensMinted.unsafeUpdate(count, [])

/** Times one attempt and counts it by status; sets the status on the attempt's span. */
export const observeAttempt = <A, E, R>(
  attempt: Effect.Effect<A, E, R>,
  statusOf: (received: A) => number
): Effect.Effect<A, E, R> =>
  Effect.flatMap(
    Clock.currentTimeMillis,
    (start) =>
      Effect.onExit(attempt, (exit) =>
        Effect.flatMap(Clock.currentTimeMillis, (end) => {
          SfoxMetrics.requestLatency.unsafeUpdate(end - start, [])
          if (exit._tag === "Success") {
            const status = statusOf(exit.value)
            SfoxMetrics.requestsByStatus.unsafeUpdate(String(status), [])
            // With no span (no tracer installed) annotating would build and
            // throw away an exception, with its stack trace, per attempt.
            return Effect.tracerWith((tracer) =>
              tracer === builtInTracer ? Effect.void : Effect.annotateCurrentSpan("http.response.status_code", status)
            )
          }
          SfoxMetrics.requestsByStatus.unsafeUpdate("transport", [])
          return Effect.void
        }))
  )

const traced = <A, E, R>(
  self: Effect.Effect<A, E, R>,
  withSpan: (self: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R>
) => Effect.tracerWith((tracer) => tracer === builtInTracer ? self : withSpan(self))

/** The span of one HTTP attempt. Attributes are counts and names: never an id, a token or the key. */
export const attemptSpan =
  (name: string, attributes: Readonly<Record<string, string | number>>, attempt: number, delayMillis: number) =>
  <A, E, R>(self: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
    traced(self, (self) =>
      Effect.withSpan(self, name, {
        kind: "client",
        captureStackTrace: false,
        attributes: delayMillis === 0
          ? { ...attributes, "sfox.attempt": attempt }
          : { ...attributes, "sfox.attempt": attempt, "sfox.retry_delay_ms": delayMillis }
      }))

/** The span of one service call. */
export const callSpan =
  (name: string, users: number, batches?: number) => <A, E, R>(self: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
    traced(self, (self) =>
      Effect.withSpan(self, name, {
        captureStackTrace: false,
        attributes: batches === undefined
          ? { "sfox.user_count": users }
          : { "sfox.user_count": users, "sfox.batch_count": batches }
      }))

/** A refused batch was halved to find the users it was refused for. */
export const split = (size: number): void => SfoxMetrics.batchSplits.unsafeUpdate(size, [])

/** The span of one request made as a user (`clientFor`): the token's `get` and the request's attempts. */
export const userRequestSpan = (method: string) => <A, E, R>(self: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
  traced(self, (self) =>
    Effect.withSpan(self, "sfox.user_api.request", {
      kind: "client",
      captureStackTrace: false,
      attributes: { "http.request.method": method }
    }))
