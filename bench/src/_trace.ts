import * as HttpClient from "@effect/platform/HttpClient"
import { UserTokenService } from "@sfox-effect/core"
import { NodeSfox } from "@sfox-effect/node"
import { Effect, Layer, ManagedRuntime, Redacted } from "effect"
import { startServer } from "./serverProcess.js"
const key = "bench-key"
const main = async () => {
  const server = await startServer({ apiKey: key, latency: "30 millis", rateLimit: { limit: 250, interval: "10 seconds", lockout: "60 seconds" } })
  const users = Array.from({ length: 10_000 }, (_, i) => `u-${i}`)
  const marks: Array<string> = []
  let t0 = 0
  const runtime = ManagedRuntime.make(UserTokenService.layer({ apiKey: Redacted.make(key), baseUrl: server.url, transformClient: (c) => c.pipe(HttpClient.tapRequest(() => Effect.sync(() => marks.push(`req ${Math.round(performance.now() - t0)}`))), HttpClient.tap(() => Effect.sync(() => marks.push(`res ${Math.round(performance.now() - t0)}`)))) }).pipe(Layer.provide(NodeSfox.httpClientWith({ connections: 64 })), Layer.orDie))
  await runtime.runPromise(Effect.void)
  t0 = performance.now()
  let first = 0
  await runtime.runPromise(Effect.flatMap(UserTokenService, (s) => Effect.forEach(users, (id) => { first++; if (first === 1 || first === 100 || first === 10000) marks.push(`get#${first} ${Math.round(performance.now() - t0)}`); return s.get(id) }, { concurrency: "unbounded" })))
  marks.push(`done ${Math.round(performance.now() - t0)}`)
  console.log(marks.filter((_, i) => i < 12 || i % 20 === 0 || i > marks.length - 4).join(", "))
  await runtime.dispose(); await server.stop()
}
main().then(() => process.exit(0))
