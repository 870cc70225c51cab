/**
 * One simulation of sFOX, whole but for time and transport: its settings and
 * their defaults, its state (the admission, the live tokens, the fault
 * queue, the counts and the recording), and what a request does to it. The
 * shell reads the clock, sleeps the latency and a fault's delays on it, and
 * acts the answer out on its transport (`SimulationFaults.actOut`, then the
 * delivery).
 *
 * @since 0.3.0
 */
import * as Admission from "./SimulationAdmission.js"
import { deciding, type Fault, queue, statusOf, tamperOf } from "./SimulationFaults.js"
import * as LiveTokens from "./SimulationLiveTokens.js"
import { answer, type Authorization, type Request, type Response, type RouteContext } from "./SimulationRoutes.js"
import { documentedLockoutMillis } from "./Status.js"
import type { WireToken } from "./Wire.js"

/**
 * The key a simulation accepts unless told another.
 *
 * @since 0.3.0
 */
export const defaultKey = "sfox-test-key"

/**
 * What a simulation knows and how it behaves; every field is optional. The
 * shells' `SimulatorOptions` is this shape with their own duration type
 * (`D`) and key type (`K`, a plain or a redacted string), which `Reader`
 * reads.
 *
 * @since 0.3.0
 */
export interface Options<D, K> {
  /** The enterprise key the simulation accepts. @default defaultKey */
  readonly apiKey?: K | undefined
  /** The users sFOX knows; any other id gets a 404. @default every id is known */
  readonly users?: Iterable<string> | undefined
  /** Time taken to answer every request. @default 0 */
  readonly latency?: D | undefined
  /** Up to this much more time per request, drawn uniformly for each one. @default 0 */
  readonly latencyJitter?: D | undefined
  /**
   * At most `limit` requests in any `interval`; the one over it gets a 429
   * and locks the client out for `lockout` (sFOX's documented 60 s by
   * default). `false` for none. @default false
   */
  readonly rateLimit?:
    | { readonly limit: number; readonly interval: D; readonly lockout?: D | undefined }
    | false
    | undefined
  /** Largest batch accepted; more ids get a 400. @default 1000 */
  readonly maxBatchSize?: number | undefined
  /** Shuffle every batch answer. @default false */
  readonly shuffle?: boolean | undefined
  /** Life of a minted token. @default 24 hours */
  readonly tokenLifetime?: D | undefined
  /** Remember every token minted, for the user endpoints. @default true */
  readonly rememberTokens?: boolean | undefined
  /** Keep every request for `requests`. @default true */
  readonly record?: boolean | undefined
}

/**
 * How the shell's durations and key are read.
 *
 * @since 0.3.0
 */
export interface Reader<D, K> {
  readonly millisOf: (duration: D) => number
  readonly keyOf: (key: K) => string
}

/**
 * A request the simulation saw (the shells' `RecordedRequest`). The
 * `Authorization` header is not kept, only whether it was right.
 *
 * @since 0.3.0
 */
export interface Recorded {
  readonly method: string
  readonly path: string
  readonly userIds: ReadonlyArray<string>
  readonly authorization: Authorization
  readonly headers: Readonly<Record<string, string | undefined>>
  readonly body: string
  /** The status answered (before any transport fault). */
  readonly status: number
  /** The simulation's clock when the request arrived. */
  readonly at: number
  /** The fault acted out for this request, if any. */
  readonly fault: Fault<unknown>["_tag"] | undefined
}

/**
 * Counts kept whether or not requests are recorded.
 *
 * @since 0.3.0
 */
export interface Stats {
  readonly requests: number
  readonly byStatus: Readonly<Record<number, number>>
  readonly minted: number
}

/**
 * A request handled: the normal answer, the fault to act out on top of it
 * (if any), and the latency to wait first.
 *
 * @since 0.3.0
 */
export interface Handled<F> {
  readonly response: Response
  readonly fault: F | undefined
  readonly delayMillis: number
}

/**
 * A running simulation; `F` is the shell's fault type, `D` its duration type.
 *
 * @since 0.3.0
 */
export interface Simulation<F, D> {
  readonly key: string
  /** Answers one request arriving at `now`, records it and counts it. */
  readonly handle: (request: Request, now: number) => Handled<F>
  /** Queues faults, used one per request in order. */
  readonly enqueue: (faults: F | ReadonlyArray<F>) => void
  /** Every request seen so far, oldest first (a copy). */
  readonly requests: () => ReadonlyArray<Recorded>
  /**
   * Forgets the recorded requests, every count, every token it honoured,
   * any queued fault, and the rate limit's window and lockout. The users,
   * key and latency stay as they are.
   */
  readonly reset: () => void
  /** Revokes the live tokens of one user, or of every user; how many were live. */
  readonly revoke: (userId: string | undefined, now: number) => number
  /** Adds users to the known set (when the simulation has one). */
  readonly addUsers: (userIds: Iterable<string>) => void
  /** Changes the latency of every later request. */
  readonly setLatency: (latency: D) => void
  /** Tokens minted so far. */
  readonly minted: () => number
  readonly stats: () => Stats
}

/** sFOX's rate limit as the options give it, or none. */
const admissionOf = <D, K>(key: string, options: Options<D, K>, read: Reader<D, K>) => {
  const rateLimit = options.rateLimit
  return Admission.make(
    key,
    rateLimit === false || rateLimit === undefined ? undefined : {
      max: rateLimit.limit,
      windowMillis: read.millisOf(rateLimit.interval),
      lockoutMillis: rateLimit.lockout === undefined ? documentedLockoutMillis : read.millisOf(rateLimit.lockout)
    }
  )
}

/** What was asked and answered: every request counted by status, and recorded (without its key) when asked to. */
const recorder = <F extends Fault<unknown>>(recording: boolean) => {
  const state = { recorded: [] as Array<Recorded>, byStatus: {} as Record<number, number>, total: 0 }
  const record = (
    request: Request,
    userIds: ReadonlyArray<string>,
    authorization: Authorization,
    status: number,
    now: number,
    fault: F | undefined
  ) => {
    state.total++
    state.byStatus[status] = (state.byStatus[status] ?? 0) + 1
    if (!recording) return
    const { authorization: _, ...headers } = request.headers
    state.recorded.push({
      method: request.method,
      path: request.path,
      userIds,
      authorization,
      headers,
      body: request.body,
      status,
      at: now,
      fault: fault?._tag
    })
  }
  const clear = () => {
    state.recorded = []
    state.byStatus = {}
    state.total = 0
  }
  return { state, record, clear }
}

/**
 * Starts a simulation.
 *
 * @since 0.3.0
 */
export const make = <F extends Fault<D>, D, K>(options: Options<D, K>, read: Reader<D, K>): Simulation<F, D> => {
  const key = options.apiKey === undefined ? defaultKey : read.keyOf(options.apiKey)
  const latency = {
    millis: options.latency === undefined ? 0 : read.millisOf(options.latency),
    jitterMillis: options.latencyJitter === undefined ? 0 : read.millisOf(options.latencyJitter)
  }
  const admission = admissionOf(key, options, read)
  const faults = queue<F>()
  const live = LiveTokens.make(options.rememberTokens ?? true)
  const recorded = recorder<Fault<unknown>>(options.record ?? true)
  const counts = { minted: 0, orders: 0 }
  const users = options.users === undefined ? undefined : new Set(options.users)
  // What the routes read of the simulation, and the counts they keep.
  const settings = {
    users,
    maxBatchSize: options.maxBatchSize ?? 1000,
    lifetimeMillis: options.tokenLifetime === undefined ? 24 * 60 * 60 * 1000 : read.millisOf(options.tokenLifetime),
    shuffle: options.shuffle === true,
    issue: (tokens: ReadonlyArray<WireToken>, expiresAt: number) => {
      counts.minted += tokens.length
      for (const { partner_user_id, token } of tokens) live.issue(token, partner_user_id, expiresAt)
    },
    nextId: () => ++counts.orders
  }

  return {
    key,
    handle: (request, now) => {
      const fault = faults.next()
      const decides = deciding(fault)
      const context: RouteContext = { ...settings, now, tamper: tamperOf(decides) }
      const answered = answer(request, context, admission, live)
      const status = statusOf(decides, answered.response.status)
      recorded.record(request, answered.userIds, answered.authorization, status, now, fault)
      const delayMillis = latency.jitterMillis > 0
        ? latency.millis + Math.floor(Math.random() * (latency.jitterMillis + 1))
        : latency.millis
      return { response: answered.response, fault, delayMillis }
    },
    enqueue: faults.enqueue,
    requests: () => recorded.state.recorded.slice(),
    reset: () => {
      recorded.clear()
      faults.clear()
      counts.minted = 0
      counts.orders = 0
      live.clear()
      admission.reset()
    },
    revoke: (userId, now) => live.revoke(userId, now),
    addUsers: (userIds) => {
      if (users !== undefined) { for (const id of userIds) users.add(id) }
    },
    setLatency: (next) => {
      latency.millis = read.millisOf(next)
    },
    minted: () => counts.minted,
    stats: () => ({ requests: recorded.state.total, byStatus: { ...recorded.state.byStatus }, minted: counts.minted })
  }
}
