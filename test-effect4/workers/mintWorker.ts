/**
 * One worker process of the Effect 4 edition's multi-process rate-limit
 * tests (the port of test/workers/mintWorker.ts): builds its own
 * `UserTokenService` (and, with `redis`, its own `RedisRateLimiter`), says
 * `ready` on stdout, waits for `go` on stdin, mints `count` tokens one
 * `create` each with `concurrency` in flight, and prints one JSON line: how
 * many succeeded, the failures by tag, and the time it took.
 *
 * Options arrive as JSON in argv[2] (see `WorkerOptions`, shared with the 3.x
 * worker). The Redis URL comes in the environment (`SFOX_REDIS_URL`), never
 * on the command line.
 */
import { UserTokenService } from "@sfox-effect/effect4-core"
import { NodeSfox } from "@sfox-effect/effect4-node"
import { RedisRateLimiter } from "@sfox-effect/effect4-redis"
import { Effect, Layer, Logger, Redacted, References } from "effect"
import * as Readline from "node:readline"
import type { WorkerOptions, WorkerResult } from "../../test/shared/SharedRateLimit.js"

const options = JSON.parse(process.argv[2] ?? "{}") as WorkerOptions

const waitForGo = Effect.callback<void>((resume) => {
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
const toStderr = Logger.layer([Logger.withConsoleError(Logger.formatLogFmt)])

Effect.runPromise(
  program.pipe(
    Effect.provide(layer),
    Effect.provide(toStderr),
    Effect.provideService(References.MinimumLogLevel, "Warn")
  )
).then(() => process.exit(0), (error) => {
  process.stderr.write(`${String(error)}\n`)
  process.exit(1)
})
