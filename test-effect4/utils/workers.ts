/**
 * Worker processes for the Effect 4 edition's multi-process tests
 * (test-effect4/workers/mintWorker.ts, run from source with tsx on this
 * process's Node, 24 under the Effect 4 runner): started together, released
 * at once with `go`, killed if they outlive their time or their scope. The
 * port of test/utils/workers.ts.
 */
import { Effect, type Scope } from "effect"
import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process"
import * as Path from "node:path"
import * as Readline from "node:readline"
import type { WorkerOptions, WorkerResult } from "../../test/shared/SharedRateLimit.js"
import { childEnv, repoRoot } from "./childProcess.js"

export type { WorkerOptions, WorkerResult }

export interface Worker {
  /** Starts minting. */
  readonly go: Effect.Effect<void>
  /** Its result line, once it has minted everything. */
  readonly result: Effect.Effect<WorkerResult>
}

const workerScript = Path.join(repoRoot, "test-effect4", "workers", "mintWorker.ts")

/** Starts one worker and waits until it has built its layers and says `ready`. */
export const startWorker = (
  options: WorkerOptions,
  env: { readonly redisUrl?: string | undefined; readonly timeoutMillis: number }
): Effect.Effect<Worker, never, Scope.Scope> =>
  Effect.gen(function*() {
    const child = yield* Effect.acquireRelease(
      Effect.sync((): ChildProcessWithoutNullStreams =>
        spawn(process.execPath, ["--import", "tsx", workerScript, JSON.stringify(options)], {
          cwd: repoRoot,
          env: childEnv({
            // The Effect 4 edition's paths: `@sfox-effect/effect4-*` from source.
            TSX_TSCONFIG_PATH: Path.join(repoRoot, "test-effect4", "tsconfig.json"),
            SFOX_REDIS_URL: env.redisUrl
          }),
          stdio: ["pipe", "pipe", "pipe"],
          timeout: env.timeoutMillis,
          killSignal: "SIGKILL"
        })
      ),
      (child) =>
        Effect.callback<void>((resume) => {
          if (child.exitCode !== null || child.signalCode !== null) return resume(Effect.void)
          child.once("exit", () => resume(Effect.void))
          child.kill("SIGKILL")
        })
    )
    let stderr = ""
    child.stderr.on("data", (chunk: Buffer) => stderr += chunk.toString("utf8"))
    const lines: Array<string> = []
    const waiting: Array<() => void> = []
    Readline.createInterface({ input: child.stdout }).on("line", (line) => {
      lines.push(line)
      for (const wake of waiting.splice(0)) wake()
    })
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()))
    const nextLine = (index: number) =>
      Effect.promise(async () => {
        while (lines.length <= index) {
          const more = new Promise<void>((resolve) => waiting.push(resolve))
          const which = await Promise.race([more.then(() => "line"), exited.then(() => "exit")])
          if (which === "exit" && lines.length <= index) {
            throw new Error(`worker ${options.name} exited (${child.exitCode ?? child.signalCode}): ${stderr}`)
          }
        }
        return lines[index]!
      })
    const ready = yield* nextLine(0)
    if (ready !== "ready") throw new Error(`worker ${options.name} said ${ready}`)
    return {
      go: Effect.sync(() => void child.stdin.write("go\n")),
      result: Effect.map(nextLine(1), (line) => JSON.parse(line) as WorkerResult)
    }
  })

/** Starts `count` workers, releases them together, and gathers their results. */
export const runWorkers = (
  count: number,
  options: (index: number) => WorkerOptions,
  env: { readonly redisUrl?: string | undefined; readonly timeoutMillis: number },
  whileRunning: Effect.Effect<void> = Effect.void
): Effect.Effect<ReadonlyArray<WorkerResult>, never, Scope.Scope> =>
  Effect.gen(function*() {
    const workers = yield* Effect.forEach(
      Array.from({ length: count }, (_, i) => i),
      (i) => startWorker(options(i), env),
      { concurrency: "unbounded" }
    )
    yield* Effect.forEach(workers, (worker) => worker.go, { discard: true })
    const [results] = yield* Effect.all([
      Effect.forEach(workers, (worker) => worker.result, { concurrency: "unbounded" }),
      whileRunning
    ], { concurrency: "unbounded" })
    return results
  })
