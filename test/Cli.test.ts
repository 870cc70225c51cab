/**
 * `sfox-tokens` end to end: the CLI runs from source as a child process,
 * against its own embedded server (`--mock`) or a MockSfoxServer started
 * here, over real sockets. The exit-code table is checked in-process with
 * `Cli.run` (same code, same sockets, no 2-second process start per case).
 */
import * as NodeContext from "@effect/platform-node/NodeContext"
import { assert, describe, it } from "@effect/vitest"
import { Cli } from "@sfox-effect/cli"
import { BatchTokenResponse, UserAuthTokenWire } from "@sfox-effect/core"
import { Fault } from "@sfox-effect/core/testing"
import { MockSfoxServer } from "@sfox-effect/node/testing"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import * as Crypto from "node:crypto"
import * as Fs from "node:fs"
import * as path from "node:path"
import { warnings, withCapturedLogs } from "../packages/core/test/utils/logs.js"
import { childEnv, type ChildResult, runCli, runCliEntry } from "./utils/childProcess.js"

const seedUserId = "156c5beb-7c9f-4f68-83c0-9479703ac490"
// @effect/cli styles its help with ANSI escapes even when stdout is not a terminal.
const ansi = new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, "g")
const lines = (text: string) => text.split("\n").filter((line) => line.trim() !== "")
const fullToken = /\b[0-9a-f]{64}\b/
const stackFrame = /^\s+at\s/m
const uniqueKey = (label: string) => `${label}-${Crypto.randomBytes(12).toString("hex")}`

const BatchWire = Schema.Struct({ data: Schema.Array(UserAuthTokenWire.pipe(Schema.omit("token"))) })

const show = (result: ChildResult) => `exit ${result.code}\nstdout: ${result.stdout}\nstderr: ${result.stderr}`

/** A failure as the CLI must report it: its code, one line naming the error, no stack. */
const assertFailure = (result: ChildResult, code: number, tag: string) => {
  assert.strictEqual(result.code, code, show(result))
  const errorLines = lines(result.stderr).filter((line) => !line.startsWith("sfox-tokens: --mock:"))
  assert.strictEqual(errorLines.length, 1, show(result))
  assert.match(errorLines[0]!, new RegExp(`^sfox-tokens: ${tag}: \\S`), show(result))
  assert.notMatch(result.stderr, stackFrame)
  assert.notMatch(result.stdout, stackFrame)
}

const assertNoSecret = (result: ChildResult, ...secrets: ReadonlyArray<string>) => {
  for (const secret of secrets) {
    assert.notInclude(result.stdout, secret)
    assert.notInclude(result.stderr, secret)
  }
}

describe("sfox-tokens", () => {
  it.live("--mock mints one token against the embedded server, shown redacted", () =>
    Effect.gen(function*() {
      const result = yield* runCli(["create", "--mock", seedUserId])
      assert.strictEqual(result.code, 0, show(result))
      const out = lines(result.stdout)
      assert.strictEqual(out.length, 1, show(result))
      assert.match(out[0]!, new RegExp(`^${seedUserId}  [0-9a-f]{4}…  expires \\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z$`))
      assert.notMatch(result.stdout + result.stderr, fullToken)
      assert.match(result.stderr, /--mock: minting against an embedded sFOX simulator at http:\/\/127\.0\.0\.1:\d+/)
    }))

  it.live("--json --reveal prints sFOX's batch shape, tokens whole", () =>
    Effect.gen(function*() {
      const result = yield* runCli(["create", "--mock", "--json", "--reveal", seedUserId])
      assert.strictEqual(result.code, 0, show(result))
      const decoded = Schema.decodeUnknownSync(BatchTokenResponse)(JSON.parse(result.stdout))
      assert.strictEqual(decoded.data.length, 1)
      assert.strictEqual(decoded.data[0]!.userId, seedUserId)
      assert.match(JSON.parse(result.stdout).data[0].token, /^[0-9a-f]{64}$/)
    }))

  it.scopedLive("a wrong key exits with the Unauthorized code, one line, no stack, no key", () =>
    Effect.gen(function*() {
      const serverKey = uniqueKey("server-key")
      const wrongKey = uniqueKey("wrong-key")
      const server = yield* MockSfoxServer.make({ apiKey: serverKey })
      const result = yield* runCli(["create", "--base-url", server.url, seedUserId], {
        SFOX_ENTERPRISE_API_KEY: wrongKey
      })
      assertFailure(result, Cli.ExitCode.Unauthorized, "Unauthorized")
      assert.include(result.stderr, "401")
      // What to check, and for which host.
      assert.include(
        result.stderr,
        `check SFOX_ENTERPRISE_API_KEY: an sFOX Enterprise API key, issued for ${server.url}`
      )
      assert.strictEqual(result.stdout, "")
      assertNoSecret(result, wrongKey, serverKey)
      const requests = yield* server.requests
      assert.deepStrictEqual(requests.map((request) => request.authorization), ["invalid"])
    }))

  it.scopedLive("the key from the environment (the seeds' ENTERPRISE_API_KEY) mints, and is never printed", () =>
    Effect.gen(function*() {
      const key = uniqueKey("env-key")
      const server = yield* MockSfoxServer.make({ apiKey: key })
      const result = yield* runCli(["create", "--base-url", server.url, "--reveal", "user-1", "user-2"], {
        ENTERPRISE_API_KEY: key
      })
      assert.strictEqual(result.code, 0, show(result))
      const out = lines(result.stdout)
      assert.strictEqual(out.length, 2, show(result))
      for (const line of out) assert.match(line, fullToken)
      assertNoSecret(result, key)
      const requests = yield* server.requests
      assert.deepStrictEqual(requests.map((request) => [request.authorization, request.userIds]), [
        ["valid", ["user-1", "user-2"]]
      ])
    }))
})

/**
 * `Cli.run` in this process, with its own environment and its output
 * captured: the same result a child process would give, minus the start-up.
 */
const runInProcess = (args: ReadonlyArray<string>, env: Record<string, string> = {}) =>
  Effect.gen(function*() {
    const stdout: Array<string> = []
    const stderr: Array<string> = []
    const base = yield* Effect.console
    const capture: Console.Console = {
      ...base,
      log: (...parts) => Effect.sync(() => void stdout.push(`${parts.join(" ")}\n`)),
      error: (...parts) => Effect.sync(() => void stderr.push(`${parts.join(" ")}\n`))
    }
    const code = yield* Cli.run(["node", "sfox-tokens", ...args]).pipe(
      Console.withConsole(capture),
      Effect.withConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(env)))),
      Effect.provide(NodeContext.layer)
    )
    return { code, signal: null, stdout: stdout.join(""), stderr: stderr.join("") } satisfies ChildResult
  })

describe("sfox-tokens in-process (Cli.run)", () => {
  it.live("--help documents the command, its options, the environment and every exit code", () =>
    Effect.gen(function*() {
      const result = yield* runInProcess(["create", "--help"])
      assert.strictEqual(result.code, Cli.ExitCode.Ok, show(result))
      const help = result.stdout.replace(ansi, "")
      for (const text of ["create", "<user_id>", "--json", "--reveal", "--base-url", "--mock"]) {
        assert.include(help, text)
      }
      assert.include(help, "SFOX_ENTERPRISE_API_KEY")
      assert.include(help, "ENTERPRISE_API_KEY")
      assert.include(help, "SFOX_BASE_URL")
      const table = help.slice(help.indexOf("EXIT CODES"))
      for (const [name, code] of Object.entries(Cli.ExitCode)) {
        assert.match(table, new RegExp(`^\\s*${code}\\s{2}`, "m"), `exit code ${code} (${name})`)
      }
      for (const tag of ["InvalidUserId", "EmptyBatch", "Unauthorized", "RateLimited", "HttpFailure"]) {
        assert.include(table, tag)
      }
      assert.include(table, "TransportError")
      assert.include(table, "MalformedResponse")
    }))

  it.live("--version prints the version of the packages", () =>
    Effect.gen(function*() {
      const result = yield* runInProcess(["--version"])
      assert.strictEqual(result.code, Cli.ExitCode.Ok, show(result))
      const pkg = JSON.parse(Fs.readFileSync(path.join(__dirname, "..", "packages", "cli", "package.json"), "utf8"))
      assert.strictEqual(result.stdout.replace(ansi, "").trim(), pkg.version)
    }))

  it.live("--json without --reveal: sFOX's shape, one token per distinct id, the token field left out", () =>
    Effect.gen(function*() {
      const result = yield* runInProcess(["create", "--mock", "--json", "user-a", "user-b", "user-a"])
      assert.strictEqual(result.code, Cli.ExitCode.Ok, show(result))
      const batch = Schema.decodeUnknownSync(BatchWire)(JSON.parse(result.stdout))
      assert.deepStrictEqual(batch.data.map((token) => token.partner_user_id), ["user-a", "user-b"])
      for (const row of JSON.parse(result.stdout).data) {
        assert.deepStrictEqual(Object.keys(row), ["partner_user_id", "expires"])
      }
      assert.notMatch(result.stdout, fullToken)
      assert.include(result.stderr, "--reveal")
    }))

  it.scopedLive("each failure has its own exit code and a one-line message", () =>
    Effect.gen(function*() {
      const key = uniqueKey("key")
      const withKey = { SFOX_ENTERPRISE_API_KEY: key }
      const serverWith = (faults: ReadonlyArray<Fault>, users?: ReadonlyArray<string>) =>
        Effect.tap(MockSfoxServer.make({ apiKey: key, users }), (server) => server.enqueue(faults))

      const rateLimited = yield* serverWith([Fault.status(429)])
      const unknownUser = yield* serverWith([], ["known-user"])
      const malformed = yield* serverWith([Fault.malformed("<html>not sFOX</html>")])
      // Reset on every attempt the default retry makes, and more.
      const resetting = yield* serverWith(Array.from({ length: 8 }, () => Fault.reset()))

      const cases: ReadonlyArray<readonly [string, number, ReadonlyArray<string>, Record<string, string>]> = [
        ["ConfigError", Cli.ExitCode.Config, ["create", "user-1"], {}],
        ["ConfigError", Cli.ExitCode.Config, ["create", "--base-url", "http://example.com", "user-1"], withKey],
        ["UsageError", Cli.ExitCode.Usage, ["create", "--mock", "--base-url", rateLimited.url, "user-1"], {}],
        ["UsageError", Cli.ExitCode.Usage, ["create", "--mock", "--jsno", "user-1"], {}],
        ["InvalidUserId", Cli.ExitCode.InvalidUserId, ["create", "--mock", ".."], {}],
        ["UsageError", Cli.ExitCode.Usage, ["create", "--mock", "-", "-"], {}],
        ["RateLimited", Cli.ExitCode.RateLimited, ["create", "--base-url", rateLimited.url, "user-1"], withKey],
        ["HttpFailure", Cli.ExitCode.HttpFailure, ["create", "--base-url", unknownUser.url, "someone"], withKey],
        ["MalformedResponse", Cli.ExitCode.MalformedResponse, ["create", "--base-url", malformed.url, "u"], withKey],
        ["TransportError", Cli.ExitCode.TransportError, ["create", "--base-url", resetting.url, "user-1"], withKey]
      ]
      // The 429 case logs sFOX's lockout, as it should: kept and checked, not printed.
      const [results, logs] = yield* withCapturedLogs(
        Effect.forEach(cases, ([, , args, env]) => runInProcess(args, env), { concurrency: "unbounded" })
      )
      assert.isTrue(warnings(logs).some((line) => line.includes("locked this client out")), "the lockout is logged")
      cases.forEach(([tag, code], i) => {
        assertFailure(results[i]!, code, tag)
        assertNoSecret(results[i]!, key)
      })
      assert.include(results[7]!.stderr, "404")
      assert.strictEqual(
        new Set(Object.values(Cli.ExitCode)).size,
        Object.values(Cli.ExitCode).length,
        "exit codes are distinct"
      )

      // --json also reports the failure on stdout, for machines.
      const json = yield* runInProcess(["create", "--json", "--base-url", unknownUser.url, "someone"], withKey)
      assertFailure(json, Cli.ExitCode.HttpFailure, "HttpFailure")
      const { error } = JSON.parse(json.stdout)
      assert.deepStrictEqual([error.tag, error.exitCode], ["HttpFailure", Cli.ExitCode.HttpFailure])
    }))
})

describe("sfox-tokens output is terminal-safe (issue 20)", () => {
  // Everything that prints nothing or acts on the terminal that prints it (the output's own newlines aside).
  const unsafe = /[^\P{C}\n]|[\p{Zl}\p{Zp}]/u
  const hostile = "down\u001b[2J\u0007 \u202efdp.exe \u2066x\u2069 \u009b31m\u0000"

  it.scopedLive("sFOX's error text is printed escaped, on stderr and in --json", () =>
    Effect.gen(function*() {
      const key = uniqueKey("key")
      const server = yield* MockSfoxServer.make({ apiKey: key })
      yield* server.enqueue([
        Fault.status(400, { body: { error: hostile } }),
        Fault.status(400, { body: { error: hostile } })
      ])
      const env = { SFOX_ENTERPRISE_API_KEY: key }
      const text = yield* runInProcess(["create", "--base-url", server.url, "user-1"], env)
      const json = yield* runInProcess(["create", "--json", "--base-url", server.url, "user-1"], env)
      for (const result of [text, json]) {
        assertFailure(result, Cli.ExitCode.HttpFailure, "HttpFailure")
        assert.notMatch(result.stderr + result.stdout, unsafe, show(result))
        assert.include(result.stderr, "down\\u001b[2J\\u0007 \\u202efdp.exe")
      }
      assert.strictEqual(JSON.parse(json.stdout).error.message.includes("\\u202efdp.exe"), true)
    }))

  it.live("an id with a bidi override among visible characters is shown escaped; --json reads back the same id", () =>
    Effect.gen(function*() {
      const id = "user\u202eexe.txt"
      const text = yield* runInProcess(["create", "--mock", id])
      assert.strictEqual(text.code, Cli.ExitCode.Ok, show(text))
      assert.notMatch(text.stdout, unsafe, show(text))
      assert.include(text.stdout, "user\\u202eexe.txt")
      const json = yield* runInProcess(["create", "--mock", "--json", id])
      assert.strictEqual(json.code, Cli.ExitCode.Ok, show(json))
      assert.notMatch(json.stdout, unsafe, show(json))
      assert.strictEqual(JSON.parse(json.stdout).data[0].partner_user_id, id)
    }))
})

describe("sfox-tokens stdin (issue 20)", () => {
  it.live("invalid UTF-8 on stdin is refused, naming its line: exit 2, nothing minted", () =>
    Effect.gen(function*() {
      const stdin = Buffer.concat([Buffer.from("u1\nu2\nu"), Buffer.from([0xff, 0xfe]), Buffer.from("3\nu4\n")])
      const result = yield* runCliEntry("bin.ts", ["create", "--mock", "-"], { env: childEnv(), stdin })
      assertFailure(result, Cli.ExitCode.Usage, "UsageError")
      assert.include(result.stderr, "stdin line 3 is not valid UTF-8")
      assert.strictEqual(result.stdout, "")
      assert.notInclude(result.stderr, "\ufffd")
    }))

  it.live("stdin that cannot be read (a directory) says the read error: exit 2", () =>
    Effect.gen(function*() {
      const result = yield* runCliEntry("bin.ts", ["create", "--mock", "-"], { env: childEnv(), stdinPath: "/" })
      assertFailure(result, Cli.ExitCode.Usage, "UsageError")
      assert.include(result.stderr, "cannot read the ids from stdin")
      assert.include(result.stderr, "EISDIR")
      assert.notInclude(result.stderr, "no user ids given")
    }))

  it.live("control: valid UTF-8 ids, a BOM-free non-ASCII one included, are minted", () =>
    Effect.gen(function*() {
      const stdin = Buffer.from("u1\nZoë\n", "utf8")
      const result = yield* runCliEntry("bin.ts", ["create", "--mock", "-"], { env: childEnv(), stdin })
      assert.strictEqual(result.code, 0, show(result))
      assert.strictEqual(lines(result.stdout).length, 2, show(result))
    }))
})
