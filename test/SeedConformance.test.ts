/**
 * The seed pages' own examples, run as real clients against MockSfoxServer.
 *
 * test/fixtures/seeds holds each example's text exactly as the seed gives it
 * (the last test checks that against the seed pages when they are beside the
 * repository). Only the host is pointed at the server before a run; the key
 * and the user ids come from the environment, as the examples expect.
 */
import * as NodeContext from "@effect/platform-node/NodeContext"
import * as FileSystem from "@effect/platform/FileSystem"
import { assert, describe, it } from "@effect/vitest"
import { BatchTokenResponse, SingleTokenResponse, UserAuthTokenWire } from "@sfox-effect/core"
import { MockSfoxServer } from "@sfox-effect/node/testing"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Schema from "effect/Schema"
import { spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as path from "node:path"
import { childEnv, type ChildResult, repoRoot, runChild } from "./utils/childProcess.js"

const fixtures = path.join(repoRoot, "test", "fixtures", "seeds")
const fixture = (name: string) => fs.readFileSync(path.join(fixtures, name), "utf8")
const productionHost = "https://api.sfox.com"
const pointAt = (text: string, url: string) => {
  assert.include(text, productionHost)
  return text.split(productionHost).join(url)
}

const apiKey = "seed-conformance-key-0123456789"
const seedUserId = "156c5beb-7c9f-4f68-83c0-9479703ac490"

// Each client runs when its runtime is here, and says so when it is not.
const succeeds = (command: string, args: ReadonlyArray<string>) =>
  spawnSync(command, args, { stdio: "ignore", timeout: 10_000 }).status === 0
const missing = (what: string, present: boolean) => {
  if (!present) console.warn(`SeedConformance: skipping the ${what}`)
  return !present
}
const noCurl = missing("curl examples: curl is not installed", succeeds("curl", ["--version"]))
const hasPython = succeeds("python3", ["--version"])
const noPython = missing("Python example: python3 is not installed", hasPython) ||
  missing("Python example: python3 has no 'requests' module", succeeds("python3", ["-c", "import requests"]))

/** The exact keys of the seed's token objects, and their meaning via the library's schemas. */
const SingleWire = Schema.Struct({ data: UserAuthTokenWire })
const BatchWire = Schema.Struct({ data: Schema.Array(UserAuthTokenWire) })
const exact = { onExcessProperty: "error" } as const

const assertSingle = (body: unknown, userId: string) => {
  Schema.decodeUnknownSync(SingleWire, exact)(body)
  const decoded = Schema.decodeUnknownSync(SingleTokenResponse)(body)
  assert.strictEqual(decoded.data.userId, userId)
}

const assertRan = (result: ChildResult) => {
  assert.strictEqual(result.code, 0, `exit ${result.code}; stderr: ${result.stderr}`)
}

// curl's config file, not the command, asks for the status after the body:
// the seed's command line runs untouched.
const curlHome = Effect.gen(function*() {
  const fs = yield* FileSystem.FileSystem
  const dir = yield* fs.makeTempDirectoryScoped()
  yield* fs.writeFileString(path.join(dir, ".curlrc"), "silent\nshow-error\nwrite-out = \"\\n%{http_code}\"\n")
  return dir
})

/** Splits curl's output into the body and the status its `.curlrc` appended. */
const curlAnswer = (stdout: string) => {
  const cut = stdout.lastIndexOf("\n")
  return { body: JSON.parse(stdout.slice(0, cut)) as unknown, status: stdout.slice(cut + 1) }
}

const Env = Layer.merge(MockSfoxServer.layer({ apiKey }), NodeContext.layer)

describe("seed examples against MockSfoxServer", () => {
  it.scopedLive.skipIf(noCurl)("curl: Create User Auth Token", () =>
    Effect.gen(function*() {
      const server = yield* MockSfoxServer
      const script = pointAt(fixture("create-user-auth-token.sh"), server.url)
      const result = yield* runChild("sh", ["-c", script], {
        env: childEnv({ ENTERPRISE_API_KEY: apiKey, CURL_HOME: yield* curlHome })
      })
      assertRan(result)
      const { body, status } = curlAnswer(result.stdout)
      assert.strictEqual(status, "201")
      assertSingle(body, seedUserId)
      const [request] = yield* server.requests
      assert.strictEqual(request?.authorization, "valid")
      assert.strictEqual(request?.path, `/v1/enterprise/user-tokens/${seedUserId}`)
    }).pipe(Effect.provide(Env)))

  it.scopedLive.skipIf(noCurl)("curl: Create Multiple User Auth Tokens", () =>
    Effect.gen(function*() {
      const server = yield* MockSfoxServer
      const script = pointAt(fixture("create-multiple-user-auth-tokens.sh"), server.url)
      const result = yield* runChild("sh", ["-c", script], {
        env: childEnv({
          ENTERPRISE_API_KEY: apiKey,
          USER_ID_1: seedUserId,
          USER_ID_2: "236f5cdc-7h82-6fh3-h37s-9382840de46575",
          CURL_HOME: yield* curlHome
        })
      })
      assertRan(result)
      const { body, status } = curlAnswer(result.stdout)
      assert.strictEqual(status, "201")
      Schema.decodeUnknownSync(BatchWire, exact)(body)
      const decoded = Schema.decodeUnknownSync(BatchTokenResponse)(body)
      // The seed wraps its JSON in single quotes, so the shell never expands
      // ${USER_ID_1}: the placeholders themselves are what reach sFOX.
      assert.deepStrictEqual(decoded.data.map((token) => token.userId), ["${USER_ID_1}", "${USER_ID_2}"])
      const [request] = yield* server.requests
      assert.strictEqual(request?.authorization, "valid")
      assert.strictEqual(request?.headers["content-type"], "application/json")
      assert.deepStrictEqual(request?.userIds, ["${USER_ID_1}", "${USER_ID_2}"])
    }).pipe(Effect.provide(Env)))

  it.scopedLive("Node (axios): Create User Auth Token", () =>
    Effect.gen(function*() {
      const server = yield* MockSfoxServer
      const fs = yield* FileSystem.FileSystem
      const dir = yield* fs.makeTempDirectoryScoped()
      const file = path.join(dir, "create-user-auth-token.cjs")
      yield* fs.writeFileString(file, pointAt(fixture("create-user-auth-token.axios.js.txt"), server.url))
      const result = yield* runChild(process.execPath, [file], {
        // The example `require`s axios: the test package's copy.
        env: childEnv({ ENTERPRISE_API_KEY: apiKey, NODE_PATH: path.join(repoRoot, "test", "node_modules") })
      })
      assertRan(result)
      assert.strictEqual(result.stderr, "")
      const [status, ...rest] = result.stdout.trimEnd().split("\n")
      assert.strictEqual(status, "201")
      // console.log prints the body as an object literal (util.inspect), not JSON.
      const body: unknown = new Function(`return (${rest.join("\n")})`)()
      assertSingle(body, seedUserId)
      const [request] = yield* server.requests
      assert.strictEqual(request?.authorization, "valid")
    }).pipe(Effect.provide(Env)))

  it.scopedLive.skipIf(noPython)("Python (requests): Create User Auth Token", () =>
    Effect.gen(function*() {
      const server = yield* MockSfoxServer
      const script = pointAt(fixture("create-user-auth-token.requests.py"), server.url)
      const result = yield* runChild("python3", ["-c", script], { env: childEnv({ ENTERPRISE_API_KEY: apiKey }) })
      assertRan(result)
      const [status, repr] = result.stdout.trimEnd().split("\n")
      assert.strictEqual(status, "201")
      // print() shows a dict's repr; Python itself turns it into JSON.
      const asJson = yield* runChild(
        "python3",
        ["-c", "import ast, json, sys; print(json.dumps(ast.literal_eval(sys.stdin.read())))"],
        { stdin: repr }
      )
      assertRan(asJson)
      assertSingle(JSON.parse(asJson.stdout), seedUserId)
      const [request] = yield* server.requests
      assert.strictEqual(request?.authorization, "valid")
    }).pipe(Effect.provide(Env)))
})

// The seed pages sit beside the repository in its development workspace
// only; a clone never has them, so their absence skips this check quietly
// (the fixtures themselves are checked in, and the tests above run on them).
const seedsDir = [path.join(repoRoot, "..", "shared", "seeds"), path.join(repoRoot, "shared", "seeds")].find((dir) =>
  fs.existsSync(path.join(dir, "create-user-auth-token.md"))
)

it.skipIf(seedsDir === undefined)("the fixtures are the seed pages' examples, character for character", () => {
  const page = (name: string) => fs.readFileSync(path.join(seedsDir!, name), "utf8").replace(/<[^>]+>/g, "")
  const single = page("create-user-auth-token.md")
  const batch = page("create-multiple-user-auth-tokens.md")
  assert.include(single, fixture("create-user-auth-token.sh").trimEnd())
  assert.include(single, fixture("create-user-auth-token.axios.js.txt").trimEnd())
  assert.include(single, fixture("create-user-auth-token.requests.py").trimEnd())
  assert.include(batch, fixture("create-multiple-user-auth-tokens.sh").trimEnd())
})
