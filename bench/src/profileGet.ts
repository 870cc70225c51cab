/**
 * `node --cpu-prof --import tsx bench/src/profileGet.ts [count]`: scenario 2's
 * `get` run alone (10,000 concurrent callers, 30 ms latency, the rate limit
 * enforced by the server), to see where its time goes.
 */
import { UserTokenService } from "@sfox-effect/core"
import { Effect } from "effect"
import { serviceRuntime } from "./clients.js"
import { startServer } from "./serverProcess.js"

const count = Number(process.argv[2] ?? 10_000)
const key = "bench-key"

const main = async () => {
  const serverOptions = {
    apiKey: key,
    latency: "30 millis",
    rateLimit: { limit: 250, interval: "10 seconds", lockout: "60 seconds" }
  }
  const server = await startServer(serverOptions)
  const users = Array.from({ length: count }, (_, i) => `u-${i}`)
  const runtime = serviceRuntime(server.url, key)
  if (process.env.WARM !== undefined) {
    // A warm run first (JIT, sockets), then the measured one.
    const warm = users.map((id) => `warm-${id}`)
    await runtime.runPromise(
      Effect.flatMap(UserTokenService, (service) => Effect.forEach(warm, service.get, { concurrency: "unbounded" }))
    )
  }
  const started = performance.now()
  const cpu0 = process.cpuUsage()
  const tokens = await runtime.runPromise(
    Effect.flatMap(UserTokenService, (service) => Effect.forEach(users, service.get, { concurrency: "unbounded" }))
  )
  const cpu = process.cpuUsage(cpu0)
  process.stderr.write(
    `get × ${count}: ${Math.round(performance.now() - started)} ms, ${
      Math.round((cpu.user + cpu.system) / 1000)
    } ms CPU, ${tokens.length} tokens\n`
  )
  await runtime.dispose()
  await server.stop()
}
main().then(() => process.exit(0))
