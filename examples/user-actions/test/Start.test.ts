/**
 * `pnpm start` for real: `src/main.ts` in its own process, over real sockets,
 * with `NodeSfox.layer` pointed at the embedded `MockSfoxServer`, which mints
 * the tokens and takes the deposits made with them. No key, no network.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { type ChildProcess, spawn } from "node:child_process"
import * as path from "node:path"
import { fileURLToPath } from "node:url"

const example = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..")

/** The test's environment without proxies or sFOX settings that could send the child elsewhere. */
const childEnv = (extra: Record<string, string>): NodeJS.ProcessEnv => {
  const env: NodeJS.ProcessEnv = {}
  for (const [name, value] of Object.entries(process.env)) {
    if (/^(?:https?_proxy|all_proxy|SFOX_.*|ENTERPRISE_API_KEY|PORT)$/i.test(name)) continue
    env[name] = value
  }
  return { ...env, NO_PROXY: "127.0.0.1", no_proxy: "127.0.0.1", NO_COLOR: "1", ...extra }
}

/** Starts `src/main.ts` on an ephemeral port; resolves with its URL once it prints the banner. */
const start = Effect.acquireRelease(
  Effect.async<{ readonly url: string; readonly child: ChildProcess; readonly output: () => string }>((resume) => {
    const child = spawn(process.execPath, ["--import", "tsx", path.join("src", "main.ts")], {
      cwd: example,
      env: childEnv({ PORT: "0" }),
      stdio: ["ignore", "pipe", "pipe"]
    })
    let output = ""
    let done = false
    const timer = setTimeout(() => {
      done = true
      child.kill("SIGKILL")
      resume(Effect.dieMessage(`no banner within 30 s:\n${output}`))
    }, 30_000)
    const onData = (chunk: Buffer) => {
      output += chunk.toString("utf8")
      const match = /user-actions listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(output)
      if (match && !done) {
        done = true
        clearTimeout(timer)
        resume(Effect.succeed({ url: match[1]!, child, output: () => output }))
      }
    }
    child.stdout!.on("data", onData)
    child.stderr!.on("data", onData)
    child.on("exit", (code) => {
      if (done) return
      done = true
      clearTimeout(timer)
      resume(Effect.dieMessage(`exited with ${code} before listening:\n${output}`))
    })
  }),
  ({ child }) =>
    Effect.async<void>((resume) => {
      if (child.exitCode !== null || child.signalCode !== null) return resume(Effect.void)
      const kill = setTimeout(() => child.kill("SIGKILL"), 5_000)
      child.on("exit", () => {
        clearTimeout(kill)
        resume(Effect.void)
      })
      child.kill("SIGINT")
    })
)

const post = (url: string, session: string, amount: number) =>
  Effect.promise(async () => {
    const response = await fetch(`${url}/deposits`, {
      method: "POST",
      headers: { authorization: `Bearer ${session}`, "content-type": "application/json" },
      body: JSON.stringify({ amount })
    })
    return { status: response.status, body: await response.json() as Record<string, unknown> }
  })

describe("pnpm start", () => {
  it.live("serves the example against the embedded mock sFOX, and prints how to call it", () =>
    Effect.gen(function*() {
      const { output, url } = yield* start
      assert.include(output(), `curl -i -X POST ${url}/deposits -H 'Authorization: Bearer session-alice'`)

      // The mock takes a deposit only with a live token it minted for that user.
      const ok = yield* post(url, "session-alice", 250)
      assert.strictEqual(ok.status, 201)
      assert.strictEqual(ok.body.userId, "156c5beb-7c9f-4f68-83c0-9479703ac490")
      assert.strictEqual(ok.body.amount, 250)
      assert.strictEqual(ok.body.status, "pending")
      assert.match(String(ok.body.id), /^ach_/)
      const other = yield* post(url, "session-bob", 99)
      assert.strictEqual(other.status, 201)
      assert.strictEqual(other.body.userId, "client_db29326e-5df6-4d8b-aaaa-b75dc194a0a2")
      assert.notStrictEqual(other.body.id, ok.body.id)

      assert.strictEqual((yield* post(url, "session-nobody", 250)).status, 401)
      assert.strictEqual((yield* post(url, "session-bob", -5)).status, 400)
    }).pipe(Effect.scoped))
})
