/**
 * `TSX_TSCONFIG_PATH=bench/tsconfig.run.json node --import tsx bench/src/micro.ts [count]` (after `pnpm build`): the service's own CPU cost
 * per create, over an HttpClient that answers at once from memory (no
 * sockets), so that nothing but the library is measured.
 */
import * as HttpClient from "@effect/platform/HttpClient"
import type * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import { UserTokenService } from "@sfox-effect/core"
import * as ClientProtocol from "@sfox-effect/core/internal/clientProtocol"
import { Effect, Layer, ManagedRuntime, Redacted } from "effect"

const count = Number(process.argv[2] ?? 100_000)
const body = JSON.stringify({
  data: { token: "a".repeat(64), partner_user_id: "user", expires: new Date(Date.now() + 86_400_000).toISOString() }
})
// Only what the service reads of a response: building a web Response per call
// would cost more than the service itself.
const answer = {
  status: 201,
  headers: { "content-type": "application/json", "content-length": String(Buffer.byteLength(body)) },
  text: Effect.succeed(body)
} as unknown as HttpClientResponse.HttpClientResponse
const makeInstant = () =>
  HttpClient.makeWith(
    (request) => Effect.as(request, answer),
    Effect.succeed as HttpClient.HttpClient.Preprocess<never, never>
  )
// MICRO_LIMIT=1: through the in-process rate limiter, with turns that never run out.
// As the Node client declares itself (MICRO_PLAIN=0 measures the path of any other client).
const instant = process.env.MICRO_PLAIN === "0"
  ? makeInstant()
  : ClientProtocol.declare(ClientProtocol.enforcedBy(makeInstant()))

const runtime = ManagedRuntime.make(
  UserTokenService.layer({
    apiKey: Redacted.make("k"),
    rateLimit: process.env.MICRO_LIMIT === "1" ? { limit: 1_000_000, interval: "10 seconds" } : false
  }).pipe(
    Layer.provide(Layer.succeed(HttpClient.HttpClient, instant)),
    Layer.orDie
  )
)
const run = (n: number) =>
  runtime.runPromise(
    Effect.flatMap(UserTokenService, (s) =>
      Effect.forEach(Array.from({ length: n }, () => "user"), s.create, { concurrency: 50, discard: true }))
  )

const main = async () => {
  await run(10_000)
  const cpu0 = process.cpuUsage()
  const t0 = performance.now()
  await run(count)
  const cpu = process.cpuUsage(cpu0)
  const ms = performance.now() - t0
  process.stderr.write(
    `${count} creates: ${((cpu.user + cpu.system) / count).toFixed(1)} µs CPU each, ${
      Math.round(count / (ms / 1000))
    } /s\n`
  )
  await runtime.dispose()
}
main()
