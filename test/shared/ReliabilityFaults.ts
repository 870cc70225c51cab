/**
 * The fault table of docs/reliability.md, shared by both editions'
 * Reliability suites (test/Reliability.test.ts, test-effect4/Reliability.test.ts):
 * each fault sFOX or the network can throw at a call, as the simulator's
 * `Fault` data (plain objects, the same in both editions), the typed outcome
 * it must end in, the attempts the server must see, and the one warning it
 * may log. And the base URLs the service must refuse before it sends
 * anything. Plain data: no Effect.
 */

type Millis = `${number} millis`

/** A simulator fault, as both editions' `Fault` constructors build it. */
export type FaultData =
  | {
    readonly _tag: "Status"
    readonly status: number
    readonly body?: string | object | undefined
    readonly headers?: Readonly<Record<string, string>> | undefined
  }
  | { readonly _tag: "Malformed"; readonly body: string; readonly status?: number | undefined }
  | { readonly _tag: "Batch"; readonly mode: "drop" | "add" | "duplicate" | "reorder" | "mislabel" }
  | { readonly _tag: "Oversize"; readonly bytes: number }
  | { readonly _tag: "ResetBeforeHeaders" }
  | { readonly _tag: "ResetAfterHeaders" }
  | { readonly _tag: "NoAnswer" }
  | { readonly _tag: "Trickle"; readonly interval: Millis; readonly chunkSize?: number | undefined }
  | { readonly _tag: "ShortBody" }

export type Call = "create" | "createMany" | "get"

export interface Expected {
  readonly _tag: "TransportError" | "MalformedResponse" | "HttpFailure" | "RateLimited"
  readonly reason?: string
  readonly status?: number
  readonly description?: RegExp
}

export interface FaultCase {
  /** The fault, as docs/reliability.md's table names it. */
  readonly name: string
  readonly faults: ReadonlyArray<FaultData>
  readonly call?: Call
  readonly service?: { readonly timeout?: Millis }
  readonly http?: { readonly maxResponseBytes?: number }
  readonly expected: Expected
  readonly attempts: number
  /** The one warning the call logs, if it warns. */
  readonly warns?: RegExp
}

const thrice = (fault: FaultData): ReadonlyArray<FaultData> => [fault, fault, fault]

const status = (
  code: number,
  options: { readonly body?: string | object; readonly headers?: Readonly<Record<string, string>> } = {}
): FaultData => ({ _tag: "Status", status: code, body: options.body, headers: options.headers })

const html502 =
  "<!DOCTYPE html>\n<html><head><title>502 Bad Gateway</title></head>\n<body><h1>502 Bad Gateway</h1></body></html>"

/**
 * `fastRetry` (3 attempts, 20 ms apart) and an attempt timeout of 2 s (300 ms
 * where the fault is a slow answer) unless a case says otherwise: a transient
 * fault is enqueued three times so that every attempt meets it.
 */
export const faultCases: ReadonlyArray<FaultCase> = [
  {
    name: "reset before headers",
    faults: thrice({ _tag: "ResetBeforeHeaders" }),
    expected: { _tag: "TransportError", reason: "Reset" },
    attempts: 3
  },
  {
    name: "reset mid-body",
    faults: thrice({ _tag: "ResetAfterHeaders" }),
    expected: { _tag: "TransportError", reason: "Reset", description: /cut short/ },
    attempts: 3
  },
  {
    name: "no answer",
    faults: thrice({ _tag: "NoAnswer" }),
    service: { timeout: "300 millis" },
    expected: { _tag: "TransportError", reason: "Timeout", description: /an attempt took longer than 300 ms/ },
    attempts: 3
  },
  {
    name: "trickled body (16 bytes every 100 ms)",
    faults: thrice({ _tag: "Trickle", interval: "100 millis", chunkSize: 16 }),
    service: { timeout: "300 millis" },
    expected: { _tag: "TransportError", reason: "Timeout", description: /an attempt took longer than 300 ms/ },
    attempts: 3
  },
  {
    name: "body short of Content-Length",
    faults: thrice({ _tag: "ShortBody" }),
    expected: { _tag: "TransportError", reason: "Reset" },
    attempts: 3
  },
  {
    name: "malformed JSON",
    faults: [{ _tag: "Malformed", body: "{\"data\": {\"token\": ", status: 201 }],
    expected: { _tag: "MalformedResponse", status: 201, description: /not JSON/ },
    attempts: 1
  },
  {
    name: "non-JSON error page (HTML 502)",
    faults: thrice(status(502, { body: html502, headers: { "content-type": "text/html" } })),
    expected: { _tag: "HttpFailure", status: 502, description: /502 Bad Gateway/ },
    attempts: 3
  },
  {
    name: "2xx whose body is an error",
    faults: [{ _tag: "Malformed", body: JSON.stringify({ error: "user is suspended" }), status: 200 }],
    expected: {
      _tag: "MalformedResponse",
      status: 200,
      description: /^success status with an error body: user is suspended$/
    },
    attempts: 1
  },
  {
    name: "body over the size limit (64 KiB, limit 16 KiB)",
    faults: [{ _tag: "Oversize", bytes: 64 * 1024 }],
    http: { maxResponseBytes: 16 * 1024 },
    expected: { _tag: "TransportError", reason: "TooLarge" },
    attempts: 1
  },
  {
    name: "503 three times",
    faults: thrice(status(503)),
    expected: { _tag: "HttpFailure", status: 503 },
    attempts: 3
  },
  {
    name: "429 without Retry-After (sFOX's 60 s lockout > maxRetryAfter)",
    faults: [status(429)],
    expected: { _tag: "RateLimited" },
    attempts: 1,
    warns: /^sFOX locked this client out \(429 with no Retry-After: its documented 1m lockout\); not retried$/
  },
  {
    name: "429 with Retry-After: 120 (> maxRetryAfter)",
    faults: [status(429, { headers: { "retry-after": "120" } })],
    expected: { _tag: "RateLimited" },
    attempts: 1,
    warns: /^sFOX answered 429 asking for 2m, beyond what the call may wait; not retried$/
  },
  ...(["createMany", "get"] as const).flatMap((call) =>
    ([
      ["drop", /misses 1 of 3/],
      ["add", /not requested/],
      ["duplicate", /two tokens for one user/],
      ["mislabel", /not requested/]
    ] as const).map(([mode, description]): FaultCase => ({
      name: `batch answer: ${mode} (through ${call})`,
      faults: [{ _tag: "Batch", mode }],
      call,
      expected: { _tag: "MalformedResponse", status: 201, description },
      attempts: 1
    }))
  ),
  {
    name: "a token under another user's id (single)",
    faults: [{
      _tag: "Malformed",
      body: JSON.stringify({
        data: { token: "ab".repeat(32), partner_user_id: "someone-else", expires: "2030-01-01T00:00:00Z" }
      }),
      status: 201
    }],
    expected: { _tag: "MalformedResponse", status: 201, description: /different user/ },
    attempts: 1
  }
]

/** A case's test name: the fault, its typed outcome, and the attempts. */
export const faultCaseName = (c: FaultCase) => {
  const { _tag, reason, status } = c.expected
  const outcome = `${_tag}${reason === undefined ? "" : ` ${reason}`}${status === undefined ? "" : ` ${status}`}`
  return `${c.name} → ${outcome} after ${c.attempts} attempt${c.attempts === 1 ? "" : "s"}`
}

/**
 * Base URLs the service must refuse with a ConfigError naming `baseUrl`,
 * before any request leaves: each a name and the URL given a live server's
 * port. `key` is the test's API key (a URL may carry it as a user name).
 */
export const refusedBaseUrls = (key: string): ReadonlyArray<readonly [string, (port: number) => string]> => [
  ["http on a non-loopback host (0.0.0.0, which reaches this machine)", (port) => `http://0.0.0.0:${port}`],
  ["http on a non-loopback host (api.sfox.com)", () => "http://api.sfox.com"],
  ["http on a host that only starts like loopback (127.0.0.1.nip.io)", (port) => `http://127.0.0.1.nip.io:${port}`],
  ["http on localhost. (trailing dot)", (port) => `http://localhost.:${port}`],
  ["credentials (user:password@)", (port) => `http://user:password@127.0.0.1:${port}`],
  ["credentials (the key as user name, https)", () => `https://${key}@api.sfox.com`],
  ["a query (?x=1)", (port) => `http://127.0.0.1:${port}/?x=1`],
  ["an empty query (?)", (port) => `http://127.0.0.1:${port}?`],
  ["a fragment (#f)", (port) => `http://127.0.0.1:${port}/#f`],
  ["an empty fragment (#)", (port) => `http://127.0.0.1:${port}#`],
  ["another scheme (ftp:)", (port) => `ftp://127.0.0.1:${port}`],
  ["not a URL", () => "api.sfox.com"]
]

/** The base URLs that must be accepted and reach the server. */
export const acceptedBaseUrls: ReadonlyArray<(port: number) => string> = [
  (port) => `http://127.0.0.1:${port}`,
  (port) => `http://localhost:${port}/`
]
