/**
 * One worker process of the multi-process rate-limit tests and benchmark:
 * builds its own `UserTokenService` (and, with `redisUrl`, its own
 * `RedisRateLimiter`), says `ready` on stdout, waits for `go` on stdin,
 * mints `count` tokens one `create` each with `concurrency` in flight, and
 * prints one JSON line: how many succeeded, the failures by tag, and the
 * slowest failure (to check that every call ends within its deadline).
 *
 * Options arrive as JSON in argv[2] (see `WorkerOptions`, in test/shared/SharedRateLimit.ts). The Redis URL
 * comes in the environment (`SFOX_REDIS_URL`), never on the command line.
 */
import { UserTokenService } from "@sfox-effect/core"
import { NodeSfox } from "@sfox-effect/node"
import { RedisRateLimiter } from "@sfox-effect/redis"
import { Effect, Layer, Logger, LogLevel, Redacted } from "effect"
import * as Readline from "node:readline"
import type { WorkerOptions, WorkerResult } from "../shared/SharedRateLimit.js"

export type { WorkerOptions, WorkerResult }

const options = JSON.parse(process.argv[2] ?? "{}") as WorkerOptions

const waitForGo = Effect.async<void>((resume) => {
  const lines = Readline.createInterface({ input: process.stdin })
  lines.on("line", (line) => {
    if (line.trim() === "go") resume(Effect.void)
  })
})

const program = Effect.gen(function*() {
  const tokens = yield* UserTokenService
  process.stdout.write("ready\n")
  yield* waitForGo
  const started = Date.now()
  const failures: Record<string, number> = {}
  let ok = 0
  yield* Effect.forEach(
    Array.from({ length: options.count }, (_, i) => `${options.name}-${i}`),
    (id) =>
      tokens.create(id).pipe(
        Effect.match({
          onSuccess: () => void ok++,
          onFailure: (error) => {
            failures[error._tag] = (failures[error._tag] ?? 0) + 1
          }
        })
      ),
    { concurrency: options.concurrency, discard: true }
  )
  const result: WorkerResult = {
    name: options.name,
    ok,
    failures,
    elapsedMillis: Date.now() - started
  }
  process.stdout.write(`${JSON.stringify(result)}\n`)
})

const redisUrl = process.env.SFOX_REDIS_URL ?? ""
const service = UserTokenService.layer({
  apiKey: Redacted.make(options.apiKey),
  baseUrl: options.baseUrl,
  timeout: options.timeoutMillis,
  deadline: options.deadlineMillis,
  rateLimit: options.redis ? false : { limit: options.limit, interval: options.intervalMillis }
}).pipe(Layer.provide(NodeSfox.httpClient))

const layer = options.redis
  ? service.pipe(
    Layer.provide(RedisRateLimiter.layer({
      url: Redacted.make(redisUrl),
      limit: options.limit,
      interval: options.intervalMillis,
      prefix: options.prefix,
      commandTimeout: options.commandTimeoutMillis
    }))
  )
  : service

// stdout is the protocol with the parent (one JSON line): the service's own
// log lines (a 429 is a Warning) go to stderr.
const toStderr = Logger.replace(Logger.defaultLogger, Logger.withConsoleError(Logger.logfmtLogger))

Effect.runPromise(
  program.pipe(Effect.provide(layer), Effect.provide(toStderr), Logger.withMinimumLogLevel(LogLevel.Warning))
).then(() => process.exit(0), (error) => {
  process.stderr.write(`${String(error)}\n`)
  process.exit(1)
})
