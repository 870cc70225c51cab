/**
 * One simulation of sFOX's user-token endpoints, written once and served two
 * ways: in memory as an `HttpClient` (`FakeSfox`, here) and over a real
 * socket (`MockSfoxServer`, in `@sfox-effect/node`). Both hand it the same
 * `SimRequest` and act out the `SimResponse` it returns, so the two can never
 * drift apart.
 *
 * It knows an API key, optionally a set of users, a clock (Effect's, so
 * `TestClock` drives it), sFOX's rate limit and lockout, a queue of scripted
 * faults, and it records every request.
 *
 * @since 0.1.0
 */
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import * as paths from "./internal/paths.js"

/**
 * A fault to act out for one request, in place of (or on top of) the normal
 * answer. Faults are used in the order they were enqueued, one per request.
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
  | { readonly _tag: "Batch"; readonly mode: "drop" | "add" | "duplicate" | "reorder" | "mislabel" }
  /** Wait this long before answering, then act out `then` (or answer normally). */
  | { readonly _tag: "Delay"; readonly duration: Duration.DurationInput; readonly then?: Fault | undefined }
  /** Answer normally with a body padded to at least `bytes` bytes. */
  | { readonly _tag: "Oversize"; readonly bytes: number }
  /** Drop the connection before any header is sent (a transport failure). */
  | { readonly _tag: "ResetBeforeHeaders" }
  /** Send the headers and part of the body, then drop the connection. */
  | { readonly _tag: "ResetAfterHeaders" }
  /** Never answer; keep the connection open. */
  | { readonly _tag: "NoAnswer" }
  /** Send the body `chunkSize` bytes at a time, `interval` apart. */
  | { readonly _tag: "Trickle"; readonly interval: Duration.DurationInput; readonly chunkSize?: number | undefined }
  /** Promise a longer `Content-Length` than the body, then close. */
  | { readonly _tag: "ShortBody" }

/**
 * Constructors for `Fault`.
 *
 * @example
 * ```ts
 * import { Fault } from "@sfox-effect/core/testing"
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
  batch: (mode: "drop" | "add" | "duplicate" | "reorder" | "mislabel"): Fault => ({ _tag: "Batch", mode }),
  delay: (duration: Duration.DurationInput, then?: Fault): Fault => ({ _tag: "Delay", duration, then }),
  oversize: (bytes: number): Fault => ({ _tag: "Oversize", bytes }),
  reset: (): Fault => ({ _tag: "ResetBeforeHeaders" }),
  resetAfterHeaders: (): Fault => ({ _tag: "ResetAfterHeaders" }),
  noAnswer: (): Fault => ({ _tag: "NoAnswer" }),
  trickle: (interval: Duration.DurationInput, chunkSize = 16): Fault => ({ _tag: "Trickle", interval, chunkSize }),
  shortBody: (): Fault => ({ _tag: "ShortBody" })
} as const

/**
 * A request as the transport received it.
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
 * @since 0.1.0
 * @category models
 */
export interface RecordedRequest {
  readonly method: string
  readonly path: string
  /** The user ids the request asked for: the decoded path segment, or the batch body's `data`. */
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
 * @since 0.1.0
 * @category models
 */
export interface SimulatorOptions {
  /** The enterprise key the simulator accepts. @default "sfox-test-key" */
  readonly apiKey?: string | Redacted.Redacted<string> | undefined
  /** The users sFOX knows; any other id gets a 404. @default every id is known */
  readonly users?: Iterable<string> | undefined
  /** Time taken to answer every request. @default 0 */
  readonly latency?: Duration.DurationInput | undefined
  /**
   * Up to this much more time per request, drawn uniformly for each one:
   * answers then arrive out of order, as over a real network.
   * @default 0
   */
  readonly latencyJitter?: Duration.DurationInput | undefined
  /**
   * sFOX's rate limit: at most `limit` requests in any `interval`; the one
   * over it gets a 429 and locks the client out for `lockout` (60 s, no
   * `Retry-After`, as documented). `false` for none.
   * @default false
   */
  readonly rateLimit?:
    | {
      readonly limit: number
      readonly interval: Duration.DurationInput
      readonly lockout?: Duration.DurationInput | undefined
    }
    | false
    | undefined
  /** Largest batch accepted; more ids get a 400. @default 1000 */
  readonly maxBatchSize?: number | undefined
  /** Shuffle every batch answer, as sFOX is free to. @default false */
  readonly shuffle?: boolean | undefined
  /** Life of a minted token. @default 24 hours */
  readonly tokenLifetime?: Duration.DurationInput | undefined
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
 * A running simulation.
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
  /** Forgets the recorded requests, the counts and any queued fault. */
  readonly reset: Effect.Effect<void>
  /** Adds users to the known set (when the simulator has one). */
  readonly addUsers: (userIds: Iterable<string>) => Effect.Effect<void>
  /** Changes the latency of every later request. */
  readonly setLatency: (latency: Duration.DurationInput) => Effect.Effect<void>
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
 * @since 0.1.0
 * @category constants
 */
export const tokensPath: "/v1/enterprise/user-tokens" = paths.tokensPath

const json = (status: number, body: unknown, headers: Record<string, string> = {}): SimResponse => ({
  status,
  headers: { "content-type": "application/json", ...headers },
  body: typeof body === "string" ? body : JSON.stringify(body),
  delivery: { _tag: "Normal" }
})

const hex = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"))

/** `count` random 64-hex-character tokens, from one draw of random bytes. */
const randomTokens = (count: number): Array<string> => {
  const bytes = new Uint8Array(32 * count)
  // getRandomValues fills at most 65,536 bytes a call.
  for (let offset = 0; offset < bytes.length; offset += 65_536) {
    globalThis.crypto.getRandomValues(bytes.subarray(offset, Math.min(bytes.length, offset + 65_536)))
  }
  const out: Array<string> = new Array(count)
  for (let t = 0; t < count; t++) {
    let token = ""
    for (let i = t * 32, end = i + 32; i < end; i++) token += hex[bytes[i]!]
    out[t] = token
  }
  return out
}
const randomToken = (): string => randomTokens(1)[0]!

// The seeds show both forms: milliseconds on the single answer, none on the batch.
const isoMillis = (millis: number) => new Date(millis).toISOString()
const isoSeconds = (millis: number) => new Date(millis).toISOString().replace(/\.\d{3}Z$/, "Z")

const shuffleInPlace = <A>(items: Array<A>): Array<A> => {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1))
    const t = items[i]!
    items[i] = items[j]!
    items[j] = t
  }
  return items
}

interface WireToken {
  token: string
  expires: string
  partner_user_id: string
}

const tamper = (mode: "drop" | "add" | "duplicate" | "reorder" | "mislabel", data: Array<WireToken>) => {
  const first = data[0]!
  switch (mode) {
    case "drop":
      return data.slice(0, -1)
    case "add":
      return [...data, { ...first, token: randomToken(), partner_user_id: `intruder-${randomToken().slice(0, 8)}` }]
    case "duplicate":
      return [...data, { ...first, token: randomToken() }]
    case "reorder":
      return data.length > 1 ? [...data].reverse() : data
    case "mislabel":
      return [{ ...first, partner_user_id: `${first.partner_user_id}-other` }, ...data.slice(1)]
  }
}

/**
 * Starts a simulation.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (options: SimulatorOptions = {}): Effect.Effect<SfoxSimulator> =>
  Effect.sync(() => {
    const key = options.apiKey === undefined
      ? "sfox-test-key"
      : Redacted.isRedacted(options.apiKey)
      ? Redacted.value(options.apiKey)
      : options.apiKey
    const expectedAuthorization = `Bearer ${key}`
    const users = options.users === undefined ? undefined : new Set(options.users)
    let latencyMillis = options.latency === undefined ? 0 : Duration.toMillis(options.latency)
    const jitterMillis = options.latencyJitter === undefined ? 0 : Duration.toMillis(options.latencyJitter)
    const maxBatchSize = options.maxBatchSize ?? 1000
    const lifetimeMillis = options.tokenLifetime === undefined
      ? Duration.toMillis(Duration.hours(24))
      : Duration.toMillis(options.tokenLifetime)
    const limit = options.rateLimit === false || options.rateLimit === undefined
      ? undefined
      : {
        max: options.rateLimit.limit,
        windowMillis: Duration.toMillis(options.rateLimit.interval),
        lockoutMillis: Duration.toMillis(options.rateLimit.lockout ?? Duration.seconds(60)),
        // Arrival times of the last `max` accepted requests: a ring buffer.
        arrivals: new Array<number>(options.rateLimit.limit).fill(Number.NEGATIVE_INFINITY),
        next: 0,
        lockedUntil: Number.NEGATIVE_INFINITY
      }
    const faults: Array<Fault> = []
    let recorded: Array<RecordedRequest> = []
    let minted = 0
    const recording = options.record ?? true
    let byStatus: Record<number, number> = {}
    let total = 0

    /** sFOX's rate limit: a sliding window over arrivals, then a lockout. */
    const admit = (now: number): boolean => {
      if (limit === undefined) return true
      if (now < limit.lockedUntil) return false
      const oldest = limit.arrivals[limit.next]!
      if (now - oldest < limit.windowMillis) {
        limit.lockedUntil = now + limit.lockoutMillis
        return false
      }
      limit.arrivals[limit.next] = now
      limit.next = (limit.next + 1) % limit.max
      return true
    }

    const mint = (userIds: ReadonlyArray<string>, now: number, format: (millis: number) => string) => {
      minted += userIds.length
      const tokens = randomTokens(userIds.length)
      const expires = format(now + lifetimeMillis)
      return userIds.map((id, i): WireToken => ({ token: tokens[i]!, expires, partner_user_id: id }))
    }

    /** What sFOX would answer, with the user ids the request named. */
    const answer = (
      request: SimRequest,
      now: number,
      batchFault: Fault | undefined
    ): { response: SimResponse; userIds: ReadonlyArray<string> } => {
      const path = request.path
      const isBatch = path === tokensPath
      let userIds: Array<string> = []
      if (!isBatch) {
        const prefix = `${tokensPath}/`
        const segment = path.startsWith(prefix) ? path.slice(prefix.length) : ""
        if (segment === "" || segment.includes("/")) {
          return { response: json(404, { error: "not found" }), userIds }
        }
        try {
          userIds = [decodeURIComponent(segment)]
        } catch {
          return { response: json(400, { error: "malformed user_id" }), userIds }
        }
      }
      if (request.method !== "POST") return { response: json(405, { error: "method not allowed" }), userIds }
      const authorization = request.headers["authorization"]
      if (authorization !== expectedAuthorization) {
        return { response: json(401, { error: "invalid api key" }), userIds }
      }
      const accept = request.headers["accept"]
      if (accept !== undefined && !/json|\*\/\*/i.test(accept)) {
        return { response: json(406, { error: "not acceptable" }), userIds }
      }
      if (isBatch) {
        let body: unknown
        try {
          body = JSON.parse(request.body)
        } catch {
          return { response: json(400, { error: "invalid JSON body" }), userIds }
        }
        const data = typeof body === "object" && body !== null ? (body as { data?: unknown }).data : undefined
        if (!Array.isArray(data) || data.length === 0 || !data.every((id) => typeof id === "string" && id !== "")) {
          return { response: json(400, { error: "data must be a non-empty array of user_id strings" }), userIds }
        }
        userIds = data as Array<string>
        if (userIds.length > maxBatchSize) {
          return { response: json(400, { error: `at most ${maxBatchSize} user_ids per request` }), userIds }
        }
      }
      if (!admit(now)) return { response: json(429, { error: "rate limit exceeded" }), userIds }
      if (users !== undefined) {
        const unknown = userIds.find((id) => !users.has(id))
        if (unknown !== undefined) return { response: json(404, { error: `user not found: ${unknown}` }), userIds }
      }
      if (!isBatch) return { response: json(201, { data: mint(userIds, now, isoMillis)[0] }), userIds }
      let data = mint(userIds, now, isoSeconds)
      if (options.shuffle === true) shuffleInPlace(data)
      if (batchFault?._tag === "Batch") data = tamper(batchFault.mode, data)
      return { response: json(201, { data }), userIds }
    }

    const record = (
      request: SimRequest,
      userIds: ReadonlyArray<string>,
      status: number,
      now: number,
      fault?: Fault
    ) => {
      total++
      byStatus[status] = (byStatus[status] ?? 0) + 1
      if (!recording) return
      const { authorization, ...headers } = request.headers
      recorded.push({
        method: request.method,
        path: request.path,
        userIds,
        authorization: authorization === undefined
          ? "missing"
          : authorization === expectedAuthorization
          ? "valid"
          : "invalid",
        headers,
        body: request.body,
        status,
        at: now,
        fault: fault?._tag
      })
    }

    /** Acts a fault out on top of the normal answer. */
    const apply = (fault: Fault, normal: SimResponse): Effect.Effect<SimResponse> => {
      switch (fault._tag) {
        case "Status":
          return Effect.succeed(
            json(
              fault.status,
              fault.body === undefined ? { error: `scripted ${fault.status}` } : fault.body,
              fault.headers === undefined ? {} : { ...fault.headers }
            )
          )
        case "Malformed":
          return Effect.succeed({ ...json(fault.status ?? 201, fault.body), delivery: { _tag: "Normal" } })
        case "Batch":
          return Effect.succeed(normal)
        case "Delay":
          return Effect.zipRight(
            Effect.sleep(fault.duration),
            fault.then === undefined ? Effect.succeed(normal) : apply(fault.then, normal)
          )
        case "Oversize":
          return Effect.succeed({
            ...normal,
            body: normal.body.replace(/}\s*$/, `,"padding":"${"x".repeat(Math.max(0, fault.bytes))}"}`)
          })
        case "Trickle":
          return Effect.succeed({
            ...normal,
            delivery: {
              _tag: "Trickle",
              intervalMillis: Duration.toMillis(fault.interval),
              chunkSize: Math.max(1, fault.chunkSize ?? 16)
            }
          })
        case "ResetBeforeHeaders":
        case "ResetAfterHeaders":
        case "NoAnswer":
        case "ShortBody":
          return Effect.succeed({ ...normal, delivery: { _tag: fault._tag } })
      }
    }

    const handle = (request: SimRequest): Effect.Effect<SimResponse> =>
      Effect.flatMap(Clock.currentTimeMillis, (now) => {
        const fault = faults.shift()
        // A delay wraps the fault that decides the answer, if any.
        const deciding = fault?._tag === "Delay" ? fault.then : fault
        const { response, userIds } = answer(request, now, deciding)
        const status = deciding?._tag === "Status"
          ? deciding.status
          : deciding?._tag === "Malformed"
          ? deciding.status ?? 201
          : response.status
        record(request, userIds, status, now, fault)
        const acted = fault === undefined ? Effect.succeed(response) : apply(fault, response)
        const delay = jitterMillis > 0 ? latencyMillis + Math.floor(Math.random() * (jitterMillis + 1)) : latencyMillis
        return delay > 0 ? Effect.zipRight(Effect.sleep(Duration.millis(delay)), acted) : acted
      })

    return {
      handle,
      enqueue: (more) =>
        Effect.sync(() => {
          for (const fault of Array.isArray(more) ? more as ReadonlyArray<Fault> : [more as Fault]) faults.push(fault)
        }),
      requests: Effect.sync(() => recorded.slice()),
      reset: Effect.sync(() => {
        recorded = []
        faults.length = 0
        byStatus = {}
        total = 0
      }),
      addUsers: (userIds) =>
        Effect.sync(() => {
          if (users !== undefined) { for (const id of userIds) users.add(id) }
        }),
      setLatency: (latency) =>
        Effect.sync(() => {
          latencyMillis = Duration.toMillis(latency)
        }),
      apiKey: Redacted.make(key),
      minted: Effect.sync(() => minted),
      stats: Effect.sync(() => ({ requests: total, byStatus: { ...byStatus }, minted }))
    }
  })
