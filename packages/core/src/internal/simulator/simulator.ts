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
import * as Admission from "./admission.js"
import * as Faults from "./faults.js"
import { json } from "./response.js"
import { type RouteContext, routes } from "./routes.js"

/**
 * The simulation: admission (key, accept, rate limit), the route table, the
 * fault queue and latency, each in its own module; here only how a request
 * goes through them and what is recorded.
 */
export const make = (options: SimulatorOptions = {}): Effect.Effect<SfoxSimulator> =>
  Effect.sync(() => {
    const key = options.apiKey === undefined
      ? "sfox-test-key"
      : Redacted.isRedacted(options.apiKey)
      ? Redacted.value(options.apiKey)
      : options.apiKey
    const users = options.users === undefined ? undefined : new Set(options.users)
    let latencyMillis = options.latency === undefined ? 0 : Duration.toMillis(options.latency)
    const jitterMillis = options.latencyJitter === undefined ? 0 : Duration.toMillis(options.latencyJitter)
    const admission = Admission.make(key, options.rateLimit)
    const faults = Faults.makeQueue()
    const recording = options.record ?? true
    let recorded: Array<RecordedRequest> = []
    let minted = 0
    let byStatus: Record<number, number> = {}
    let total = 0
    const settings = {
      users,
      maxBatchSize: options.maxBatchSize ?? 1000,
      lifetimeMillis: Duration.toMillis(options.tokenLifetime ?? Duration.hours(24)),
      shuffle: options.shuffle === true,
      minted: (count: number) => {
        minted += count
      }
    }

    /** What sFOX would answer, with the user ids the request named. */
    const answer = (
      request: SimRequest,
      now: number,
      fault: Fault | undefined
    ): { readonly response: SimResponse; readonly userIds: ReadonlyArray<string> } => {
      const context: RouteContext = { ...settings, now, fault }
      let route
      let matched
      for (route of routes) {
        matched = route.match(request.path)
        if (matched !== undefined) break
      }
      if (route === undefined || matched === undefined) {
        return { response: json(404, { error: "not found" }), userIds: [] }
      }
      if ("refused" in matched) {
        return { response: matched.refused, userIds: matched.userIds ?? [] }
      }
      let userIds = matched.userIds
      if (request.method !== route.method) return { response: json(405, { error: "method not allowed" }), userIds }
      if (admission.authorization(request.headers["authorization"]) !== "valid") {
        return { response: json(401, { error: "invalid api key" }), userIds }
      }
      const accept = request.headers["accept"]
      if (accept !== undefined && !/json|\*\/\*/i.test(accept)) {
        return { response: json(406, { error: "not acceptable" }), userIds }
      }
      const read = route.read(request, userIds, context)
      if ("refused" in read) return { response: read.refused, userIds: read.userIds ?? [] }
      userIds = read.userIds
      if (!admission.admit(now)) return { response: json(429, { error: "rate limit exceeded" }), userIds }
      if (users !== undefined) {
        const unknown = userIds.find((id) => !users.has(id))
        if (unknown !== undefined) return { response: json(404, { error: `user not found: ${unknown}` }), userIds }
      }
      return { response: route.answer(userIds, context), userIds }
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
        authorization: admission.authorization(authorization),
        headers,
        body: request.body,
        status,
        at: now,
        fault: fault?._tag
      })
    }

    const handle = (request: SimRequest): Effect.Effect<SimResponse> =>
      Effect.flatMap(Clock.currentTimeMillis, (now) => {
        const fault = faults.next()
        const deciding = Faults.deciding(fault)
        const { response, userIds } = answer(request, now, deciding)
        record(request, userIds, Faults.statusOf(deciding, response.status), now, fault)
        const acted = fault === undefined ? Effect.succeed(response) : Faults.deliver(fault, response)
        const delay = jitterMillis > 0 ? latencyMillis + Math.floor(Math.random() * (jitterMillis + 1)) : latencyMillis
        return delay > 0 ? Effect.zipRight(Effect.sleep(Duration.millis(delay)), acted) : acted
      })

    return {
      handle,
      enqueue: (more) => Effect.sync(() => faults.enqueue(more)),
      requests: Effect.sync(() => recorded.slice()),
      reset: Effect.sync(() => {
        recorded = []
        faults.clear()
        byStatus = {}
        total = 0
        minted = 0
        admission.reset()
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
