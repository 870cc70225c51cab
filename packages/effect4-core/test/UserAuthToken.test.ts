import { assert, describe, it } from "@effect/vitest"
import { BatchTokenResponse, SingleTokenResponse, UserAuthToken, UserAuthTokenWire } from "@sfox-effect/effect4-core"
import { DateTime, Redacted, Result, Schema } from "effect"

// Verbatim from ../shared/seeds/create-user-auth-token.md
const seedSingle = `{
    "data": {
        "token": "bcf5ab0aa8dfebc86460338514dd022d63080277373002e6986d7925375a0087",
        "partner_user_id": "client_db29326e-5df6-4d8b-aaaa-b75dc194a0a2",
        "expires": "2024-05-14T19:22:09.901Z"
    }
}`

// Verbatim from ../shared/seeds/create-multiple-user-auth-tokens.md
const seedBatch = `{
  "data": [
  {
    "token":"911b79b52d8921e57d55bfe4fa182e0e3982e1fa7f202ede548299b1118028f3",
    "expires": "2022-02-08T03:28:56Z",
    "partner_user_id": "156c5beb-7c9f-4f68-83c0-9479703ac490"
  },
  {
    "token":"811d79b52d8921e57d55bfe4fa182e0e3982e1fa7f202ede548299b1117467c5",
    "expires": "2022-02-08T03:28:56Z",
    "partner_user_id": "236f5cdc-7h82-6fh3-h37s-9382840de46575"
  }
  ]
}`

describe("wire schemas", () => {
  it("decode the single-user seed example verbatim (expires with milliseconds)", () => {
    const { data } = Schema.decodeUnknownSync(SingleTokenResponse)(JSON.parse(seedSingle))
    assert.instanceOf(data, UserAuthToken)
    assert.strictEqual(Redacted.value(data.token), "bcf5ab0aa8dfebc86460338514dd022d63080277373002e6986d7925375a0087")
    assert.strictEqual(data.userId, "client_db29326e-5df6-4d8b-aaaa-b75dc194a0a2")
    assert.strictEqual(DateTime.formatIso(data.expires), "2024-05-14T19:22:09.901Z")
  })

  it("decode the batch seed example verbatim (expires without milliseconds, non-UUID ids)", () => {
    const { data } = Schema.decodeUnknownSync(BatchTokenResponse)(JSON.parse(seedBatch))
    assert.deepStrictEqual(data.map((t) => t.userId), [
      "156c5beb-7c9f-4f68-83c0-9479703ac490",
      "236f5cdc-7h82-6fh3-h37s-9382840de46575"
    ])
    assert.strictEqual(DateTime.formatIso(data[0]!.expires), "2022-02-08T03:28:56.000Z")
  })

  it("the raw wire schema keeps sFOX's field names", () => {
    const wire = Schema.decodeUnknownSync(Schema.Struct({ data: UserAuthTokenWire }))(JSON.parse(seedSingle))
    assert.strictEqual(wire.data.partner_user_id, "client_db29326e-5df6-4d8b-aaaa-b75dc194a0a2")
  })

  it("ignores extra fields sFOX may add", () => {
    const json = JSON.parse(seedSingle)
    json.data.scope = "user"
    json.meta = { request_id: "x" }
    assert.strictEqual(Schema.decodeUnknownSync(SingleTokenResponse)(json).data.userId, json.data.partner_user_id)
  })

  it("refuses an empty token, a missing field or a date that is not one", () => {
    const base = JSON.parse(seedSingle).data
    for (
      const data of [{ ...base, token: "" }, { ...base, expires: "soon" }, { token: base.token, expires: base.expires }]
    ) {
      assert.isTrue(Result.isFailure(Schema.decodeUnknownResult(SingleTokenResponse)({ data })))
    }
  })

  it("encodes back to the wire shape", () => {
    const decoded = Schema.decodeUnknownSync(SingleTokenResponse)(JSON.parse(seedSingle))
    assert.deepStrictEqual(Schema.encodeSync(SingleTokenResponse)(decoded), {
      data: {
        token: "bcf5ab0aa8dfebc86460338514dd022d63080277373002e6986d7925375a0087",
        partner_user_id: "client_db29326e-5df6-4d8b-aaaa-b75dc194a0a2",
        expires: "2024-05-14T19:22:09.901Z"
      }
    })
  })

  it("isValidAt honours a margin", () => {
    const { data } = Schema.decodeUnknownSync(SingleTokenResponse)(JSON.parse(seedSingle))
    const before = DateTime.makeUnsafe("2024-05-14T19:12:09.901Z")
    assert.isTrue(data.isValidAt(before))
    assert.isFalse(data.isValidAt(before, 10 * 60 * 1000))
  })
})
