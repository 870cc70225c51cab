/**
 * A real `redis-server` (Debian's package) for the Effect 4 edition's tests: on a free loopback
 * port, in a temporary directory, nothing persisted, killed when the scope
 * closes.
 *
 * Where `redis-server` cannot be found, the suites that need it are skipped
 * with a loud message, except under `CI`, where they run and fail: CI must
 * never pass without them (`.ci/run` installs the package).
 */
import { Effect, type Scope } from "effect"
import { type ChildProcess, spawn } from "node:child_process"
import * as Fs from "node:fs"
import * as Net from "node:net"
import * as Os from "node:os"
import * as Path from "node:path"

const which = (name: string): string | undefined => {
  for (const dir of (process.env.PATH ?? "").split(Path.delimiter).concat(["/usr/bin", "/usr/sbin"])) {
    const file = Path.join(dir, name)
    try {
      Fs.accessSync(file, Fs.constants.X_OK)
      return file
    } catch {
      // not here
    }
  }
  return undefined
}

/** The `redis-server` executable, if the machine has one. */
export const redisServerPath = which("redis-server")

/**
 * Whether the suites that need Redis are skipped: only when it is missing
 * and this is not CI.
 */
export const skipRedis = redisServerPath === undefined && process.env.CI === undefined

if (redisServerPath === undefined) {
  const line = "!".repeat(78)
  process.stderr.write(
    `\n${line}\n!! redis-server not found: ${
      skipRedis
        ? "the Redis rate-limiter suites are SKIPPED"
        : "CI is set, so the Redis suites run and FAIL"
    }.\n!! Install it: apt-get install -y redis-server\n${line}\n\n`
  )
}

/** A loopback port free a moment ago (redis-server has no `--port 0`). */
export const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const probe = Net.createServer()
    probe.on("error", reject)
    probe.listen(0, "127.0.0.1", () => {
      const port = (probe.address() as Net.AddressInfo).port
      probe.close(() => resolve(port))
    })
  })

export interface RedisServer {
  readonly port: number
  /** `redis://127.0.0.1:<port>` (with the password, when one was asked for). */
  readonly url: string
  /** Kills the server at once (SIGKILL), as a crash would. */
  readonly kill: Effect.Effect<void>
  /** Starts a fresh (empty) server on the same port, after `kill`. */
  readonly restart: Effect.Effect<void>
  /** The running server process. */
  readonly child: () => ChildProcess
}

const startOnce = (port: number, dir: string, password: string | undefined) =>
  new Promise<ChildProcess>((resolve, reject) => {
    if (redisServerPath === undefined) {
      reject(new Error("redis-server not found (apt-get install -y redis-server)"))
      return
    }
    const args = ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir]
    if (password !== undefined) args.push("--requirepass", password)
    const child = spawn(redisServerPath, args, { stdio: ["ignore", "pipe", "pipe"] })
    let output = ""
    const timer = setTimeout(() => {
      child.kill("SIGKILL")
      reject(new Error(`redis-server did not start within 10 s:\n${output}`))
    }, 10_000)
    const onData = (chunk: Buffer) => {
      output += chunk.toString("utf8")
      if (output.includes("Ready to accept connections")) {
        clearTimeout(timer)
        resolve(child)
      }
    }
    child.stdout.on("data", onData)
    child.stderr.on("data", onData)
    child.once("exit", (code) => {
      clearTimeout(timer)
      reject(new Error(`redis-server exited with ${code}:\n${output}`))
    })
  })

/** Starts a `redis-server`; killed, and its directory removed, when the scope closes. */
export const startRedis = (options: { readonly password?: string } = {}): Effect.Effect<
  RedisServer,
  never,
  Scope.Scope
> =>
  Effect.acquireRelease(
    Effect.promise(async () => {
      const dir = Fs.mkdtempSync(Path.join(Os.tmpdir(), "sfox-redis-"))
      let lastError: unknown
      // Another process may take the free port before redis-server does.
      for (let attempt = 0; attempt < 3; attempt++) {
        const port = await freePort()
        try {
          let child = await startOnce(port, dir, options.password)
          const auth = options.password === undefined ? "" : `:${encodeURIComponent(options.password)}@`
          const kill = Effect.promise(() =>
            new Promise<void>((resolve) => {
              if (child.exitCode !== null || child.signalCode !== null) return resolve()
              child.once("exit", () => resolve())
              child.kill("SIGKILL")
            })
          )
          const restart = Effect.andThen(
            kill,
            Effect.promise(async () => {
              child = await startOnce(port, dir, options.password)
            })
          )
          return {
            server: { port, url: `redis://${auth}127.0.0.1:${port}`, kill, restart, child: () => child },
            dir
          }
        } catch (error) {
          lastError = error
        }
      }
      Fs.rmSync(dir, { recursive: true, force: true })
      throw lastError
    }),
    ({ dir, server }) =>
      Effect.andThen(server.kill, Effect.sync(() => Fs.rmSync(dir, { recursive: true, force: true })))
  ).pipe(Effect.map(({ server }) => server))
