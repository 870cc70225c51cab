/**
 * `sfox-tokens` as users get it: the built `dist` bin, run by node as a child
 * process with pipes (not terminals) for stdin, stdout and stderr. Needs
 * the build: `pnpm test` builds the packages before it runs any test.
 */
import { assert, describe, it } from "@effect/vitest"
import { Cli } from "@sfox-effect/cli"
import * as Effect from "effect/Effect"
import * as Fs from "node:fs"
import * as path from "node:path"
import { childEnv, type ChildResult, repoRoot, runChild } from "./utils/childProcess.js"

const cliPackage = path.join(repoRoot, "packages", "cli")
const bin = path.join(cliPackage, "dist", "esm", "bin.js")
const ansi = new RegExp(`${String.fromCharCode(27)}\\[`)

const newestMtime = (dir: string): number =>
  Fs.readdirSync(dir, { withFileTypes: true }).reduce((newest, entry) => {
    const file = path.join(dir, entry.name)
    return Math.max(newest, entry.isDirectory() ? newestMtime(file) : Fs.statSync(file).mtimeMs)
  }, 0)

const show = (result: ChildResult) => `exit ${result.code}\nstdout: ${result.stdout}\nstderr: ${result.stderr}`

/** The built bin, with the test's environment minus NO_COLOR unless `env` sets it. */
const sfoxTokens = (args: ReadonlyArray<string>, options: { env?: Record<string, string>; stdin?: string } = {}) =>
  runChild(process.execPath, [bin, ...args], {
    env: childEnv({ NO_COLOR: undefined, ...options.env }),
    stdin: options.stdin,
    timeoutMillis: 20_000
  })

const minted = (result: ChildResult) =>
  result.stdout.split("\n").filter((line) => line !== "").map((line) => line.split("  ")[0])

describe("the built sfox-tokens bin", () => {
  it("is built from the current sources", () => {
    assert.isTrue(Fs.existsSync(bin), `${bin} missing: run \`pnpm build\` first`)
    assert.isAtMost(newestMtime(path.join(cliPackage, "src")), Fs.statSync(bin).mtimeMs, "dist older than src")
  })

  it.live("help: `help create` and `create … --help` alike, the program named in the usage, no colour off a terminal", () =>
    Effect.gen(function*() {
      const [viaHelp, viaFlag, root, unknown] = yield* Effect.all([
        sfoxTokens(["help", "create"]),
        sfoxTokens(["create", "--mock", "u1", "--help"]),
        sfoxTokens(["help"], { env: { NO_COLOR: "1" } }),
        sfoxTokens(["help", "nope"])
      ], { concurrency: "unbounded" })
      assert.strictEqual(viaHelp.code, 0, show(viaHelp))
      assert.strictEqual(viaFlag.code, 0, show(viaFlag))
      assert.strictEqual(viaFlag.stdout, viaHelp.stdout)
      assert.match(viaHelp.stdout, /^\$ sfox-tokens create \[--json\]/m)
      assert.notInclude(viaHelp.stdout, "zero or more")
      assert.include(viaHelp.stdout, "at least 1")
      assert.include(viaHelp.stdout, "token field is left out")
      assert.strictEqual(root.code, 0, show(root))
      assert.include(root.stdout, "create")
      for (const result of [viaHelp, viaFlag, root, unknown]) {
        assert.notMatch(result.stdout + result.stderr, ansi, show(result))
      }
      assert.strictEqual(unknown.code, Cli.ExitCode.Usage, show(unknown))
      assert.match(unknown.stderr, /^sfox-tokens: UsageError: no command "nope"/)
    }))

  it.live("global options listed in the command's help are accepted after its ids", () =>
    Effect.gen(function*() {
      const result = yield* sfoxTokens(["create", "--mock", "u1", "--log-level", "info"])
      assert.strictEqual(result.code, 0, show(result))
      assert.deepStrictEqual(minted(result), ["u1"])
      const version = yield* sfoxTokens(["create", "u1", "--version"])
      assert.strictEqual(version.code, 0, show(version))
      assert.match(version.stdout, /^\d+\.\d+\.\d+/)
    }))

  it.live("--wizard with stdin not a terminal: a usage error at once, no prompt", () =>
    Effect.gen(function*() {
      const result = yield* sfoxTokens(["create", "--wizard"])
      assert.strictEqual(result.code, Cli.ExitCode.Usage, show(result))
      assert.match(result.stderr, /^sfox-tokens: UsageError: --wizard needs a terminal/)
    }))

  it.live("'-' reads ids from stdin (CRLF or LF, blank lines skipped), in place among the others", () =>
    Effect.gen(function*() {
      const result = yield* sfoxTokens(["create", "--mock", "u0", "-", "u9"], { stdin: "u1\r\n\n   \nu2\n" })
      assert.strictEqual(result.code, 0, show(result))
      assert.deepStrictEqual(minted(result), ["u0", "u1", "u2", "u9"])
    }))

  it.live("an id from stdin with surrounding spaces reaches the library, which refuses it", () =>
    Effect.gen(function*() {
      const result = yield* sfoxTokens(["create", "--mock", "-"], { stdin: "u1\n u2 \n" })
      assert.strictEqual(result.code, Cli.ExitCode.InvalidUserId, show(result))
      assert.match(result.stderr, /^sfox-tokens: InvalidUserId: /m)
    }))

  it.live("everything after '--' is an id, even one that starts with '-'", () =>
    Effect.gen(function*() {
      const result = yield* sfoxTokens(["create", "--mock", "u1", "--", "-dash", "--json"])
      assert.strictEqual(result.code, 0, show(result))
      assert.deepStrictEqual(minted(result), ["u1", "-dash", "--json"])
    }))

  it.live("zero ids, on the command line or on stdin, is a usage error", () =>
    Effect.gen(function*() {
      const [none, emptyStdin, afterDashes] = yield* Effect.all([
        sfoxTokens(["create", "--mock"]),
        sfoxTokens(["create", "--mock", "-"], { stdin: "\n\n" }),
        sfoxTokens(["create", "--mock", "--"])
      ], { concurrency: "unbounded" })
      for (const result of [none, emptyStdin, afterDashes]) {
        assert.strictEqual(result.code, Cli.ExitCode.Usage, show(result))
        assert.include(result.stderr, "user_id")
      }
    }))

  it.live("--json without --reveal leaves the token out; with it, the whole token", () =>
    Effect.gen(function*() {
      const [cut, whole] = yield* Effect.all([
        sfoxTokens(["create", "--mock", "--json", "u1"]),
        sfoxTokens(["create", "--mock", "--json", "--reveal", "u1"])
      ], { concurrency: "unbounded" })
      assert.deepStrictEqual(JSON.parse(cut.stdout).data.map(Object.keys), [["partner_user_id", "expires"]])
      assert.match(JSON.parse(whole.stdout).data[0].token, /^[0-9a-f]{64}$/)
    }))
})
