/**
 * The README's `node:http` server (`src/node-http.ts`, quoted there byte for
 * byte) in its own process, as a reader would run it: without a key it must
 * not start; against the embedded `MockSfoxServer` it answers 200, 400 and
 * 5xx as documented, logs one line per failure, and a client that goes away
 * interrupts its call.
 */
import { assert, describe, it } from "@effect/vitest"
import { Fault, SfoxSimulator } from "@sfox-effect/core/testing"
import { MockSfoxServer, type MockSfoxServerService } from "@sfox-effect/node/testing"
import { Deferred, Effect, Schedule } from "effect"
import { type ChildProcess, spawn } from "node:child_process"
import * as path from "node:path"
import { fileURLToPath } from "node:url"

const example = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..")
const KEY = "sfox-example-test-key"
const noKey = "no API key: set SFOX_ENTERPRISE_API_KEY (or ENTERPRISE_API_KEY) to your sFOX Enterprise API key"

/** The test's environment without proxies or sFOX settings that could send the child elsewhere. */
const childEnv = (extra: Record<string, string>): NodeJS.ProcessEnv => {
  const env: NodeJS.ProcessEnv = {}
  for (const [name, value] of Object.entries(process.env)) {
    if (/^(?:https?_proxy|all_proxy|SFOX_.*|ENTERPRISE_API_KEY|PORT)$/i.test(name)) continue
    env[name] = value
  }
  return { ...env, NO_PROXY: "127.0.0.1", no_proxy: "127.0.0.1", NO_COLOR: "1", PORT: "0", ...extra }
}

interface Running {
  readonly child: ChildProcess
  /** Everything it printed so far, stdout and stderr. */
  readonly output: () => string
  /** What it printed on stderr so far. */
  readonly errors: () => string
  /** The first match of `pattern` in its output from `from` on, once it appears. */
  readonly waitFor: (pattern: RegExp, from?: number) => Effect.Effect<RegExpExecArray>
  /** Its exit code, once it exits. */
  readonly exited: Effect.Effect<number | null>
}

/** `src/node-http.ts` in its own process; stopped (SIGTERM, then SIGKILL) when the scope closes. */
const run = (env: Record<string, string>) =>
  Effect.acquireRelease(
    Effect.gen(function*() {
      const exit = yield* Deferred.make<number | null>()
      const child = spawn(process.execPath, ["--import", "tsx", path.join("src", "node-http.ts")], {
        cwd: example,
        env: childEnv(env),
        stdio: ["ignore", "pipe", "pipe"]
      })
      let output = ""
      let errors = ""
      const watchers = new Set<() => void>()
      const onData = (chunk: Buffer) => {
        output += chunk.toString("utf8")
        for (const watcher of watchers) watcher()
      }
      child.stdout!.on("data", onData)
      child.stderr!.on("data", (chunk: Buffer) => {
        errors += chunk.toString("utf8")
        onData(chunk)
      })
      child.once("exit", (code) => Deferred.unsafeDone(exit, Effect.succeed(code)))
      const waitFor = (pattern: RegExp, from = 0) =>
        Effect.async<RegExpExecArray>((resume) => {
          const check = () => {
            const match = pattern.exec(output.slice(from))
            if (match === null) return
            watchers.delete(check)
            resume(Effect.succeed(match))
          }
          watchers.add(check)
          check()
          return Effect.sync(() => watchers.delete(check))
        }).pipe(
          Effect.raceFirst(
            Effect.flatMap(
              Deferred.await(exit),
              (code) => Effect.dieMessage(`exited with ${code} before printing ${pattern}:\n${output}`)
            )
          )
        )
      return {
        child,
        output: () => output,
        errors: () => errors,
        waitFor,
        exited: Deferred.await(exit)
      } satisfies Running
    }),
    ({ child, exited }) =>
      Effect.gen(function*() {
        if (child.exitCode !== null || child.signalCode !== null) return
        child.kill("SIGTERM")
        const kill = setTimeout(() => child.kill("SIGKILL"), 5_000)
        yield* exited
        clearTimeout(kill)
      })
  )

/** Its exit code if it exits before listening, else "listening" (a server that starts without its key). */
const startOrExit = (server: Running) =>
  Effect.race(server.exited, Effect.as(server.waitFor(/listening on/), "listening" as const))

const get = (url: string, userId: string | undefined, signal?: AbortSignal) =>
  Effect.promise(async () => {
    const response = await fetch(`${url}/`, {
      headers: userId === undefined ? {} : { "x-user-id": userId },
      ...(signal === undefined ? {} : { signal })
    })
    const text = await response.text()
    return { status: response.status, headers: response.headers, body: JSON.parse(text) as unknown }
  })

/** The token requests the mock has seen so far. */
const mints = (server: MockSfoxServerService) =>
  Effect.map(server.requests, (requests) => requests.filter((r) => r.path.startsWith(SfoxSimulator.tokensPath)))

describe("the README's node:http server (src/node-http.ts)", () => {
  it.scopedLive("without a key it does not start: one line saying what to set, no stack, exit code 1", () =>
    Effect.gen(function*() {
      const server = yield* run({})
      assert.strictEqual(yield* startOrExit(server), 1)
      const output = server.output()
      assert.strictEqual(output, `cannot start: (Missing data at SFOX_ENTERPRISE_API_KEY: "${noKey}")\n`)
      assert.strictEqual(server.errors(), output, "on stderr")
      assert.notInclude(output, "listening")
    }))

  it.scopedLive("with a bad SFOX_BASE_URL it does not start, and names the variable", () =>
    Effect.gen(function*() {
      const server = yield* run({ SFOX_ENTERPRISE_API_KEY: KEY, SFOX_BASE_URL: "http://api.sfox.com" })
      assert.strictEqual(yield* startOrExit(server), 1)
      assert.strictEqual(
        server.output(),
        `cannot start: (Invalid data at SFOX_BASE_URL: "must use https: (http: is allowed only for loopback hosts)")\n`
      )
    }))

  it.scopedLive("against the mock sFOX: 200, 400 for a bad user id, 502/503 for sFOX's failures, one log line each", () =>
    Effect.gen(function*() {
      const sfox = yield* MockSfoxServer.make({ apiKey: KEY })
      const server = yield* run({ SFOX_ENTERPRISE_API_KEY: KEY, SFOX_BASE_URL: sfox.url })
      const port = (yield* server.waitFor(/listening on http:\/\/localhost:(\d+)/))[1]!
      const url = `http://127.0.0.1:${port}`

      const ok = yield* get(url, "user-1")
      assert.strictEqual(ok.status, 200)
      assert.deepInclude(ok.body, { currency: "usd", balance: 1000, available: 1000, held: 0 })
      assert.strictEqual((yield* mints(sfox)).length, 1)
      // A success logs nothing: no token, no key.
      assert.match(server.output(), /^listening on http:\/\/localhost:\d+\n$/)

      // The caller's mistake: a 400, and nothing sent to sFOX.
      for (const userId of [undefined, "", ".", ".."]) {
        const bad = yield* get(url, userId)
        assert.strictEqual(bad.status, 400, String(userId))
        assert.match(String((bad.body as { error: string }).error), /^Invalid user id /)
      }
      assert.strictEqual((yield* mints(sfox)).length, 1)

      // sFOX refuses the key: a 502, logged as one line that says what to check.
      const from = server.output().length
      yield* sfox.enqueue(Fault.status(401, { body: { error: "invalid api key" } }))
      const refused = yield* get(url, "user-2")
      assert.strictEqual(refused.status, 502)
      const logged = (yield* server.waitFor(/^.*level=ERROR.*$/m, from))[0]
      assert.include(logged, "balance: Unauthorized: sFOX answered 401: invalid api key; check the API key")
      assert.include(logged, `one issued for ${sfox.url}`)

      // A lockout longer than the service waits: a 503 that says when to come back.
      yield* sfox.enqueue(Fault.status(429, { headers: { "retry-after": "120" } }))
      const busy = yield* get(url, "user-3")
      assert.strictEqual(busy.status, 503)
      assert.strictEqual(busy.headers.get("retry-after"), "120")
      yield* server.waitFor(/level=ERROR.*balance: RateLimited/, from)

      // Every line since is a whole log line: no multi-line dump of the request, no key.
      const lines = server.output().slice(from).split("\n").filter((line) => line !== "")
      assert.strictEqual(lines.filter((line) => line.includes("level=ERROR")).length, 2, lines.join("\n"))
      for (const line of lines) assert.match(line, /^timestamp=\S+ level=(?:ERROR|WARN) fiber=#\d+ message=/, line)
      assert.notInclude(server.output(), KEY)
      assert.notMatch(server.output(), /[0-9a-f]{40}/i, "a token in the output")
    }))

  it.scopedLive("a client that goes away interrupts its call: no more attempts for it", () =>
    Effect.gen(function*() {
      const sfox = yield* MockSfoxServer.make({ apiKey: KEY })
      const server = yield* run({ SFOX_ENTERPRISE_API_KEY: KEY, SFOX_BASE_URL: sfox.url })
      const port = (yield* server.waitFor(/listening on http:\/\/localhost:(\d+)/))[1]!

      // sFOX never answers the mint; the attempt would time out after 10 s and be sent again.
      yield* sfox.enqueue(Fault.noAnswer())
      const client = new AbortController()
      const call = yield* Effect.fork(Effect.either(get(`http://127.0.0.1:${port}`, "user-gone", client.signal)))
      yield* mints(sfox).pipe(Effect.repeat({ schedule: Schedule.spaced("10 millis"), until: (m) => m.length === 1 }))

      client.abort()
      yield* call.await
      // The handler's fiber was interrupted (it says so), in the server process.
      yield* server.waitFor(/balance: the client went away; call interrupted/)
      const seen = yield* mints(sfox)
      assert.strictEqual(seen.length, 1)
      assert.strictEqual(seen[0]!.fault, "NoAnswer")
    }))
})
