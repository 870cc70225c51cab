/**
 * The simulated sFOX's endpoints, as data: a table of routes (the two token
 * endpoints and the user endpoints), and how a request goes through the
 * table, the key or a live user token, and the rate limit to its answer.
 * The shell holds the state (admission, live tokens, faults, recording) and
 * the clock.
 *
 * @since 0.1.0
 */
import type { Admission } from "./SimulationAdmission.js"
import type { LiveTokens } from "./SimulationLiveTokens.js"
import { type BatchTamper, isoMillis, isoSeconds, randomTokens, shuffleInPlace, tamper } from "./SimulationTokens.js"
import * as Wire from "./Wire.js"

/**
 * A request as the simulation sees it. Core's public `SfoxSimulator`
 * declares the same shapes (`SimRequest`, `SimResponse`, `Delivery`) for its
 * API page; its shell hands these to each other, so the compiler keeps the
 * two the same.
 *
 * @since 0.1.0
 */
export interface Request {
  readonly method: string
  /** The path as sent, still percent-encoded, without the query. */
  readonly path: string
  /** Header names in lower case. */
  readonly headers: Readonly<Record<string, string | undefined>>
  readonly body: string
}

/**
 * How an answer is acted out on the connection: normally, or with a
 * transport fault.
 *
 * @since 0.1.0
 */
export type Delivery =
  | { readonly _tag: "Normal" }
  | { readonly _tag: "ResetBeforeHeaders" }
  | { readonly _tag: "ResetAfterHeaders" }
  | { readonly _tag: "NoAnswer" }
  | { readonly _tag: "Trickle"; readonly intervalMillis: number; readonly chunkSize: number }
  | { readonly _tag: "ShortBody" }

/**
 * The simulation's answer.
 *
 * @since 0.1.0
 */
export interface Response {
  readonly status: number
  readonly headers: Readonly<Record<string, string>>
  readonly body: string
  readonly delivery: Delivery
}

/**
 * How a request was authorized.
 *
 * @since 0.1.0
 */
export type Authorization = "valid" | "invalid" | "missing"

/**
 * A normal JSON answer.
 *
 * @since 0.1.0
 */
export const json = (status: number, body: unknown, headers: Readonly<Record<string, string>> = {}): Response => ({
  status,
  headers: { "content-type": "application/json", ...headers },
  body: typeof body === "string" ? body : JSON.stringify(body),
  delivery: { _tag: "Normal" }
})

/**
 * What a route needs of the simulation to answer.
 *
 * @since 0.1.0
 */
export interface RouteContext {
  readonly now: number
  /** Every user sFOX knows, or undefined when it knows every id. */
  readonly users: ReadonlySet<string> | undefined
  readonly maxBatchSize: number
  readonly lifetimeMillis: number
  readonly shuffle: boolean
  /** How to tamper with this request's batch answer, if at all. */
  readonly tamper: BatchTamper | undefined
  /** The id of the next order or deposit. */
  readonly nextId: () => number
  /** Counts the tokens handed out and, for the user endpoints, remembers them. */
  readonly issue: (tokens: ReadonlyArray<Wire.WireToken>, expiresAt: number) => void
}

/**
 * The user ids a request names, or the answer that refuses it.
 *
 * @since 0.1.0
 */
export type Read =
  | { readonly userIds: ReadonlyArray<string> }
  | { readonly refused: Response; readonly userIds?: ReadonlyArray<string> }

/**
 * One endpoint of the simulated sFOX. Requests go through the table in
 * order: the first route whose `match` takes the path answers it; a path no
 * route takes is a 404, a method other than the route's a 405.
 *
 * @since 0.1.0
 */
export interface Route {
  readonly method: string
  /**
   * Who may call it: the enterprise key (the token endpoints), or a live
   * user token, whose user is then the one the request names.
   */
  readonly auth: "enterprise" | "user"
  /** Whether the path is this route's, and the ids it names: undefined when it is not. */
  readonly match: (path: string) => Read | undefined
  /** Reads the body, when the route has one: refusals here come before the rate limit, as sFOX's 400s do. */
  readonly read: (request: Request, matched: ReadonlyArray<string>, context: RouteContext) => Read
  /** The answer once the request is admitted and its users are known. */
  readonly answer: (userIds: ReadonlyArray<string>, context: RouteContext, request: Request) => Response
}

const mint = (
  userIds: ReadonlyArray<string>,
  context: RouteContext,
  format: (millis: number) => string
): Array<Wire.WireToken> => {
  const tokens = randomTokens(userIds.length)
  const expiresAt = context.now + context.lifetimeMillis
  const expires = format(expiresAt)
  const minted = userIds.map((id, i): Wire.WireToken => ({ token: tokens[i]!, expires, partner_user_id: id }))
  context.issue(minted, expiresAt)
  return minted
}

/** `POST /v1/enterprise/user-tokens/{user_id}`: no body, one token. */
const single: Route = {
  method: "POST",
  auth: "enterprise",
  match: (path) => {
    const prefix = `${Wire.tokensPath}/`
    if (!path.startsWith(prefix)) return undefined
    const segment = path.slice(prefix.length)
    if (segment === "" || segment.includes("/")) return undefined
    try {
      return { userIds: [decodeURIComponent(segment)] }
    } catch {
      return { refused: json(400, { error: "malformed user_id" }) }
    }
  },
  read: (_, matched) => ({ userIds: matched }),
  answer: (userIds, context) => json(201, { data: mint(userIds, context, isoMillis)[0] })
}

/** `POST /v1/enterprise/user-tokens` with `{"data": [ids]}`: one token per id. */
const batch: Route = {
  method: "POST",
  auth: "enterprise",
  match: (path) => path === Wire.tokensPath ? { userIds: [] } : undefined,
  read: (request, _, context) => {
    let body: unknown
    try {
      body = JSON.parse(request.body)
    } catch {
      return { refused: json(400, { error: "invalid JSON body" }) }
    }
    const data = typeof body === "object" && body !== null ? (body as { data?: unknown }).data : undefined
    if (!Array.isArray(data) || data.length === 0 || !data.every((id) => typeof id === "string" && id !== "")) {
      return { refused: json(400, { error: "data must be a non-empty array of user_id strings" }) }
    }
    if (data.length > context.maxBatchSize) {
      return {
        refused: json(400, { error: `at most ${context.maxBatchSize} user_ids per request` }),
        userIds: data as Array<string>
      }
    }
    return { userIds: data as Array<string> }
  },
  answer: (userIds, context) => {
    let data = mint(userIds, context, isoSeconds)
    if (context.shuffle) shuffleInPlace(data)
    if (context.tamper !== undefined) data = tamper(context.tamper, data)
    return json(201, { data })
  }
}

/** A request body that is a JSON object, or undefined. */
const jsonObject = (body: string): Record<string, unknown> | undefined => {
  try {
    const parsed: unknown = JSON.parse(body)
    return typeof parsed === "object" && parsed !== null && !Array.isArray(parsed)
      ? parsed as Record<string, unknown>
      : undefined
  } catch {
    return undefined
  }
}

const exactly = (path: string) => (requested: string): Read | undefined =>
  requested === path ? { userIds: [] } : undefined

/**
 * `GET /v1/user/balance`, as the user the token acts for: a fixed balance.
 * One of the calls a token is minted for, so that acting as a user
 * (`clientFor`) can be tested against live tokens.
 */
const balance: Route = {
  method: "GET",
  auth: "user",
  match: exactly("/v1/user/balance"),
  read: (_, matched) => ({ userIds: matched }),
  answer: () =>
    json(200, [
      { currency: "usd", balance: 1000, available: 1000, held: 0 },
      { currency: "btc", balance: 0.5, available: 0.5, held: 0 }
    ])
}

/** `POST /v1/user/orders` with a JSON body, as the user the token acts for: the order, accepted. */
const orders: Route = {
  method: "POST",
  auth: "user",
  match: exactly("/v1/user/orders"),
  read: (request, matched) =>
    jsonObject(request.body) === undefined
      ? { refused: json(400, { error: "the order must be a JSON object" }), userIds: matched }
      : { userIds: matched },
  answer: (userIds, context, request) =>
    json(201, {
      ...JSON.parse(request.body) as object,
      id: context.nextId(),
      user_id: userIds[0],
      status: "Pending"
    })
}

/** `POST /v1/user/bank/deposit` with `{"amount": n}`, as the user the token acts for: an ACH deposit, pending. */
const deposit: Route = {
  method: "POST",
  auth: "user",
  match: exactly("/v1/user/bank/deposit"),
  read: (request, matched) => {
    const amount = jsonObject(request.body)?.["amount"]
    return typeof amount === "number" && Number.isFinite(amount) && amount > 0
      ? { userIds: matched }
      : { refused: json(400, { error: "amount must be a positive number" }), userIds: matched }
  },
  answer: (_, context, request) =>
    json(201, {
      id: `ach_${context.nextId()}`,
      amount: (JSON.parse(request.body) as { amount: number }).amount,
      status: "pending"
    })
}

/**
 * The endpoints, in the order they are tried.
 *
 * @since 0.1.0
 */
export const routes: ReadonlyArray<Route> = [batch, single, balance, orders, deposit]

/**
 * What the simulated sFOX answers, with the user ids the request named and
 * how it was authorized.
 *
 * @since 0.1.0
 */
export interface Answered {
  readonly response: Response
  readonly userIds: ReadonlyArray<string>
  readonly authorization: Authorization
}

const find = (path: string): { readonly route: Route; readonly matched: Read } | undefined => {
  for (const route of routes) {
    const matched = route.match(path)
    if (matched !== undefined) return { route, matched }
  }
  return undefined
}

/**
 * The token endpoints take the enterprise key; the user endpoints take a
 * live user token and act for its user (the key is refused there: it acts
 * for no user).
 */
const authorize = (
  auth: Route["auth"],
  header: string | undefined,
  now: number,
  admission: Admission,
  live: LiveTokens
): { readonly status: Authorization; readonly userId?: string } => {
  if (auth === "enterprise") return { status: admission.authorization(header) }
  if (header === undefined) return { status: "missing" }
  const userId = header.startsWith("Bearer ") ? live.ownerOf(header.slice(7), now) : undefined
  return userId === undefined ? { status: "invalid" } : { status: "valid", userId }
}

/**
 * What sFOX would answer `request`: the route, its method, the key or user
 * token, `Accept`, the body, the rate limit (which counts the request in
 * `admission`), the known users, in that order.
 *
 * @since 0.1.0
 */
export const answer = (
  request: Request,
  context: RouteContext,
  admission: Admission,
  live: LiveTokens
): Answered => {
  const header = request.headers["authorization"]
  const found = find(request.path)
  if (found === undefined) {
    return { response: json(404, { error: "not found" }), userIds: [], authorization: admission.authorization(header) }
  }
  const { matched, route } = found
  const authorization = authorize(route.auth, header, context.now, admission, live)
  const out = (response: Response, userIds: ReadonlyArray<string>): Answered => ({
    response,
    userIds,
    authorization: authorization.status
  })
  if ("refused" in matched) return out(matched.refused, matched.userIds ?? [])
  const userIds = authorization.userId === undefined ? matched.userIds : [authorization.userId]
  if (request.method !== route.method) return out(json(405, { error: "method not allowed" }), matched.userIds)
  if (authorization.status !== "valid") {
    const error = route.auth === "user" ? "invalid or expired user token" : "invalid api key"
    return out(json(401, { error }), matched.userIds)
  }
  const accept = request.headers["accept"]
  if (accept !== undefined && !/json|\*\/\*/i.test(accept)) return out(json(406, { error: "not acceptable" }), userIds)
  const read = route.read(request, userIds, context)
  if ("refused" in read) return out(read.refused, read.userIds ?? [])
  return out(admitted(route, request, read.userIds, context, admission), read.userIds)
}

const admitted = (
  route: Route,
  request: Request,
  userIds: ReadonlyArray<string>,
  context: RouteContext,
  admission: Admission
): Response => {
  if (!admission.admit(context.now)) return json(429, { error: "rate limit exceeded" })
  if (context.users !== undefined) {
    const users = context.users
    const unknown = userIds.find((id) => !users.has(id))
    if (unknown !== undefined) return json(404, { error: `user not found: ${unknown}` })
  }
  return route.answer(userIds, context, request)
}
