/**
 * The seed pages' own examples, run as real clients against MockSfoxServer.
 *
 * The examples, how each runs and what each must show are a table shared
 * with the Effect 4 edition (test/shared/SeedExamples.ts); this file checks
 * them against the 3.x line's server and schemas.
 */
import { assert, describe, it } from "@effect/vitest"
import { BatchTokenResponse, SingleTokenResponse, UserAuthTokenWire } from "@sfox-effect/core"
import { MockSfoxServer } from "@sfox-effect/node/testing"
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { apiKey, seedExamples, seedPages } from "./shared/SeedExamples.js"
import { childEnv, repoRoot, runChild } from "./utils/childProcess.js"

/** The exact keys of the seed's token objects, and their meaning via the library's schemas. */
const SingleWire = Schema.Struct({ data: UserAuthTokenWire })
const BatchWire = Schema.Struct({ data: Schema.Array(UserAuthTokenWire) })
const exact = { onExcessProperty: "error" } as const

/** The user ids of the tokens in `body`, once it has the seed's exact shape. */
const userIdsOf = (body: unknown, shape: "single" | "batch"): ReadonlyArray<string> => {
  if (shape === "single") {
    Schema.decodeUnknownSync(SingleWire, exact)(body)
    return [Schema.decodeUnknownSync(SingleTokenResponse)(body).data.userId]
  }
  Schema.decodeUnknownSync(BatchWire, exact)(body)
  return Schema.decodeUnknownSync(BatchTokenResponse)(body).data.map((token) => token.userId)
}

const tempDir = Effect.acquireRelease(
  Effect.sync(() => fs.mkdtempSync(path.join(os.tmpdir(), "sfox-seed-"))),
  (dir) => Effect.sync(() => fs.rmSync(dir, { recursive: true, force: true }))
)

describe("seed examples against MockSfoxServer", () => {
  for (const example of seedExamples) {
    it.scopedLive.skipIf(example.skip)(example.name, () =>
      Effect.gen(function*() {
        const server = yield* MockSfoxServer
        const run = example.prepare({
          url: server.url,
          dir: yield* tempDir,
          nodeModules: path.join(repoRoot, "test", "node_modules")
        })
        const result = yield* runChild(run.command, run.args, { env: childEnv(run.env) })
        assert.strictEqual(result.code, 0, `exit ${result.code}; stderr: ${result.stderr}`)
        if (example.quiet) assert.strictEqual(result.stderr, "")
        const { body, status } = example.answer(result.stdout)
        assert.strictEqual(status, "201")
        assert.deepStrictEqual(userIdsOf(body, example.shape), example.userIds)
        const [request] = yield* server.requests
        assert.strictEqual(request?.authorization, "valid")
        if (example.request.path !== undefined) assert.strictEqual(request?.path, example.request.path)
        if (example.request.contentType !== undefined) {
          assert.strictEqual(request?.headers["content-type"], example.request.contentType)
        }
        if (example.request.userIds !== undefined) assert.deepStrictEqual(request?.userIds, example.request.userIds)
      }).pipe(Effect.provide(MockSfoxServer.layer({ apiKey }))))
  }
})

it.skipIf(seedPages === undefined)("the fixtures are the seed pages' examples, character for character", () => {
  for (const { example, page } of seedPages ?? []) assert.include(page, example)
})
