/**
 * Secrets never leak (test/Secrets.test.ts, test/Tracing.secrets.test.ts and
 * their Effect 4 twins): the secrets, the scenarios that provoke each error
 * from a server that echoes them, the ways a value is printed short of an
 * edition's own `Cause` and logger, and the scan. Each edition runs the
 * scenarios with its own service, tracer and logger and hands every text it
 * captured to these checks.
 */
import * as Util from "node:util"
import type { Assert } from "./assert.js"
import type { Faults } from "./faults.js"

export const KEY = "sk-SECRET-KEY-9f1c7e2a4b6d8035"
/** A key the server does not accept: a secret all the same. */
export const WRONG_KEY = "sk-SECRET-WRONG-0c3b5d7f9e1a"
/** A token-shaped value the server slips into error bodies. */
export const ECHOED = "5ec12e7".padEnd(64, "c")
export const tokenPattern = /[0-9a-f]{64}/g

/** Everything a program could print about a value, short of the edition's own `Cause.pretty`. */
export const plainRenderings = (value: unknown): Array<string> => [
  String(value),
  JSON.stringify(value) ?? "",
  Util.inspect(value, { depth: 12 }),
  Util.inspect(value, { depth: 12, showHidden: true, getters: true }),
  value instanceof Error ? `${value.name}: ${value.message}\n${value.stack ?? ""}` : ""
]

/** Adds every token-shaped value of an answer body the client read to `seen`. */
export const collectTokens = (seen: Set<string>, body: string) => {
  for (const token of body.match(tokenPattern) ?? []) seen.add(token)
}

export const assertClean = (
  assert: Assert,
  texts: ReadonlyArray<string>,
  secrets: ReadonlyArray<string>,
  where: string
) => {
  for (const text of texts) {
    for (const secret of secrets) {
      if (text.includes(secret)) {
        const at = text.indexOf(secret)
        assert.fail(`${where} holds a secret: …${text.slice(Math.max(0, at - 120), at + secret.length + 40)}…`)
      }
    }
  }
}

/**
 * Every audit runs three times, over real sockets each: NodeSfox's undici
 * client as it comes, the same with `tracing: true` (with the platform's own
 * per-request spans), and the platform's fetch client.
 */
export type Client = "undici" | "undici with tracing" | "fetch"
export const clients: ReadonlyArray<Client> = ["undici", "undici with tracing", "fetch"]
export const platformSpans = (client: Client) => client !== "undici"

/** Whether the answers the server gives are capped (fetch has no response-size limit). */
export const maxResponseBytes = 16 * 1024

// ---------------------------------------------------------------------------
// errors

/** What a scenario calls, as data: each edition runs it with its own service. */
export type Call =
  | { readonly _tag: "create"; readonly id: unknown }
  | { readonly _tag: "createMany"; readonly ids: unknown }
  | { readonly _tag: "get"; readonly id: unknown }
  /** `get` for u1 and u2 at once: one batch. */
  | { readonly _tag: "getPair" }
  /** A second service, same server, another key. */
  | { readonly _tag: "withKey"; readonly key: string; readonly call: Call }
  /** A service whose baseUrl is a loopback port nobody listens on. */
  | { readonly _tag: "atClosedPort" }
  /**
   * A service whose shared limiter cannot give a turn: Redis at a closed
   * port, with the API key as its password (a leak of either shows as the key).
   */
  | { readonly _tag: "limiterDown" }

const create: Call = { _tag: "create", id: "u1" }
const createMany: Call = { _tag: "createMany", ids: ["u1", "u2", "u3"] }
const getPair: Call = { _tag: "getPair" }

/** The Redis URL `limiterDown` gives its limiter, `port` closed. */
export const limiterDownUrl = (port: number) => `redis://:${encodeURIComponent(KEY)}@127.0.0.1:${port}`

export interface Scenario<F> {
  readonly name: string
  readonly faults: ReadonlyArray<F>
  readonly call: Call
  /** fetch has no response-size limit. */
  readonly undiciOnly?: boolean
}

export type ErrorTag =
  | "InvalidUserId"
  | "EmptyBatch"
  | "Unauthorized"
  | "RateLimited"
  | "HttpFailure"
  | "TransportError"
  | "RateLimiterUnavailable"
  | "MalformedResponse"

const wellFormed = (token: string, user: string) =>
  JSON.stringify({ data: { token, partner_user_id: user, expires: "2030-01-01T00:00:00Z" } })

/** Every error tag, and the scenarios that provoke it, built with an edition's `Fault`. */
export const scenarios = <F>(Fault: Faults<F>): ReadonlyArray<readonly [ErrorTag, ReadonlyArray<Scenario<F>>]> => [
  ["InvalidUserId", [
    { name: "an empty id", faults: [], call: { _tag: "create", id: "" } },
    { name: "a bad id in a batch", faults: [], call: { _tag: "createMany", ids: ["ok", "a\r\nb"] } },
    { name: "a non-string through get", faults: [], call: { _tag: "get", id: 42 } }
  ]],
  ["EmptyBatch", [{ name: "no ids", faults: [], call: { _tag: "createMany", ids: [] } }]],
  ["Unauthorized", [
    { name: "401 for a wrong key", faults: [], call: { _tag: "withKey", key: WRONG_KEY, call: create } },
    {
      name: "401 echoing the key",
      faults: [Fault.status(401, { body: { error: `invalid key ${KEY}` } })],
      call: create
    },
    {
      name: "403 echoing the header",
      faults: [Fault.status(403, { body: `Authorization: Bearer ${KEY}` })],
      call: create
    },
    {
      name: "403 echoing a token in a batch",
      faults: [Fault.status(403, { body: { error: `not yours: ${ECHOED}` } })],
      call: createMany
    }
  ]],
  ["RateLimited", [
    {
      name: "429 echoing a token",
      faults: [Fault.status(429, { body: { error: "slow", token: ECHOED } })],
      call: create
    },
    {
      name: "429 echoing the key, through get",
      faults: [Fault.status(429, { body: { error: `key ${KEY} locked out` } })],
      call: getPair
    }
  ]],
  ["HttpFailure", [
    { name: "500 echoing both", faults: [Fault.status(500, { body: { error: `${KEY} / ${ECHOED}` } })], call: create },
    {
      name: "502 HTML echoing the key",
      faults: [Fault.status(502, { body: `<html><pre>Authorization: Bearer ${KEY}</pre></html>` })],
      call: createMany
    },
    {
      name: "400 with the secrets under other fields",
      faults: [Fault.status(400, { body: { message: `api_key=${KEY}`, access_token: ECHOED } })],
      call: create
    }
  ]],
  ["TransportError", [
    { name: "reset before headers", faults: [Fault.reset()], call: create },
    { name: "reset mid-body", faults: [Fault.resetAfterHeaders()], call: create },
    { name: "body short of Content-Length", faults: [Fault.shortBody()], call: createMany },
    { name: "no answer (timeout)", faults: [Fault.noAnswer()], call: create },
    {
      name: "an answer over the size limit",
      faults: [Fault.oversize(64 * 1024)],
      call: createMany,
      undiciOnly: true
    },
    { name: "nothing listening (connect)", faults: [], call: { _tag: "atClosedPort" } }
  ]],
  ["RateLimiterUnavailable", [{
    name: "Redis down, its password in the URL",
    faults: [],
    call: { _tag: "limiterDown" }
  }]],
  ["MalformedResponse", [
    { name: "not JSON, echoing both", faults: [Fault.malformed(`oops ${KEY} ${ECHOED}`)], call: create },
    {
      name: "wrong shape holding a token",
      faults: [Fault.malformed(`{"data": {"token": "${ECHOED}", "partner_user_id": 1}}`)],
      call: create
    },
    {
      name: "an error under a 200",
      faults: [Fault.malformed(JSON.stringify({ error: `bad key ${KEY}` }), 200)],
      call: create
    },
    { name: "a token for another user", faults: [Fault.malformed(wellFormed(ECHOED, "someone-else"))], call: create },
    ...(["drop", "add", "duplicate", "mislabel"] as const).map((mode): Scenario<F> => ({
      name: `batch ${mode}`,
      faults: [Fault.batch(mode)],
      call: mode === "mislabel" ? getPair : createMany
    }))
  ]]
]

export const errorsDescribe = "no error leaks the key or a token: renderings, logs, spans"
export const scenarioName = (tag: ErrorTag, all: ReadonlyArray<Scenario<unknown>>) =>
  `${tag}: ${all.map((c) => c.name).join("; ")}`
/** Whether a tag's scenarios send a request at all (and so make client spans). */
export const sends = (tag: ErrorTag) =>
  tag !== "InvalidUserId" && tag !== "EmptyBatch" && tag !== "RateLimiterUnavailable"
export const forClient = <F>(all: ReadonlyArray<Scenario<F>>, client: Client) =>
  all.filter((c) => client !== "fetch" || c.undiciOnly !== true)

// ---------------------------------------------------------------------------
// tokens

export const tokensDescribe = "no token leaks: renderings, logs, spans"
export const tokensPrinted = {
  name: "tokens from create, createMany and get, printed, logged and put on spans",
  one: "u1",
  many: ["u2", "u3", "u4"],
  got: ["u5", "u6"],
  count: 6,
  shape: /^[0-9a-f]{64}$/
}
export const wireCarried = {
  name: "the wire did carry the tokens (the capture is not vacuous)",
  ids: ["a", "b"]
}

// ---------------------------------------------------------------------------
// the caller's own mix-ups

export const mixUps = {
  describe: "a secret passed where an id belongs",
  // A caller that passes the key (or a token) as a user id, with a stray
  // space or newline, gets InvalidUserId: its preview must not show the secret.
  // InvalidUserId's preview is cut from the scrubbed input, so neither the
  // key nor any part of a token shows in its message, JSON or log lines.
  name: "the key or a token as a malformed id is not echoed by InvalidUserId",
  ids: [` ${KEY}`, `${ECHOED}\n`, `${KEY}\r\n`],
  /** A part of a secret is as bad as the whole: the preview would cut it at 40 characters. */
  partial: [KEY.slice(0, 20), ECHOED.slice(0, 20)]
}

// ---------------------------------------------------------------------------
// exported spans (Tracing.secrets)

export const tracing = {
  KEY: "sk-Tr4ce-0b9d8c7e6f5a4321",
  TOKEN: "5d".repeat(32),
  describe: "spans exported to OpenTelemetry never hold the key or a token, whatever headers the server echoes",
  name: (client: string) => `${client}: a 201 and a 503 that echo the key and the token in their headers`,
  clients: ["NodeSfox.httpClientWith({ tracing: true })", "FetchHttpClient"] as const,
  echoing: (): Record<string, string> => ({
    "x-echo-key": tracing.KEY,
    "x-echo-authorization": `Bearer ${tracing.KEY}`,
    "x-echo-token": tracing.TOKEN,
    "content-type": "application/json"
  }),
  answer: () =>
    JSON.stringify({
      data: {
        token: tracing.TOKEN,
        partner_user_id: "u1",
        expires: new Date(Date.now() + 86_400_000).toISOString()
      }
    }),
  /** The 201 and the 503 (retried), both echoing. */
  faults: <F>(Fault: Faults<F>): ReadonlyArray<F> => [
    Fault.status(201, { body: tracing.answer(), headers: tracing.echoing() }),
    Fault.status(503, { body: { error: "down" }, headers: tracing.echoing() })
  ]
}

export const userIds = {
  describe: "spans and log lines never hold a user id that sFOX's error text names (issue 20)",
  name: "a retried 503 whose text names the user, and a batch refused for a user it names",
  known: "u-known-7f3a",
  named: "u-named-2c9e",
  ghost: "u-ghost-5b1d",
  /** The single endpoint, then a batch: each 503 names the user, and is retried. */
  faults: <F>(Fault: Faults<F>): ReadonlyArray<F> => [
    Fault.status(503, { body: { error: `user ${userIds.named} is being migrated` } }),
    Fault.status(503, { body: { error: `user ${userIds.named} is being migrated` } })
  ]
}
