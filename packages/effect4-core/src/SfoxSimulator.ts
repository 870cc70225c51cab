/**
 * One simulation of sFOX's user-token endpoints (and user endpoints that
 * accept the tokens it mints: `GET /v1/user/balance`, `POST /v1/user/orders`,
 * `POST /v1/user/bank/deposit`),
 * written once and served two
 * ways: in memory as an `HttpClient` (`FakeSfox`, here) and over a real
 * socket (`MockSfoxServer`, in `@sfox-effect/effect4-node/testing`). Both hand it the
 * same `SimRequest` and act out the `SimResponse` it returns, so the two can
 * never drift apart.
 *
 * It knows an API key, optionally a set of users, a clock (Effect's, so
 * `TestClock` drives it), sFOX's rate limit and lockout, a queue of scripted
 * faults, and it records every request.
 *
 * @since 0.1.0
 */
import { Wire } from "@sfox-effect/domain"
import type * as Duration from "effect/Duration"
import type * as Effect from "effect/Effect"
import type * as Redacted from "effect/Redacted"
import * as internal from "./internal/simulator/simulator.js"

/**
 * A fault to act out for one request, in place of (or on top of) the normal
 * answer. Faults are used in the order they were enqueued, one per request.
 * Build them with the `Fault` constructors.
 *
 * @example
 * ```ts
 * import { Fault, SfoxSimulator } from "@sfox-effect/effect4-core/testing"
 *
 * // A 503 with a hint, then an answer that takes 3 s.
 * const script: ReadonlyArray<SfoxSimulator.Fault> = [
 *   Fault.status(503, { headers: { "retry-after": "1" } }),
 *   Fault.delay("3 seconds")
 * ]
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export type Fault =
  /** Answer with this status, body and headers instead of the normal answer. */
  | {
    readonly _tag: "Status"
    readonly status: number
    readonly body?: string | object | undefined
    readonly headers?: Readonly<Record<string, string>> | undefined
  }
  /** Answer `status` (default 201) with a body that is not what sFOX documents. */
  | { readonly _tag: "Malformed"; readonly body: string; readonly status?: number | undefined }
  /** Tamper with a batch answer (a single answer is left as it is). */
  | { readonly _tag: "Batch"; readonly mode: BatchTamper }
  /** Wait this long before answering, then act out `then` (or answer normally). */
  | { readonly _tag: "Delay"; readonly duration: Duration.Input; readonly then?: Fault | undefined }
  /** Answer normally with a body padded to at least `bytes` bytes. */
  | { readonly _tag: "Oversize"; readonly bytes: number }
  /** Drop the connection before any header is sent (a transport failure). */
  | { readonly _tag: "ResetBeforeHeaders" }
  /** Send the headers and part of the body, then drop the connection. */
  | { readonly _tag: "ResetAfterHeaders" }
  /** Never answer; keep the connection open. */
  | { readonly _tag: "NoAnswer" }
  /** Send the body `chunkSize` bytes at a time, `interval` apart. */
  | { readonly _tag: "Trickle"; readonly interval: Duration.Input; readonly chunkSize?: number | undefined }
  /** Promise a longer `Content-Length` than the body, then close. */
  | { readonly _tag: "ShortBody" }

/**
 * How a `Batch` fault tampers with a batch answer: drop its last token, add a
 * token for a user nobody asked for, repeat a user, reverse the order, or
 * label the first token with another user's id.
 *
 * @example
 * ```ts
 * import { Fault, type SfoxSimulator } from "@sfox-effect/effect4-core/testing"
 *
 * const tampers: ReadonlyArray<SfoxSimulator.BatchTamper> = ["drop", "add", "mislabel"]
 * const faults = tampers.map(Fault.batch) // each must fail with MalformedResponse
 * ```
 *
 * @since 0.2.0
 * @category models
 */
export type BatchTamper = "drop" | "add" | "duplicate" | "reorder" | "mislabel"

/**
 * Constructors for `Fault`.
 *
 * @example
 * ```ts
 * import { Fault } from "@sfox-effect/effect4-core/testing"
 *
 * const faults = [Fault.status(503, { headers: { "retry-after": "2" } }), Fault.reset()]
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const Fault = {
  status: (
    status: number,
    options: { readonly body?: string | object; readonly headers?: Readonly<Record<string, string>> } = {}
  ): Fault => ({ _tag: "Status", status, body: options.body, headers: options.headers }),
  malformed: (body: string, status = 201): Fault => ({ _tag: "Malformed", body, status }),
  batch: (mode: BatchTamper): Fault => ({ _tag: "Batch", mode }),
  delay: (duration: Duration.Input, then?: Fault): Fault => ({ _tag: "Delay", duration, then }),
  oversize: (bytes: number): Fault => ({ _tag: "Oversize", bytes }),
  reset: (): Fault => ({ _tag: "ResetBeforeHeaders" }),
  resetAfterHeaders: (): Fault => ({ _tag: "ResetAfterHeaders" }),
  noAnswer: (): Fault => ({ _tag: "NoAnswer" }),
  trickle: (interval: Duration.Input, chunkSize = 16): Fault => ({ _tag: "Trickle", interval, chunkSize }),
  shortBody: (): Fault => ({ _tag: "ShortBody" })
} as const

/**
 * A request as the transport received it: what a transport of one's own
 * hands to `handle`.
 *
 * @example
 * ```ts
 * import { SfoxSimulator } from "@sfox-effect/effect4-core/testing"
 * import { Effect } from "effect"
 *
 * const request: SfoxSimulator.SimRequest = {
 *   method: "POST",
 *   path: `${SfoxSimulator.tokensPath}/user-1`,
 *   headers: { authorization: "Bearer sfox-test-key" },
 *   body: ""
 * }
 * const answer = Effect.flatMap(SfoxSimulator.make(), (simulator) => simulator.handle(request))
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface SimRequest {
  readonly method: string
  /** The path as sent, still percent-encoded, without the query. */
  readonly path: string
  /** Header names in lower case. */
  readonly headers: Readonly<Record<string, string | undefined>>
  readonly body: string
}

/**
 * How the transport must deliver an answer.
 *
 * @example
 * ```ts
 * import type { SfoxSimulator } from "@sfox-effect/effect4-core/testing"
 *
 * // A transport of one's own must act out each delivery.
 * const dropsConnection = (delivery: SfoxSimulator.Delivery): boolean =>
 *   delivery._tag === "ResetBeforeHeaders" || delivery._tag === "ResetAfterHeaders"
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export type Delivery =
  | { readonly _tag: "Normal" }
  | { readonly _tag: "ResetBeforeHeaders" }
  | { readonly _tag: "ResetAfterHeaders" }
  | { readonly _tag: "NoAnswer" }
  | { readonly _tag: "Trickle"; readonly intervalMillis: number; readonly chunkSize: number }
  | { readonly _tag: "ShortBody" }

/**
 * The answer the transport must act out.
 *
 * @example
 * ```ts
 * import type { SfoxSimulator } from "@sfox-effect/effect4-core/testing"
 *
 * const toWeb = (answer: SfoxSimulator.SimResponse): Response =>
 *   new Response(answer.body, { status: answer.status, headers: answer.headers })
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface SimResponse {
  readonly status: number
  readonly headers: Readonly<Record<string, string>>
  readonly body: string
  readonly delivery: Delivery
}

/**
 * A request the simulator saw. The `Authorization` header is not kept, only
 * whether it was right.
 *
 * @example
 * ```ts
 * import { FakeSfox, type SfoxSimulator } from "@sfox-effect/effect4-core/testing"
 * import { Effect } from "effect"
 *
 * const batchSizes = Effect.flatMap(FakeSfox, (fake) => fake.requests).pipe(
 *   Effect.map((requests: ReadonlyArray<SfoxSimulator.RecordedRequest>) =>
 *     requests.filter((request) => request.authorization === "valid").map((request) => request.userIds.length)
 *   )
 * )
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface RecordedRequest {
  readonly method: string
  readonly path: string
  /**
   * The user ids the request asked for: the decoded path segment, the batch
   * body's `data`, or on a user endpoint the user its token acts for.
   */
  readonly userIds: ReadonlyArray<string>
  readonly authorization: "valid" | "invalid" | "missing"
  /** Every other header, names in lower case. */
  readonly headers: Readonly<Record<string, string | undefined>>
  readonly body: string
  /** The status the simulator answered (before any transport fault). */
  readonly status: number
  /** The simulator's clock when the request arrived. */
  readonly at: number
  /** The fault acted out for this request, if any. */
  readonly fault: Fault["_tag"] | undefined
}

/**
 * Options of `make`, `FakeSfox.layer` and `MockSfoxServer`: what the
 * simulated sFOX knows and how it behaves. Every field is optional.
 *
 * @example
 * ```ts
 * import type { SfoxSimulator } from "@sfox-effect/effect4-core/testing"
 *
 * // sFOX as documented: 250 per 10 s, a 60 s lockout, answers shuffled.
 * const likeSfox: SfoxSimulator.SimulatorOptions = {
 *   rateLimit: { limit: 250, interval: "10 seconds", lockout: "60 seconds" },
 *   latency: "40 millis",
 *   shuffle: true
 * }
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface SimulatorOptions {
  /** The enterprise key the simulator accepts. @default "sfox-test-key" */
  readonly apiKey?: string | Redacted.Redacted<string> | undefined
  /** The users sFOX knows; any other id gets a 404. @default every id is known */
  readonly users?: Iterable<string> | undefined
  /** Time taken to answer every request. @default 0 */
  readonly latency?: Duration.Input | undefined
  /**
   * Up to this much more time per request, drawn uniformly for each one:
   * answers then arrive out of order, as over a real network.
   * @default 0
   */
  readonly latencyJitter?: Duration.Input | undefined
  /**
   * sFOX's rate limit: at most `limit` requests in any `interval`; the one
   * over it gets a 429 and locks the client out for `lockout` (60 s, no
   * `Retry-After`, as documented). `false` for none.
   * @default false
   */
  readonly rateLimit?:
    | {
      readonly limit: number
      readonly interval: Duration.Input
      readonly lockout?: Duration.Input | undefined
    }
    | false
    | undefined
  /** Largest batch accepted; more ids get a 400. @default 1000 */
  readonly maxBatchSize?: number | undefined
  /** Shuffle every batch answer, as sFOX is free to. @default false */
  readonly shuffle?: boolean | undefined
  /** Life of a minted token. @default 24 hours */
  readonly tokenLifetime?: Duration.Input | undefined
  /**
   * Remember every token minted, so that the user endpoints
   * (`GET /v1/user/balance`, `POST /v1/user/orders`, `POST /v1/user/bank/deposit`) accept it until it
   * expires or is revoked. Turn off for load runs that mint millions: each
   * token kept costs memory.
   * @default true
   */
  readonly rememberTokens?: boolean | undefined
  /**
   * Keep every request for `requests`. Turn off for long load runs, where
   * `stats` (counts only) is enough.
   * @default true
   */
  readonly record?: boolean | undefined
}

/**
 * Counts kept whether or not requests are recorded.
 *
 * @example
 * ```ts
 * import { FakeSfox } from "@sfox-effect/effect4-core/testing"
 * import { Effect } from "effect"
 *
 * const refused = Effect.flatMap(FakeSfox, (fake) => fake.stats).pipe(
 *   Effect.map((stats) => stats.byStatus[429] ?? 0)
 * )
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface SimulatorStats {
  readonly requests: number
  /** Requests by the status the simulator answered. */
  readonly byStatus: Readonly<Record<number, number>>
  readonly minted: number
}

/**
 * A running simulation: what `yield* FakeSfox` gives (and, with its `url`,
 * `yield* MockSfoxServer`).
 *
 * @example
 * ```ts
 * import { type SfoxSimulator } from "@sfox-effect/effect4-core/testing"
 * import { Effect } from "effect"
 *
 * // Between two test cases on one simulator.
 * const freshStart = (simulator: SfoxSimulator.SfoxSimulator) =>
 *   Effect.andThen(simulator.reset, simulator.setLatency(0))
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface SfoxSimulator {
  /** Answers one request; sleeps on Effect's clock for latency and delays. */
  readonly handle: (request: SimRequest) => Effect.Effect<SimResponse>
  /** Queues faults, used one per request in order. */
  readonly enqueue: (faults: Fault | ReadonlyArray<Fault>) => Effect.Effect<void>
  /** Every request seen so far, oldest first. */
  readonly requests: Effect.Effect<ReadonlyArray<RecordedRequest>>
  /**
   * Starts afresh: forgets the recorded requests, every count (tokens
   * minted included), every token it honoured, any queued fault, and the
   * rate limit's window and lockout. The users, key and latency stay as they are.
   */
  readonly reset: Effect.Effect<void>
  /**
   * Revokes the live tokens of one user, or of every user: the user
   * endpoints refuse them from then on with a 401. Succeeds with how many
   * were live.
   */
  readonly revoke: (userId?: string) => Effect.Effect<number>
  /** Adds users to the known set (when the simulator has one). */
  readonly addUsers: (userIds: Iterable<string>) => Effect.Effect<void>
  /** Changes the latency of every later request. */
  readonly setLatency: (latency: Duration.Input) => Effect.Effect<void>
  /** The key the simulator accepts. */
  readonly apiKey: Redacted.Redacted<string>
  /** Tokens minted so far. */
  readonly minted: Effect.Effect<number>
  /** Request counts by status, and tokens minted. */
  readonly stats: Effect.Effect<SimulatorStats>
}

/**
 * The path of both endpoints.
 *
 * @example
 * ```ts
 * import { FakeSfox, SfoxSimulator } from "@sfox-effect/effect4-core/testing"
 * import { Effect } from "effect"
 *
 * const singleMints = Effect.flatMap(FakeSfox, (fake) => fake.requests).pipe(
 *   Effect.map((requests) => requests.filter((request) => request.path.startsWith(`${SfoxSimulator.tokensPath}/`)))
 * )
 * ```
 *
 * @since 0.1.0
 * @category constants
 */
export const tokensPath: "/v1/enterprise/user-tokens" = Wire.tokensPath

/**
 * Starts a simulation, to serve over a transport of one's own (`FakeSfox`
 * and `MockSfoxServer` are the two there are).
 *
 * @example
 * ```ts
 * import { SfoxSimulator } from "@sfox-effect/effect4-core/testing"
 * import { Effect } from "effect"
 *
 * const minted = Effect.gen(function*() {
 *   const simulator = yield* SfoxSimulator.make({ users: ["user-1"] })
 *   yield* simulator.addUsers(["user-2"])
 *   return yield* simulator.minted
 * })
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const make: (options?: SimulatorOptions) => Effect.Effect<SfoxSimulator> = internal.make
