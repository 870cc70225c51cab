/**
 * Scenario 3 for the Effect 4 edition, in a process of its own on Node 24, so its peak RSS is the client's alone:
 * 100,000 tokens through createMany, every token checked against its user. The same run as
 * bench/src/scenario3.mjs (the 3.x line's), over the Effect 4 packages.
 *
 * Plain JavaScript over the built packages (`pnpm build` first), run by plain `node`: a TypeScript loader in the
 * process would count its own compiler and module cache (about 90 MB) as the library's memory.
 */
import { UserTokenService } from "@sfox-effect/effect4-core"
import { NodeSfox } from "@sfox-effect/effect4-node"
import { Layer, ManagedRuntime, Redacted } from "effect"

const [url = "", key = "", count = "100000", batch = "1000"] = process.argv.slice(2)
const total = Number(count)
const runtime = ManagedRuntime.make(
  UserTokenService.layer({ apiKey: Redacted.make(key), baseUrl: url, maxBatchSize: Number(batch), batchConcurrency: 4 })
    .pipe(Layer.provide(NodeSfox.httpClientWith({ connections: 8 })), Layer.orDie)
)

const mintAll = (ids) => runtime.runPromise(UserTokenService.use((service) => service.createMany(ids)))

const main = async () => {
  await mintAll(Array.from({ length: 10_000 }, (_, i) => `warm-${i}`))
  const ids = Array.from({ length: total }, (_, i) => `user-${i}`)
  const started = performance.now()
  const cpu0 = process.cpuUsage()
  const tokens = await mintAll(ids)
  const wallMs = performance.now() - started
  const cpu = process.cpuUsage(cpu0)
  const matched = tokens.every((token, i) => token.userId === ids[i])
  await runtime.dispose()
  process.stdout.write(
    `${
      JSON.stringify({
        tokens: tokens.length,
        matched,
        wallMs,
        // The client's own CPU over the run: near `wallMs` when it, not the server, sets the pace.
        cpuMs: (cpu.user + cpu.system) / 1000,
        tokensPerSecond: tokens.length / (wallMs / 1000),
        peakRssMb: process.resourceUsage().maxRSS / 1024
      })
    }\n`
  )
}

main().then(() => process.exit(0), (error) => {
  process.stderr.write(`${error}\n`)
  process.exit(1)
})
