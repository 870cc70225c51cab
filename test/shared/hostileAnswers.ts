/**
 * The reliability suite's hostile part (test/Reliability.hostile.test.ts and
 * its Effect 4 twin): the answers a hostile or broken server may send, the
 * inputs a careless caller may pass, what each must come to, and the test
 * names. Each edition serves the answers with its own MockSfoxServer or
 * FakeSfox and runs its own service; the outcomes come back to these checks.
 */
import { Scrub } from "@sfox-effect/domain"
import * as Util from "node:util"
import type { Assert } from "./assert.js"

export const KEY = "sk-Zq81-7c2e9a41d0b3-XwVm"
export const TOKEN = "7a".repeat(32)

/** Every way a program could print a value, short of the edition's own `Cause.pretty`. */
export const plainRenderings = (value: unknown): Array<string> => [
  value instanceof Error ? value.message : "",
  String(value),
  JSON.stringify(value) ?? "",
  Util.inspect(value, { depth: 12 })
]

export const assertTextsClean = (
  assert: Assert,
  texts: ReadonlyArray<string>,
  secrets: ReadonlyArray<string>,
  where: string
) => {
  for (const text of texts) {
    for (const secret of secrets) assert.notInclude(text, secret, `${where} shows a secret`)
  }
}

const inADay = () => new Date(Date.now() + 86_400_000).toISOString()
export const deep = (levels: number) => `${"[".repeat(levels)}${"]".repeat(levels)}`

// ---------------------------------------------------------------------------
// answers that are not what sFOX documents

export interface AnswerCase {
  readonly name: string
  /** The body of the 201, for a single answer and for a batch answer (both for user u1). */
  readonly body: (shape: "single" | "batch") => string
  readonly description: RegExp
  /** Text that must not appear in the error (the bad token). */
  readonly hidden?: string
}

export const tokenAnswer = (fields: Record<string, unknown>) => (shape: "single" | "batch") => {
  const token = { token: TOKEN, partner_user_id: "u1", expires: inADay(), ...fields }
  return JSON.stringify({ data: shape === "single" ? token : [token] })
}

export const answerCases: ReadonlyArray<AnswerCase> = [
  {
    name: "3,000 levels of nested arrays as the data",
    body: () => `{"data":${deep(3_000)}}`,
    description: /unexpected value/
  },
  {
    name: "3,000 levels of nested arrays as the token",
    body: (shape) =>
      shape === "single"
        ? `{"data":{"token":${deep(3_000)},"partner_user_id":"u1","expires":"2030-01-01T00:00:00Z"}}`
        : `{"data":[{"token":${deep(3_000)},"partner_user_id":"u1","expires":"2030-01-01T00:00:00Z"}]}`,
    description: /token: unexpected value/
  },
  ...[
    ["CR/LF (a header injection)", `${TOKEN}\r\nX-Injected: 1`],
    ["an escape sequence (clears a terminal)", `\u001b[2J${TOKEN}`],
    ["a space", `${TOKEN} ${TOKEN}`],
    ["a non-ASCII letter", `${TOKEN}é`]
  ].map(([what, token]): AnswerCase => ({
    name: `a token with ${what}`,
    body: tokenAnswer({ token }),
    description: /token: unexpected value/,
    hidden: token!
  })),
  { name: "an empty token", body: tokenAnswer({ token: "" }), description: /token: unexpected value/ },
  {
    name: "a token of 5,000 characters",
    body: tokenAnswer({ token: "a".repeat(5_000) }),
    description: /token: unexpected value/,
    hidden: "a".repeat(50)
  },
  ...[
    ["\"May 5\"", "May 5"],
    ["\"1\"", "1"],
    ["a date without a time", "2030-01-01"],
    ["no time zone", "2030-01-01T00:00:00"],
    ["another time zone (+01:00)", "2030-01-01T00:00:00+01:00"],
    ["a day the month does not have", "2030-02-30T00:00:00Z"],
    ["hour 24", "2030-01-01T24:00:00Z"]
  ].map(([what, expires]): AnswerCase => ({
    name: `expires as ${what}`,
    body: tokenAnswer({ expires }),
    description: /expires: unexpected value/
  })),
  {
    name: "expires an hour before the answer",
    body: tokenAnswer({ expires: new Date(Date.now() - 3_600_000).toISOString() }),
    description: /already expired/
  }
]

export const answerCaseName = (c: AnswerCase) =>
  `${c.name} → MalformedResponse through create, createMany and get (cache on)`

/** The secrets an answer case's error must not show. */
export const hiddenOf = (c: AnswerCase): ReadonlyArray<string> => [KEY, ...(c.hidden === undefined ? [] : [c.hidden])]

export const overSocket = "hostile answers over a real socket: MalformedResponse, 1 attempt, never a defect"
export const fromFake = "hostile answers from FakeSfox: the same outcomes in memory"

/** Answers that look odd and are right: each must give its token. */
export const controlAnswers = {
  name: "control: expires with +00:00, with six fraction digits, and a token of every b64token character",
  cases: (at: Date) => [
    { token: TOKEN, expires: at.toISOString().replace(/\.\d{3}Z$/, "+00:00") },
    { token: TOKEN, expires: at.toISOString().replace(/Z$/, "123Z") },
    { token: "AZaz09-._~+/==", expires: at.toISOString().replace(/\.\d{3}Z$/, "Z") }
  ]
}

// ---------------------------------------------------------------------------
// answers of any size

export const sizes = {
  describe: "answers of any size cost what an error keeps (FetchHttpClient: no size limit)",
  huge201: "a 10 MiB non-JSON 201 → TransportError TooLarge, read no further than the bound, 1 attempt",
  within: "a 60 KiB non-JSON 201 (within the bound) → MalformedResponse \"not JSON\", a short excerpt",
  huge502: "a 10 MiB non-JSON 502 → HttpFailure 502 with a short excerpt, retried as a 5xx",
  scrubber: "the scrubber looks at a bounded part of the text, and never leaves a part of the key at its cut",
  maxDescription: 220
}

/** A body of 10 MiB (and more) that is not JSON: one unbroken run, the worst case for the old scrubber. */
export const huge = "x".repeat(10 * 1024 * 1024 + 17)
/** 60 KiB of text, then the key: within the bound. */
export const withinBound = `${"x".repeat(60 * 1024)}${KEY}`
/** A 10 MiB proxy error page that ends with the key. */
export const hugePage = () => `<html>${"<p>Bad Gateway</p>\n".repeat(600_000)}${KEY}</html>`

/** The scrubber alone (the domain's, the same in every edition). */
export const checkScrubber = (assert: Assert) => {
  const { maxExcerpt, maxScanned, scrub } = Scrub
  // The key straddles the scan window's edge, after a run of whitespace that collapses to one space.
  for (let shift = 0; shift < KEY.length; shift++) {
    const text = `${" ".repeat(maxScanned + KEY.length - shift)}${KEY}`
    const out = scrub(text, [KEY])
    for (let n = 6; n <= KEY.length; n++) assert.notInclude(out, KEY.slice(0, n), `shift ${shift}`)
  }
  // The same for a 64-hex token the scrubber does not know of.
  for (let shift = 1; shift < 64; shift++) {
    const text = `${"\n".repeat(maxScanned - shift)}${TOKEN}`
    assert.notInclude(scrub(text, [KEY]), TOKEN.slice(0, 8), `shift ${shift}`)
  }
  assert.isAtMost(scrub(huge, [KEY]).length, maxExcerpt + 1)
}

// ---------------------------------------------------------------------------
// Retry-After

export const retryAfter = {
  describe: "Retry-After: delay-seconds and HTTP dates only; anything else is no hint",
  /** Values that are no hint. */
  nonsense: ["-5", "1.5", "+5", "1, 2", "5 seconds", "0x10", "Thu, 01 Jan 1970 00:00:03 +0000", "yesterday"],
  lockoutName: (value: string) =>
    `429 with Retry-After: ${JSON.stringify(value)} → RateLimited (the 60 s lockout) at once, 1 attempt`,
  noHintName: (value: string) =>
    `503 with Retry-After: ${JSON.stringify(value)} → no hint: the policy's own 100 ms delay`,
  lockoutSeconds: 60,
  /** Hints in each form the standard allows, all 3 s (the clock starts at 0). */
  forms: [
    ["IMF-fixdate", "Thu, 01 Jan 1970 00:00:03 GMT"],
    ["RFC 850", "Thursday, 01-Jan-70 00:00:03 GMT"],
    ["asctime", "Thu Jan  1 00:00:03 1970"],
    ["delay-seconds", "3"]
  ] as ReadonlyArray<readonly [form: string, value: string]>,
  formName: (form: string) => `control: 503 with Retry-After as ${form} → the second attempt exactly 3 s later`,
  hinted: [0, 3_000]
}

// ---------------------------------------------------------------------------
// headers, redirects, endless bodies

export const bigHeader = {
  describe: "a response header over undici's limit → TransportError TooLarge, not retried",
  name: (client: string) => `a 100 KB header (${client}) → TooLarge after 1 attempt`,
  headers: { "x-padding": "p".repeat(100_000) }
}

export const redirects = {
  describe: "redirects: the key is never sent to another origin",
  statuses: [301, 307, 308],
  name: (client: string, status: number) =>
    `${client}: ${status} to another loopback port → HttpFailure ${status}, the other port never sees the key`
}

export const elsewhereByTransform = {
  describe: "a transformClient that points the request elsewhere cannot take the key there",
  name: "transformClient rewriting the URL to another loopback port → TransportError Request, nothing sent",
  /** A port nothing of ours listens on: the service's own baseUrl. */
  baseUrl: "http://127.0.0.1:9"
}

export const endlessBodies = {
  describe: "an endless body is not read to its end (there is none)",
  statuses: [201, 502],
  name: (client: string, status: number) =>
    `${client}: an endless ${status} → ${
      status === 201 ? "TransportError TooLarge" : "HttpFailure 502"
    }, the connection dropped`
}

// ---------------------------------------------------------------------------
// createMany's input

export const input = {
  describe: "createMany reads its input inside the effect, bounded, without holding the event loop",
  throwing: "an iterator that throws → InvalidUserId when the effect runs, never a throw at call time",
  endless: "an endless iterable → InvalidUserId at maxIdsPerCall, no request",
  defaultCap: "the default cap is 100,000 ids per call",
  boxed: "new String(\"u1\") → InvalidUserId, no request (not the ids \"u\" and \"1\")",
  million: "1,000,000 ids: the event loop turns many times while they are checked"
}

/** Ids u1, u2, then a throw (with the key in its message); `reads` counts the calls to `next`. */
export const throwingIds = () => {
  const state = { reads: 0 }
  const ids: Iterable<string> = {
    [Symbol.iterator]: () => ({
      next: () => {
        if (++state.reads > 2) throw new Error(`boom ${KEY}`)
        return { done: false, value: `u${state.reads}` }
      }
    })
  }
  return { ids, state }
}

/** An iterable whose iterator cannot even be made. */
export const throwingAtOnce: Iterable<string> = {
  [Symbol.iterator]: () => {
    throw new Error("no")
  }
}

/** Ids without end; `reads` counts them. */
export const endlessIds = () => {
  const state = { reads: 0 }
  function* ids() {
    for (;;) yield `u${state.reads++}`
  }
  return { ids: ids(), state }
}

/** 1,000,000 ids, the last one invalid: the call checks all of them, then fails, sending nothing. */
export const millionIds = () => {
  const ids = Array.from({ length: 1_000_000 }, (_, i) => `user-${i}`)
  ids[999_999] = "bad\nid"
  return ids
}

/** Counts the event loop's turns: a chain of setImmediate callbacks, each run only when the loop gets a turn. */
export const loopTurns = () => {
  let turns = 0
  let running = true
  const tick = () => {
    if (!running) return
    turns++
    setImmediate(tick)
  }
  setImmediate(tick)
  return {
    stop: () => {
      running = false
      return turns
    }
  }
}

// ---------------------------------------------------------------------------
// options

/**
 * Stands for an infinite Duration (each edition has its own): it prints as
 * Effect 3's `Duration.infinity` does, which the test names show.
 */
export class InfiniteDuration {
  [Util.inspect.custom]() {
    return { _id: "Duration", _tag: "Infinity" }
  }
}
const infinity = new InfiniteDuration()

/** `options` with every `InfiniteDuration` replaced by `to` (nested records too). */
export const withInfinity = (options: Record<string, unknown>, to: unknown): Record<string, unknown> =>
  Object.fromEntries(
    Object.entries(options).map(([key, value]) => [
      key,
      value instanceof InfiniteDuration
        ? to
        : typeof value === "object" && value !== null && Object.getPrototypeOf(value) === Object.prototype
        ? withInfinity(value as Record<string, unknown>, to)
        : value
    ])
  )

export const options = {
  describe: "every option is checked: a wrong shape or an out-of-range value is a ConfigError naming it",
  name: (option: string, options: Record<string, unknown>) => `${Util.inspect(options)} → ConfigError naming ${option}`,
  refused: [
    ["rateLimit", { rateLimit: {} }],
    ["rateLimit", { rateLimit: { interval: "1 second" } }],
    ["rateLimit", { rateLimit: { limit: 5 } }],
    ["rateLimit", { rateLimit: true }],
    ["rateLimit", { rateLimit: "250/10s" }],
    ["rateLimit.limit", { rateLimit: { limit: Infinity, interval: "1 second" } }],
    ["rateLimit.interval", { rateLimit: { limit: 5, interval: infinity } }],
    ["batchWindow", { batchWindow: Infinity }],
    ["batchWindow", { batchWindow: "1 hour" }],
    ["batchWindow", { batchWindow: "soon" }],
    ["timeout", { timeout: infinity }],
    ["timeout", { timeout: "1 hour" }],
    ["deadline", { deadline: "2 hours" }],
    ["maxRetryAfter", { maxRetryAfter: infinity }],
    ["maxBatchSize", { maxBatchSize: 1_000_000 }],
    ["maxBatchSize", { maxBatchSize: "100" }],
    ["batchConcurrency", { batchConcurrency: Infinity }],
    ["maxIdsPerCall", { maxIdsPerCall: 0 }],
    ["maxIdsPerCall", { maxIdsPerCall: 1e9 }],
    ["cache", { cache: "yes" }],
    ["cache.capacity", { cache: { capacity: -1 } }],
    ["cache.refreshBefore", { cache: { refreshBefore: "24 hours" } }],
    ["retry", { retry: 3 }],
    ["transformClient", { transformClient: "yes" }],
    ["baseUrl", { baseUrl: 42 }]
  ] as ReadonlyArray<readonly [option: string, options: Record<string, unknown>]>,
  control: "control: the documented bounds themselves are accepted",
  /** The documented bounds themselves. */
  bounds: {
    timeout: "10 minutes",
    deadline: "1 hour",
    maxRetryAfter: "1 hour",
    maxBatchSize: 100_000,
    batchConcurrency: 1024,
    maxIdsPerCall: 10_000_000,
    rateLimit: { limit: 1_000_000, interval: "1 hour" },
    batchWindow: "1 second",
    cache: { capacity: 10_000_000, refreshBefore: "23 hours" }
  } as const
}

// ---------------------------------------------------------------------------
// partial secrets in InvalidUserId

export const partialSecrets = {
  describe: "a refused id is shown only when it cannot hold a secret",
  name: "the key split by a NUL, a tab, a newline: no 6 characters of it in any view of the error",
  /** The key cut in two at each `cut` by each `sep`. */
  ids: () =>
    [4, 10, 20, 24].flatMap((cut) =>
      ["\u0000", "\t", "\n", "\u2028"].map((sep) => ({
        where: `cut at ${cut}`,
        id: `${KEY.slice(0, cut)}${sep}${KEY.slice(cut)}`
      }))
    ),
  /** Every 6 characters of the key. */
  parts: Array.from({ length: KEY.length - 5 }, (_, i) => KEY.slice(i, i + 6)),
  fingerprinted: /^\(\d+ characters, fingerprint [0-9a-f]{8}\)$/,
  /** A short id is shown, every character outside printable ASCII escaped. */
  short: { id: "a\u0000\u202e", preview: "\"a\\u0000\\u202e\"" }
}

// ---------------------------------------------------------------------------
// property: any answer body (each edition draws the bodies with its fast-check)

export const anyBody = {
  describe: "property: whatever a 2xx or an error body holds, a token or a typed failure, and no secret shown",
  name: "create and createMany over FakeSfox, 300 bodies each under 201 and 4xx/5xx statuses",
  numRuns: 300,
  statuses: [201, 200, 400, 404, 429, 500, 503],
  hex64: /^[0-9a-f]{64}$/,
  maxBody: 65_536,
  /** Text, then `n` x's, then the key, cut to 64 KB. */
  padded: (text: string, n: number) => `${text}${"x".repeat(n)}${KEY}`.slice(0, 65_536),
  /** A token nested `n` objects deep. */
  nestedToken: (n: number) => `{"data":{"token":${"{\"a\":".repeat(n)}1${"}".repeat(n)}}}`,
  /** An error body that echoes the key and a token. */
  echoing: (text: string, field: string) => JSON.stringify({ [field]: `${text} ${KEY} ${TOKEN}` })
}

/** Secrets a body may hold: the key, 64-hex runs, and any token-shaped value of a `token` field. */
export const secretsOf = (text: string): Array<string> => {
  const found = [KEY, ...(text.match(/[0-9a-f]{64}/g) ?? [])]
  try {
    const json = JSON.parse(text) as { data?: unknown }
    const data = Array.isArray(json.data) ? json.data : [json.data]
    for (const item of data) {
      const token = (item as { token?: unknown } | null)?.token
      if (typeof token === "string" && token.length >= 16) found.push(token)
    }
  } catch {
    // not JSON
  }
  return found
}
