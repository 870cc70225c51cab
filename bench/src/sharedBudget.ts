/**
 * Scenario 4: N worker processes × M mints each (one `create` = one request)
 * against the MockSfoxServer enforcing a strict sliding window with lockout
 * and jittered latency: through one RedisRateLimiter (its own redis-server),
 * and, as the control, with a process-local limiter in each process.
 */
import * as ChildProcess from "node:child_process"
import * as Path from "node:path"
import * as Readline from "node:readline"
import type { WorkerOptions, WorkerResult } from "../../test/workers/mintWorker.js"
import { startRedis } from "./redisProcess.js"
import { startServer } from "./serverProcess.js"

const root = Path.resolve(Path.dirname(new URL(import.meta.url).pathname), "..", "..")
const workerScript = Path.join(root, "test", "workers", "mintWorker.ts")

interface Started {
  readonly go: () => void
  readonly result: Promise<WorkerResult>
}

const startWorker = (options: WorkerOptions, redisUrl: string | undefined) =>
  new Promise<Started>((resolve, reject) => {
    const child = ChildProcess.spawn(process.execPath, ["--import", "tsx", workerScript, JSON.stringify(options)], {
      cwd: root,
      env: {
        ...process.env,
        TSX_TSCONFIG_PATH: Path.join(root, "test", "tsconfig.json"),
        ...(redisUrl === undefined ? {} : { SFOX_REDIS_URL: redisUrl })
      },
      stdio: ["pipe", "pipe", "inherit"],
      timeout: 300_000,
      killSignal: "SIGKILL"
    })
    const lines = Readline.createInterface({ input: child.stdout })
    let settle: ((result: WorkerResult) => void) | undefined
    const result = new Promise<WorkerResult>((done, fail) => {
      settle = done
      child.once("exit", (code) => fail(new Error(`worker ${options.name} exited with ${code}`)))
    })
    result.catch(() => {})
    lines.on("line", (line) => {
      if (line === "ready") resolve({ go: () => child.stdin.write("go\n"), result })
      else settle?.(JSON.parse(line) as WorkerResult)
    })
    child.once("exit", (code) => reject(new Error(`worker ${options.name} exited with ${code} before ready`)))
  })

export interface SharedBudgetRow {
  readonly limiter: string
  readonly requests: number
  readonly minted: number
  readonly tooMany: number
  readonly wallMs: number
  readonly requestsPerSecond: number
}

export const sharedBudget = async (options: {
  readonly processes: number
  readonly perProcess: number
  readonly limit: number
  readonly intervalMs: number
  readonly log: (line: string) => void
}) => {
  const { intervalMs, limit, log, perProcess, processes } = options
  const key = "bench-shared-key"
  const total = processes * perProcess
  const budgetPerSecond = limit / (intervalMs / 1000)
  // The fastest any client may go: a full window at once, then `limit` per window.
  const minimumMs = Math.floor((total - 1) / limit) * intervalMs
  log(
    `scenario 4: ${processes} processes × ${perProcess} mints, ${limit} requests / ${intervalMs} ms enforced (budget ${budgetPerSecond} req/s, floor ${minimumMs} ms)`
  )
  const rows: Array<SharedBudgetRow> = []
  for (const shared of [true, false]) {
    const server = await startServer({
      apiKey: key,
      latency: "5 millis",
      latencyJitter: "40 millis",
      rateLimit: { limit, interval: `${intervalMs} millis`, lockout: "60 seconds" }
    })
    const redis = shared ? await startRedis() : undefined
    try {
      const prefix = `bench-${Date.now()}:`
      const workers = await Promise.all(Array.from({ length: processes }, (_, i) =>
        startWorker({
          name: `w${i}`,
          baseUrl: server.url,
          apiKey: key,
          redis: shared,
          limit,
          intervalMillis: intervalMs,
          count: perProcess,
          concurrency: perProcess,
          deadlineMillis: shared ? 120_000 : 10_000,
          timeoutMillis: 10_000,
          prefix
        }, redis?.url)))
      const started = performance.now()
      for (const worker of workers) worker.go()
      const results = await Promise.all(workers.map((worker) => worker.result))
      const wallMs = performance.now() - started
      const stats = await server.stats()
      const row: SharedBudgetRow = {
        limiter: shared ? "RedisRateLimiter (one budget)" : "process-local (control)",
        requests: stats.requests,
        minted: results.reduce((n, r) => n + r.ok, 0),
        tooMany: stats.byStatus[429] ?? 0,
        wallMs,
        requestsPerSecond: (stats.byStatus[201] ?? 0) / (wallMs / 1000)
      }
      rows.push(row)
      log(
        `  ${row.limiter}: ${row.minted}/${total} minted in ${Math.round(wallMs)} ms, ${
          row.requestsPerSecond.toFixed(1)
        } req/s (budget ${budgetPerSecond}), ${row.tooMany} × 429`
      )
    } finally {
      await server.stop()
      await redis?.stop()
    }
  }
  return { processes, perProcess, limit, intervalMs, budgetPerSecond, minimumMs, results: rows }
}
