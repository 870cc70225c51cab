import { SimulationAdmission, SimulationLiveTokens, SimulationRoutes, type SimulationTokens } from "@sfox-effect/domain"
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import type {
  Fault,
  RecordedRequest,
  SfoxSimulator,
  SimRequest,
  SimResponse,
  SimulatorOptions
} from "../../SfoxSimulator.js"
import * as Faults from "./faults.js"

/**
 * The simulation's shell: the rules (admission, routes, live tokens) are the
 * domain's `Simulation*` modules; here the options are read, the state is
 * held, the clock is read, faults and latency are acted out, and requests
 * are recorded.
 */

const keyOf = (apiKey: SimulatorOptions["apiKey"]): string =>
  apiKey === undefined ? "sfox-test-key" : Redacted.isRedacted(apiKey) ? Redacted.value(apiKey) : apiKey

const policyOf = (rateLimit: SimulatorOptions["rateLimit"]): SimulationAdmission.RateLimit | undefined =>
  rateLimit === false || rateLimit === undefined
    ? undefined
    : {
      max: rateLimit.limit,
      windowMillis: Duration.toMillis(rateLimit.interval),
      lockoutMillis: Duration.toMillis(rateLimit.lockout ?? Duration.seconds(60))
    }

/** The counts and the recording, and how one request adds to them. */
const makeRecorder = (recording: boolean) => {
  const state = { recorded: [] as Array<RecordedRequest>, byStatus: {} as Record<number, number>, total: 0 }
  const record = (
    request: SimRequest,
    answered: SimulationRoutes.Answered,
    status: number,
    now: number,
    fault?: Fault
  ) => {
    state.total++
    state.byStatus[status] = (state.byStatus[status] ?? 0) + 1
    if (!recording) return
    const { authorization: _, ...headers } = request.headers
    state.recorded.push({
      method: request.method,
      path: request.path,
      userIds: answered.userIds,
      authorization: answered.authorization,
      headers,
      body: request.body,
      status,
      at: now,
      fault: fault?._tag
    })
  }
  const reset = () => {
    state.recorded = []
    state.byStatus = {}
    state.total = 0
  }
  return { state, record, reset }
}

/** What the routes read of the simulation, and the counts they keep (tokens minted, orders placed). */
const makeSettings = (options: SimulatorOptions, live: SimulationLiveTokens.LiveTokens) => {
  const counts = { minted: 0, orders: 0 }
  const settings = {
    users: options.users === undefined ? undefined : new Set(options.users),
    maxBatchSize: options.maxBatchSize ?? 1000,
    lifetimeMillis: Duration.toMillis(options.tokenLifetime ?? Duration.hours(24)),
    shuffle: options.shuffle === true,
    issue: (tokens: ReadonlyArray<{ readonly token: string; readonly partner_user_id: string }>, expiresAt: number) => {
      counts.minted += tokens.length
      for (const { partner_user_id, token } of tokens) live.issue(token, partner_user_id, expiresAt)
    },
    nextId: () => ++counts.orders
  }
  return { counts, settings }
}

const tamperOf = (fault: Fault | undefined): SimulationTokens.BatchTamper | undefined =>
  fault?._tag === "Batch" ? fault.mode : undefined

/** A simulation: see `SfoxSimulator.make`. */
export const make = (options: SimulatorOptions = {}): Effect.Effect<SfoxSimulator> =>
  Effect.sync(() => {
    const key = keyOf(options.apiKey)
    const latency = {
      millis: options.latency === undefined ? 0 : Duration.toMillis(options.latency),
      jitterMillis: options.latencyJitter === undefined ? 0 : Duration.toMillis(options.latencyJitter)
    }
    const admission = SimulationAdmission.make(key, policyOf(options.rateLimit))
    const faults = Faults.makeQueue()
    const live = SimulationLiveTokens.make(options.rememberTokens ?? true)
    const recorder = makeRecorder(options.record ?? true)
    const { counts, settings } = makeSettings(options, live)

    const handle = (request: SimRequest): Effect.Effect<SimResponse> =>
      Effect.flatMap(Clock.currentTimeMillis, (now) => {
        const fault = faults.next()
        const deciding = Faults.deciding(fault)
        const context: SimulationRoutes.RouteContext = { ...settings, now, tamper: tamperOf(deciding) }
        const answered = SimulationRoutes.answer(request, context, admission, live)
        const response = answered.response
        recorder.record(request, answered, Faults.statusOf(deciding, response.status), now, fault)
        const acted = fault === undefined ? Effect.succeed(response) : Faults.deliver(fault, response)
        const delay = latency.jitterMillis > 0
          ? latency.millis + Math.floor(Math.random() * (latency.jitterMillis + 1))
          : latency.millis
        return delay > 0 ? Effect.andThen(Effect.sleep(Duration.millis(delay)), acted) : acted
      })

    return {
      handle,
      enqueue: (more) => Effect.sync(() => faults.enqueue(more)),
      requests: Effect.sync(() => recorder.state.recorded.slice()),
      reset: Effect.sync(() => {
        recorder.reset()
        faults.clear()
        counts.minted = 0
        counts.orders = 0
        live.clear()
        admission.reset()
      }),
      addUsers: (userIds) =>
        Effect.sync(() => {
          if (settings.users !== undefined) { for (const id of userIds) settings.users.add(id) }
        }),
      setLatency: (next) =>
        Effect.sync(() => {
          latency.millis = Duration.toMillis(next)
        }),
      revoke: (userId) => Effect.map(Clock.currentTimeMillis, (now) => live.revoke(userId, now)),
      apiKey: Redacted.make(key),
      minted: Effect.sync(() => counts.minted),
      stats: Effect.sync(() => ({
        requests: recorder.state.total,
        byStatus: { ...recorder.state.byStatus },
        minted: counts.minted
      }))
    }
  })
