/**
 * Scenario 5: a real service. An HTTP app (`serviceApp.ts`, its own process)
 * that, per request for a user, mints the user's token and calls sFOX once
 * as that user, written on the library and as the seed's axios snippet;
 * each driven by autocannon (`connections` callers, each request for the
 * next id of a pool of distinct users) for `seconds`, against its own fresh
 * MockSfoxServer enforcing `limit` requests per `intervalMs` with a lockout.
 * Reports the app's served requests/s, latency and non-2xx answers, and what
 * sFOX saw: 429s, the share of its requests that were mints, and the ids per
 * mint request.
 */
import autocannon from "autocannon"
import * as Readline from "node:readline"
import type { MintShare } from "./mintShare.js"
import { type ServerProcess, startServer, tsNode } from "./serverProcess.js"
import type { Variant } from "./serviceApp.js"

export interface RealServiceRow {
  readonly app: string
  readonly variant: Variant
  /** Answers from the app, 2xx or not (requests cut by the end of the run are not answers). */
  readonly answered: number
  readonly served: number
  readonly servedPerSecond: number
  readonly nonOk: number
  /** Connection errors and timeouts at autocannon. */
  readonly errors: number
  readonly p50Ms: number
  readonly p99Ms: number
  readonly wallMs: number
  /** 429s the server answered. */
  readonly tooMany: number
  readonly sfox: MintShare
}

const appNames: Record<Variant, string> = {
  library: "library: clientFor(userId).get (UserTokenService.get inside)",
  axios: "seed axios: POST user-tokens/{id}, then GET as the user"
}

interface AppProcess {
  readonly url: string
  readonly stop: () => Promise<void>
}

const startApp = (variant: Variant, sfoxUrl: string, apiKey: string) =>
  new Promise<AppProcess>((resolve, reject) => {
    const child = tsNode("serviceApp.ts", [JSON.stringify({ variant, sfoxUrl, apiKey })], true)
    child.once("exit", (code) => reject(new Error(`${variant} app exited with ${code}`)))
    Readline.createInterface({ input: child.stdout! }).once("line", (line) => {
      resolve({
        url: (JSON.parse(line) as { url: string }).url,
        stop: () =>
          new Promise((done) => {
            child.removeAllListeners("exit")
            child.once("exit", () => done())
            child.send({ type: "exit" })
          })
      })
    })
  })

export interface RealServiceOptions {
  readonly seconds: number
  readonly connections: number
  readonly users: number
  readonly limit: number
  readonly intervalMs: number
  readonly lockoutMs: number
  readonly latencyMs: number
  readonly jitterMs: number
  readonly log: (line: string) => void
}

interface Prepared {
  readonly variant: Variant
  readonly server: ServerProcess
  readonly app: AppProcess
}

/**
 * A fresh sFOX for the app (its own window and lockout), and the app on it.
 * Both apps start before either run: the runs then follow each other without
 * four processes' start-up (seconds each on a busy machine) between them.
 */
const prepare = async (variant: Variant, options: RealServiceOptions): Promise<Prepared> => {
  const apiKey = "bench-service-key"
  const server = await startServer({
    apiKey,
    latency: `${options.latencyMs} millis`,
    latencyJitter: `${options.jitterMs} millis`,
    rateLimit: {
      limit: options.limit,
      interval: `${options.intervalMs} millis`,
      lockout: `${options.lockoutMs} millis`
    },
    record: true,
    rememberTokens: true
  })
  return { variant, server, app: await startApp(variant, server.url, apiKey) }
}

const drive = async ({ app, server, variant }: Prepared, options: RealServiceOptions): Promise<RealServiceRow> => {
  let next = 0
  const started = performance.now()
  const result = await autocannon({
    url: app.url,
    connections: options.connections,
    duration: options.seconds,
    // Far above sFOX's window: a caller that waits for the next one is measured, not dropped.
    timeout: 60,
    requests: [{
      method: "GET",
      setupRequest: (request) => ({ ...request, path: `/users/u-${next++ % options.users}/balance` })
    }]
  })
  const wallMs = performance.now() - started
  const sfox = await server.mintShare()
  const served = result["2xx"]
  return {
    app: appNames[variant],
    variant,
    answered: result["1xx"] + served + result.non2xx,
    served,
    servedPerSecond: served / (wallMs / 1000),
    nonOk: result.non2xx,
    errors: result.errors,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    wallMs,
    tooMany: sfox.byStatus[429] ?? 0,
    sfox
  }
}

export const realService = async (options: RealServiceOptions) => {
  const { connections, intervalMs, limit, log, seconds, users } = options
  log(
    `scenario 5: an HTTP app minting per request, ${connections} connections over ${users} users for ${seconds} s each, ${limit} requests / ${intervalMs} ms enforced`
  )
  const results: Array<RealServiceRow> = []
  const prepared = await Promise.all((["library", "axios"] as const).map((variant) => prepare(variant, options)))
  try {
    for (const one of prepared) {
      const row = await drive(one, options)
      results.push(row)
      log(
        `  ${row.app}: ${
          row.servedPerSecond.toFixed(1)
        } served/s, p50 ${row.p50Ms} ms, p99 ${row.p99Ms} ms, ${row.nonOk} non-2xx; sFOX: ${row.sfox.requests} requests, ${row.tooMany} × 429, mints ${
          (row.sfox.mintShare * 100).toFixed(1)
        } %, ${row.sfox.meanBatchSize.toFixed(1)} ids per mint`
      )
    }
  } finally {
    for (const { app, server } of prepared) {
      await app.stop()
      await server.stop()
    }
  }
  const { log: _, ...settings } = options
  return { ...settings, budgetPerSecond: limit / (intervalMs / 1000), results }
}
