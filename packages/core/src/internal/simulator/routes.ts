import type { Fault, SimRequest, SimResponse } from "../../SfoxSimulator.js"
import { tokensPath } from "../paths.js"
import { tamper } from "./faults.js"
import { json } from "./response.js"
import { isoMillis, isoSeconds, randomTokens, shuffleInPlace, type WireToken } from "./tokens.js"

/** What a route needs of the simulation to answer. */
export interface RouteContext {
  readonly now: number
  /** Every user sFOX knows, or undefined when it knows every id. */
  readonly users: ReadonlySet<string> | undefined
  readonly maxBatchSize: number
  readonly lifetimeMillis: number
  readonly shuffle: boolean
  /** The fault that decides this request's answer, if any. */
  readonly fault: Fault | undefined
  /** The id of the next order or deposit. */
  readonly nextId: () => number
  /** Counts the tokens handed out and, for the user endpoints, remembers them. */
  readonly issue: (tokens: ReadonlyArray<WireToken>, expiresAt: number) => void
}

/** The user ids a request names, or the answer that refuses it. */
export type Read =
  | { readonly userIds: ReadonlyArray<string> }
  | { readonly refused: SimResponse; readonly userIds?: ReadonlyArray<string> }

/**
 * One endpoint of the simulated sFOX. Requests go through the table in
 * order: the first route whose `match` takes the path answers it; a path no
 * route takes is a 404, a method other than the route's a 405.
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
  readonly read: (request: SimRequest, matched: ReadonlyArray<string>, context: RouteContext) => Read
  /** The answer once the request is admitted and its users are known. */
  readonly answer: (userIds: ReadonlyArray<string>, context: RouteContext, request: SimRequest) => SimResponse
}

const mint = (
  userIds: ReadonlyArray<string>,
  context: RouteContext,
  format: (millis: number) => string
): Array<WireToken> => {
  const tokens = randomTokens(userIds.length)
  const expiresAt = context.now + context.lifetimeMillis
  const expires = format(expiresAt)
  const minted = userIds.map((id, i): WireToken => ({ token: tokens[i]!, expires, partner_user_id: id }))
  context.issue(minted, expiresAt)
  return minted
}

/** `POST /v1/enterprise/user-tokens/{user_id}`: no body, one token. */
const single: Route = {
  method: "POST",
  auth: "enterprise",
  match: (path) => {
    const prefix = `${tokensPath}/`
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
  match: (path) => path === tokensPath ? { userIds: [] } : undefined,
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
    if (context.fault?._tag === "Batch") data = tamper(context.fault.mode, data)
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

/** The endpoints, in the order they are tried. */
export const routes: ReadonlyArray<Route> = [batch, single, balance, orders, deposit]
