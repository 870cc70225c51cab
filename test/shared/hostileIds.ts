/**
 * Hostile user ids (test/HostileIds.test.ts and its Effect 4 twin): the ids,
 * what each must come to, and the checks of what the server saw. Each
 * edition probes `create`, `createMany` and `get` over a real socket with
 * its own service and hands the outcomes to these checks.
 */
import type { Assert } from "./assert.js"
import type { Method, Outcome, Recorded } from "./faults.js"

export const KEY = "sk-hostile-ids-81f2a6c0d3"
export const prefix = "/v1/enterprise/user-tokens"

/** One id sent through one method: what came back, and every request the server took in. */
export interface Probe {
  readonly method: Method
  readonly outcome: Outcome
  readonly requests: ReadonlyArray<Recorded>
}

export const assertRefused = (assert: Assert, probes: ReadonlyArray<Probe>, label: string) => {
  for (const { method, outcome, requests } of probes) {
    assert.isTrue(!outcome.ok, `${method}(${label}) should be refused`)
    if (!outcome.ok) assert.strictEqual(outcome.error._tag, "InvalidUserId", `${method}(${label})`)
    assert.strictEqual(requests.length, 0, `${method}(${label}) sent a request`)
  }
}

/** The id arrived whole: one segment (or one batch entry) decoding back to it, and its token is its own. */
export const assertSentWhole = (assert: Assert, probes: ReadonlyArray<Probe>, id: string, label: string) => {
  for (const { method, outcome, requests } of probes) {
    assert.isTrue(outcome.ok, `${method}(${label}) failed: ${outcome.ok ? "" : outcome.error}`)
    if (outcome.ok) assert.strictEqual(outcome.userId, id, `${method}(${label}) token's user`)
    assert.strictEqual(requests.length, 1, `${method}(${label}) requests`)
    const request = requests[0]!
    assert.strictEqual(request.status, 201, `${method}(${label}) status`)
    assert.deepStrictEqual(request.userIds, [id], `${method}(${label}) ids the server read`)
    assert.isUndefined(request.headers["x-injected"], "a header was injected")
    if (method === "create") {
      assert.isTrue(request.path.startsWith(`${prefix}/`), request.path)
      const segment = request.path.slice(prefix.length + 1)
      assert.notInclude(segment, "/", `${label} became more than one path segment: ${request.path}`)
      assert.isAbove(segment.length, 0)
      assert.strictEqual(decodeURIComponent(segment), id, `${label}'s segment does not decode back to it`)
    } else {
      assert.strictEqual(request.path, prefix)
      assert.deepStrictEqual((JSON.parse(request.body) as { data: unknown }).data, [id])
    }
  }
}

export type Expectation = "refused" | "sent"

export interface StringCase {
  readonly name: string
  readonly label: string
  readonly id: string
  readonly expected: Expectation
}

const strings: ReadonlyArray<readonly [label: string, id: string, expected: Expectation]> = [
  ["\"\" (empty)", "", "refused"],
  ["\" \" (a space)", " ", "refused"],
  ["\".\"", ".", "refused"],
  ["\"..\"", "..", "refused"],
  ["\"%2e%2e\"", "%2e%2e", "sent"],
  ["\"a/b\"", "a/b", "sent"],
  ["\"a?b\"", "a?b", "sent"],
  ["\"a#b\"", "a#b", "sent"],
  ["\"a\\r\\nX-Injected: 1\"", "a\r\nX-Injected: 1", "refused"],
  ["\"\\u0000\"", "\u0000", "refused"],
  ["10,000 characters", "x".repeat(10_000), "refused"],
  ["emoji \"🦊🔑\"", "🦊🔑", "sent"],
  ["emoji ZWJ sequence \"👩‍👩‍👧\"", "👩‍👩‍👧", "sent"],
  ["\"...\" (not a dot segment)", "...", "sent"],
  ["\"./..\"", "./..", "sent"],
  ["\"/\"", "/", "sent"],
  ["\"%\" and \"%zz\" (no valid escape)", "%zz%", "sent"],
  ["\"a b\" (inner space)", "a b", "sent"],
  ["\"a+b&c=d;e\"", "a+b&c=d;e", "sent"],
  ["\"a\\\\b\" (backslash)", "a\\b", "sent"],
  ["\" a\" (leading space)", " a", "refused"],
  ["\"a\\u00a0\" (trailing no-break space)", "a\u00a0", "refused"],
  ["\"a\\tb\" (tab)", "a\tb", "refused"],
  ["\"a\\u2028b\" (line separator)", "a\u2028b", "refused"],
  ["\"\\ud800\" (lone surrogate)", "\ud800", "refused"],
  ["256 characters (the limit)", "u".repeat(256), "sent"],
  ["257 characters", "u".repeat(257), "refused"],
  // Invisible ids (issue 10): nothing a person could read or tell apart.
  ["\"\\u200b\" (zero-width space only)", "\u200b", "refused"],
  ["\"\\u202e\" (right-to-left override only)", "\u202e", "refused"],
  ["\"\\u{e0001}\" (language tag only)", "\u{e0001}", "refused"],
  ["\"\\u200b\\u2060\\ufeff\\u200d\" (zero-width characters only)", "\u200b\u2060\ufeff\u200d", "refused"],
  ["\"\\u3164\" (Hangul filler only)", "\u3164", "refused"],
  ["\"\\u2066\\u2069\" (bidi isolates only)", "\u2066\u2069", "refused"],
  ["\"a\\u200bb\" (visible, with a zero-width space inside)", "a\u200bb", "sent"]
]

export const hostileStrings: ReadonlyArray<StringCase> = strings.map(([label, id, expected]) => ({
  name: `${label} → ${expected === "refused" ? "InvalidUserId, no request" : "one segment, decodes back"}`,
  label,
  id,
  expected
}))

/** Runs the check a string case calls for. */
export const assertStringCase = (assert: Assert, probes: ReadonlyArray<Probe>, c: StringCase) =>
  c.expected === "refused" ? assertRefused(assert, probes, c.label) : assertSentWhole(assert, probes, c.id, c.label)

export const longId = {
  name: "the 10,000-character id is described by a short preview, not echoed whole",
  id: "x".repeat(10_000),
  /** Checks the first probe (create's). */
  check: (assert: Assert, probes: ReadonlyArray<Probe>) => {
    const { outcome } = probes[0]!
    assert.isTrue(!outcome.ok)
    if (!outcome.ok) assert.isBelow(outcome.error.message.length, 200)
  }
}

export interface NonStringCase {
  readonly name: string
  readonly label: string
  readonly value: unknown
}

const values: ReadonlyArray<readonly [label: string, value: unknown]> = [
  ["42", 42],
  ["NaN", Number.NaN],
  ["null", null],
  ["undefined", undefined],
  ["true", true],
  ["10n", 10n],
  ["Symbol(\"u1\")", Symbol("u1")],
  ["{}", {}],
  ["{ toString: () => \"u1\" }", { toString: () => "u1" }],
  ["new String(\"u1\")", new String("u1")],
  ["[]", []],
  ["[\"u1\"]", ["u1"]],
  ["() => \"u1\"", () => "u1"]
]

export const nonStrings: ReadonlyArray<NonStringCase> = values.map(([label, value]) => ({
  name: `${label} → InvalidUserId, no request`,
  label,
  value
}))

export const notIterable = {
  name:
    "createMany given no iterable of ids (a string, a number, null, undefined, {}, an array-like) → InvalidUserId, no request",
  inputs: ["abc", 42, null, undefined, {}, { length: 1, 0: "u1" }] as ReadonlyArray<unknown>
}

export const badAmongGood = {
  name: "createMany with one bad id among good ones → InvalidUserId naming its index, no request",
  cases: [[["ok", ".."], 1], [["ok", "fine", 42], 2], [[null, "ok"], 0]] as ReadonlyArray<
    readonly [ids: ReadonlyArray<unknown>, index: number]
  >
}

export const badGetAlone = {
  name: "get with a bad id joins no batch: a good id waiting at the same time gets its token alone",
  bad: null as unknown,
  good: "ok",
  /** The batches the server took in: the good id's alone. */
  batches: [["ok"]]
}

// ---------------------------------------------------------------------------
// properties: each edition draws the ids with fast-check (its own copy)

export const properties = {
  describe: "properties (fast-check, 200 runs each, real socket)",
  numRuns: 200,
  anyString:
    "any string (binary, unicode graphemes, ASCII, around the length limit): refused with nothing sent, or one segment that decodes back",
  dangerous:
    "strings built from / ? # % . \\r \\n \\u0000 space: refused with nothing sent, or one segment that decodes back",
  sfoxShaped: "ids shaped like sFOX's (uuid, client_…): always sent whole"
}

/** The characters that may split a path or a header, and a few that may make an escape. */
export const dangerousUnits = ["/", "?", "#", "%", ".", "\r", "\n", "\u0000", " ", "2", "e", "a", "\\", "&"] as const

/** Ids of sFOX's own shape (besides uuids and `client_<uuid>`). */
export const sfoxShaped = /^[A-Za-z0-9_-]{1,64}$/

/**
 * What any string must come to, through all three methods alike. Two claims
 * pin the rule down from both sides: what may split a header or a path is
 * refused, and ids of sFOX's own shape always go through.
 */
export const holds = (assert: Assert, probes: ReadonlyArray<Probe>, id: string) => {
  const refused = probes.map((p) => !p.outcome.ok)
  assert.isTrue(refused.every((r) => r === refused[0]), `the three methods disagree on ${JSON.stringify(id)}`)
  if (refused[0]) assertRefused(assert, probes, JSON.stringify(id))
  else assertSentWhole(assert, probes, id, JSON.stringify(id))
  if (/[\r\n]/.test(id) || id.includes("\u0000") || id === "" || id === "." || id === "..") {
    assert.isTrue(refused[0], `${JSON.stringify(id)} must be refused`)
  }
  if (/^[A-Za-z0-9_-]{1,256}$/.test(id)) assert.isFalse(refused[0], `${JSON.stringify(id)} must be sent`)
}
