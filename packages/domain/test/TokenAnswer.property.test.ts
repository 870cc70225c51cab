import { MalformedAnswer, Scrub, type Status, TokenAnswer, Wire } from "@sfox-effect/domain"
import * as fc from "fast-check"
import { assert, describe, it } from "vitest"

interface Token {
  readonly token: string
  readonly userId: string
  readonly expiresAtMillis: number
}

const make = (token: string, userId: string, expiresAtMillis: number): Token => ({ token, userId, expiresAtMillis })
const NOW = Date.parse("2025-01-01T00:00:00Z")
const LATER = "2025-01-02T00:00:00Z"
const TOKEN = "a".repeat(64)

const answer = (body: string, headers: Record<string, string> = {}): Status.Answer => ({
  status: 201,
  headers,
  body,
  receivedAt: NOW
})

// A stand-in for a shell's schema: what the fast reader refuses, it refuses too, saying so.
const noSchema = () => "data: unexpected value"

const single = (body: string, userId = "u1", headers: Record<string, string> = {}) =>
  TokenAnswer.single(answer(body, headers), userId, Scrub.none, make, noSchema)
const batch = (body: string, userIds: ReadonlyArray<string>) =>
  TokenAnswer.batch(answer(body), userIds, Scrub.none, make, noSchema)

const description = (decoded: unknown): string => {
  assert.instanceOf(decoded, TokenAnswer.Malformed)
  return (decoded as TokenAnswer.Malformed).fields.description
}

describe("TokenAnswer", () => {
  it("reads a single token for the user asked for", () => {
    const decoded = single(JSON.stringify({ data: { token: TOKEN, partner_user_id: "u1", expires: LATER } }))
    assert.deepStrictEqual(decoded, { token: TOKEN, userId: "u1", expiresAtMillis: Date.parse(LATER) })
  })

  it("refuses, and says why: not JSON, an error body, another user, expired, the schema's issues", () => {
    assert.strictEqual(description(single("")), "empty body")
    assert.strictEqual(description(single("<html>")), "not JSON: <html>")
    assert.strictEqual(
      description(single(JSON.stringify({ error: "user not found" }))),
      "success status with an error body: user not found"
    )
    assert.strictEqual(
      description(single(JSON.stringify({ data: { token: TOKEN, partner_user_id: "u2", expires: LATER } }))),
      "token issued for a different user than requested"
    )
    assert.strictEqual(
      description(single(JSON.stringify({ data: { token: TOKEN, partner_user_id: "u1", expires: "2000-01-01Z" } }))),
      "data: unexpected value"
    )
    assert.strictEqual(
      description(
        single(JSON.stringify({ data: { token: TOKEN, partner_user_id: "u1", expires: "2024-01-01T00:00:00Z" } }))
      ),
      Wire.expiredText
    )
  })

  it("a refusal names the answer's request id; a decoder that throws is a refusal, not a defect", () => {
    const refused = single("nope", "u1", { "x-request-id": "req-7" })
    assert.instanceOf(refused, TokenAnswer.Malformed)
    assert.deepStrictEqual((refused as TokenAnswer.Malformed).fields, {
      status: 201,
      description: "not JSON: nope",
      requestId: "req-7"
    })
    const thrown = TokenAnswer.single(answer("{}"), "u1", Scrub.none, make, () => {
      throw new Error(`secret ${TOKEN}`)
    })
    assert.deepStrictEqual((thrown as TokenAnswer.Malformed).fields, {
      status: 201,
      description: MalformedAnswer.undecodable
    })
  })

  it("a batch matches every token to its user; a missing, added or repeated user fails the whole answer", () => {
    fc.assert(fc.property(
      fc.uniqueArray(fc.stringMatching(/^[a-z0-9]{1,8}$/), { minLength: 1, maxLength: 20 }),
      fc.constantFrom("exact", "drop", "add", "repeat"),
      (userIds, how) => {
        const tokens = userIds.map((id) => ({ token: TOKEN, partner_user_id: id, expires: LATER }))
        const sent = how === "drop"
          ? tokens.slice(1)
          : how === "add"
          ? [...tokens, { token: TOKEN, partner_user_id: "stranger!", expires: LATER }]
          : how === "repeat"
          ? [...tokens, tokens[0]!]
          : tokens
        const decoded = batch(JSON.stringify({ data: sent }), userIds)
        if (how === "exact") {
          assert.notInstanceOf(decoded, TokenAnswer.Malformed)
          const byUser = decoded as ReadonlyMap<string, Token>
          assert.deepStrictEqual([...byUser.keys()].sort(), [...userIds].sort())
          for (const [id, token] of byUser) assert.strictEqual(token.userId, id)
        } else {
          assert.instanceOf(decoded, TokenAnswer.Malformed)
        }
      }
    ))
  })

  it("the schema decides what the fast reader does not accept", () => {
    const bySchema = (): ReadonlyArray<Token> => [make(TOKEN, "u1", Date.parse(LATER))]
    const decoded = TokenAnswer.batch(answer(JSON.stringify({ data: "odd" })), ["u1"], Scrub.none, make, bySchema)
    assert.deepStrictEqual([...(decoded as ReadonlyMap<string, Token>).keys()], ["u1"])
  })
})

// An issue tree of the test's own, told apart as a shell tells its schema library's.
type Tree =
  | { readonly at: string | number; readonly under: Tree }
  | { readonly all: ReadonlyArray<Tree> }
  | { readonly missing: boolean }
const view = (tree: Tree): MalformedAnswer.IssueView<Tree> =>
  "at" in tree
    ? { _tag: "Pointer", path: [tree.at], issue: tree.under }
    : "all" in tree
    ? { _tag: "Group", issues: tree.all }
    : { _tag: "Leaf", missing: tree.missing }

const tree: fc.Arbitrary<Tree> = fc.letrec<{ tree: Tree }>((tie) => ({
  tree: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    fc.record({ missing: fc.boolean() }),
    fc.record({ at: fc.oneof(fc.nat(9), fc.stringMatching(/^[a-z]{1,5}$/)), under: tie("tree") }),
    fc.record({ all: fc.array(tie("tree"), { maxLength: 4 }) })
  )
})).tree

const leaves = (t: Tree, path: ReadonlyArray<PropertyKey> = []): Array<MalformedAnswer.Issue> =>
  "at" in t
    ? leaves(t.under, [...path, t.at])
    : "all" in t
    ? t.all.length === 0 ? [{ path, missing: false }] : t.all.flatMap((c) => leaves(c, path))
    : [{ path, missing: t.missing }]

describe("MalformedAnswer", () => {
  it("collects the problems of an issue tree in order, the first few kept and all counted", () => {
    fc.assert(fc.property(tree, fc.nat(5), (t, limit) => {
      const all = leaves(t)
      const { found, total } = MalformedAnswer.collectIssues(t, view, limit)
      assert.strictEqual(total, all.length)
      assert.deepStrictEqual(found, all.slice(0, limit))
    }))
  })

  it("describes the first three by path, counts the rest, and stops walking past its bound", () => {
    const t: Tree = {
      all: [
        { at: "data", under: { at: 0, under: { at: "expires", under: { missing: false } } } },
        { at: "data", under: { at: 1, under: { at: "token", under: { missing: true } } } },
        { missing: false },
        { at: "x", under: { missing: false } },
        { at: "y", under: { missing: false } }
      ]
    }
    assert.strictEqual(
      MalformedAnswer.describeIssues(t, view),
      "data.0.expires: unexpected value; data.1.token: missing; body: unexpected value (+2 more)"
    )
    const wide: Tree = { all: Array.from({ length: 100_000 }, () => ({ missing: false })) }
    const { total } = MalformedAnswer.collectIssues(wide, view)
    assert.isBelow(total, MalformedAnswer.maxIssueSteps)
  })

  it("a key of the answer's is scrubbed and cut short", () => {
    assert.strictEqual(
      MalformedAnswer.describeIssues({ at: "user name ".repeat(6), under: { missing: true } }, view),
      `${"user name ".repeat(4).trimEnd()}: missing`
    )
    assert.strictEqual(
      MalformedAnswer.describeIssues({ at: TOKEN, under: { missing: false } }, view),
      "<redacted>: unexpected value"
    )
  })
})
