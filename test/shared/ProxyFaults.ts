/**
 * The proxy-fault table, shared by both editions' NodeSfox.proxyFaults suites
 * (test/NodeSfox.proxyFaults.test.ts, test-effect4/NodeSfox.proxyFaults.test.ts):
 * a proxy (or a server) that fails the connection in each way, the route the
 * call takes to it, and the typed failure and connection count it must end
 * in. Plain data: no Effect.
 */

/** The metronome's connections after a failed call: a client that redials would be seen doing it meanwhile. */
export const ROUND_TRIPS = 50

export type Behaviour =
  | { readonly _tag: "Drop" }
  | { readonly _tag: "Silent" }
  | { readonly _tag: "Answer"; readonly status: number }

export interface Case {
  readonly name: string
  /** What the call is sent through, given the faulty server (absent when the proxy is a closed port). */
  readonly route: "proxy option" | "HTTPS_PROXY" | "direct"
  readonly target: "http" | "https"
  /** The faulty server's behaviour; absent: nobody listens on the proxy's port. */
  readonly behaviour?: Behaviour
  /** The `TransportError` reasons the call may fail with. */
  readonly reasons: ReadonlyArray<"Connect" | "Tls" | "Reset" | "Timeout" | "TooLarge" | "Request" | "Other">
  /** Connections the faulty server accepts for the whole call (three attempts under `fastRetry`). */
  readonly accepts?: number
  /** The client's options (beyond `proxy`). */
  readonly options?: { readonly connectTimeout?: `${number} millis` }
  /** The attempt's. */
  readonly timeout?: `${number} seconds`
}

export const cases: ReadonlyArray<Case> = [
  {
    name: "HTTPS_PROXY dropping every connection, https: target: Connect, one tunnel per attempt, then nothing",
    route: "HTTPS_PROXY",
    target: "https",
    behaviour: { _tag: "Drop" },
    reasons: ["Connect"],
    accepts: 3
  },
  {
    name: "`proxy` option dropping every connection, https: target: Connect, one tunnel per attempt, then nothing",
    route: "proxy option",
    target: "https",
    behaviour: { _tag: "Drop" },
    reasons: ["Connect"],
    accepts: 3
  },
  {
    name: "a proxy that never answers CONNECT: Connect at connectTimeout, then nothing",
    route: "proxy option",
    target: "https",
    behaviour: { _tag: "Silent" },
    reasons: ["Connect"],
    accepts: 3,
    // undici's header timer ticks every half second or so: the attempt has more than that.
    options: { connectTimeout: "50 millis" },
    timeout: "10 seconds"
  },
  {
    name:
      "a proxy dropping every connection, http: target (forwarded): Reset, one connection per attempt, then nothing",
    route: "proxy option",
    target: "http",
    behaviour: { _tag: "Drop" },
    reasons: ["Reset"],
    accepts: 3
  },
  {
    name: "a proxy nobody listens on (ECONNREFUSED), https: target: Connect, then nothing",
    route: "proxy option",
    target: "https",
    reasons: ["Connect"]
  },
  ...[403, 407, 502].map((status): Case => ({
    name: `a proxy answering CONNECT with ${status}: a typed failure, then nothing`,
    route: "proxy option",
    target: "https",
    behaviour: { _tag: "Answer", status },
    reasons: ["Connect", "Reset"],
    accepts: 3
  })),
  {
    name: "no proxy, a server dropping every connection, http: target: Reset, one connection per attempt, then nothing",
    route: "direct",
    target: "http",
    behaviour: { _tag: "Drop" },
    reasons: ["Reset"],
    accepts: 3
  },
  {
    name: "no proxy, a server dropping every connection, https: target: Connect or Reset, then nothing",
    route: "direct",
    target: "https",
    behaviour: { _tag: "Drop" },
    reasons: ["Connect", "Reset"],
    accepts: 3
  }
]
