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
import * as LiveTokens from "./liveTokens.js"
import { json } from "./response.js"
import { type Read, type Route, type RouteContext, routes } from "./routes.js"

interface Answered {
  readonly response: SimResponse
  readonly userIds: ReadonlyArray<string>
  readonly authorization: RecordedRequest["authorization"]
}

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
    let orders = 0
    const live = LiveTokens.make(options.rememberTokens ?? true)
    let byStatus: Record<number, number> = {}
    let total = 0
    const settings = {
      users,
      maxBatchSize: options.maxBatchSize ?? 1000,
      lifetimeMillis: Duration.toMillis(options.tokenLifetime ?? Duration.hours(24)),
      shuffle: options.shuffle === true,
      issue: (
        tokens: ReadonlyArray<{ readonly token: string; readonly partner_user_id: string }>,
        expiresAt: number
      ) => {
        minted += tokens.length
        for (const { partner_user_id, token } of tokens) live.issue(token, partner_user_id, expiresAt)
      },
      nextId: () => ++orders
    }

    /** What sFOX would answer, with the user ids the request named and how it was authorized. */
    const answer = (request: SimRequest, now: number, fault: Fault | undefined): Answered => {
      const context: RouteContext = { ...settings, now, fault }
      const header = request.headers["authorization"]
      let route: Route | undefined
      let matched: Read | undefined
      for (const candidate of routes) {
        matched = candidate.match(request.path)
        if (matched !== undefined) {
          route = candidate
          break
        }
      }
      if (route === undefined || matched === undefined) {
        return {
          response: json(404, { error: "not found" }),
          userIds: [],
          authorization: admission.authorization(header)
        }
      }
      const authorization = authorize(route.auth, header, now)
      const out = (response: SimResponse, userIds: ReadonlyArray<string>): Answered => ({
        response,
        userIds,
        authorization: authorization.status
      })
      if ("refused" in matched) return out(matched.refused, matched.userIds ?? [])
      let userIds = matched.userIds
      if (request.method !== route.method) return out(json(405, { error: "method not allowed" }), userIds)
      if (authorization.status !== "valid") {
        const error = route.auth === "user" ? "invalid or expired user token" : "invalid api key"
        return out(json(401, { error }), userIds)
      }
      if (authorization.userId !== undefined) userIds = [authorization.userId]
      const accept = request.headers["accept"]
      if (accept !== undefined && !/json|\*\/\*/i.test(accept)) {
        return out(json(406, { error: "not acceptable" }), userIds)
      }
      const read = route.read(request, userIds, context)
      if ("refused" in read) {
        return out(read.refused, read.userIds ?? [])
      }
      userIds = read.userIds
      if (!admission.admit(now)) return out(json(429, { error: "rate limit exceeded" }), userIds)
      if (users !== undefined) {
        const unknown = userIds.find((id) => !users.has(id))
        if (unknown !== undefined) return out(json(404, { error: `user not found: ${unknown}` }), userIds)
      }
      return out(route.answer(userIds, context, request), userIds)
    }

    /**
     * The token endpoints take the enterprise key; the user endpoints take a
     * live user token and act for its user (the key is refused there: it
     * acts for no user).
     */
    const authorize = (
      auth: "enterprise" | "user",
      header: string | undefined,
      now: number
    ): { readonly status: RecordedRequest["authorization"]; readonly userId?: string } => {
      if (auth === "enterprise") return { status: admission.authorization(header) }
      if (header === undefined) return { status: "missing" }
      const userId = header.startsWith("Bearer ") ? live.ownerOf(header.slice(7), now) : undefined
      return userId === undefined ? { status: "invalid" } : { status: "valid", userId }
    }

    const record = (request: SimRequest, answered: Answered, status: number, now: number, fault?: Fault) => {
      total++
      byStatus[status] = (byStatus[status] ?? 0) + 1
      if (!recording) return
      const { authorization: _, ...headers } = request.headers
      recorded.push({
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

    const handle = (request: SimRequest): Effect.Effect<SimResponse> =>
      Effect.flatMap(Clock.currentTimeMillis, (now) => {
        const fault = faults.next()
        const deciding = Faults.deciding(fault)
        const answered = answer(request, now, deciding)
        const response = answered.response
        record(request, answered, Faults.statusOf(deciding, response.status), now, fault)
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
        orders = 0
        live.clear()
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
      revoke: (userId) => Effect.map(Clock.currentTimeMillis, (now) => live.revoke(userId, now)),
      apiKey: Redacted.make(key),
      minted: Effect.sync(() => minted),
      stats: Effect.sync(() => ({ requests: total, byStatus: { ...byStatus }, minted }))
    }
  })
