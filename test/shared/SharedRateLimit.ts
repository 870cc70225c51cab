/**
 * The multi-process rate-limit suite's plan, shared by both editions
 * (test/SharedRateLimit.test.ts, test-effect4/SharedRateLimit.test.ts) and
 * their worker processes (test/workers/mintWorker.ts,
 * test-effect4/workers/mintWorker.ts): what a worker is told, what it
 * answers, and the numbers the tests run with. Plain data: no Effect.
 */

/** What one worker is told, as JSON in argv[2]. */
export interface WorkerOptions {
  readonly name: string
  readonly baseUrl: string
  readonly apiKey: string
  /** A shared budget on Redis (the URL from `SFOX_REDIS_URL`); otherwise a process-local `rateLimit`. */
  readonly redis: boolean
  readonly limit: number
  readonly intervalMillis: number
  readonly count: number
  readonly concurrency: number
  readonly deadlineMillis: number
  readonly timeoutMillis: number
  readonly commandTimeoutMillis?: number | undefined
  readonly prefix?: string | undefined
}

/** A worker's one result line. */
export interface WorkerResult {
  readonly name: string
  readonly ok: number
  readonly failures: Readonly<Record<string, number>>
  readonly elapsedMillis: number
}

export const key = "shared-limit-key"
export const limit = 50
export const intervalMillis = 2_000
export const processes = 4
export const perProcess = 60

/** The strict MockSfoxServer's options: sFOX's limit as a sliding window, then a lockout, with jittered latency. */
export const strictServerOptions = {
  apiKey: key,
  latency: "5 millis",
  latencyJitter: "40 millis",
  rateLimit: { limit, interval: `${intervalMillis} millis`, lockout: "60 seconds" }
} as const

/** Worker `i`'s options. */
export const options =
  (baseUrl: string, redis: boolean, extra: Partial<WorkerOptions> = {}) => (i: number): WorkerOptions => ({
    name: `w${i}`,
    baseUrl,
    apiKey: key,
    redis,
    limit,
    intervalMillis,
    count: perProcess,
    concurrency: perProcess,
    deadlineMillis: 30_000,
    timeoutMillis: 5_000,
    prefix: `test-${Date.now()}-${Math.random()}:`,
    ...extra
  })

/** The workers' failures added up by tag. */
export const failuresOf = (results: ReadonlyArray<WorkerResult>) => {
  const out: Record<string, number> = {}
  for (const result of results) {
    for (const [tag, n] of Object.entries(result.failures)) out[tag] = (out[tag] ?? 0) + n
  }
  return out
}
