/**
 * One client alone against a bench server, to see where its time goes:
 *
 *     pnpm build
 *     BENCH_SERVER_CPU=1 TSX_TSCONFIG_PATH=bench/tsconfig.run.json \
 *       taskset -c 0 node [--cpu-prof] --import tsx bench/src/profile.ts <variant> [count]
 *
 * Variants: `raw` (undici.request), `effect` (the same in `Effect.tryPromise`),
 * `handler` (an `Effect.async` over undici's dispatch handler), `client`
 * (NodeSfox's HttpClient alone), `create`, `limited` (`create` with the limiter
 * on, never waiting), `bare` (`create` without retries).
 * Pinned as above, client and server each on a core of their own, the
 * figures vary far less than on a shared machine.
 */
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import { UserTokenService } from "@sfox-effect/core"
import { NodeSfox } from "@sfox-effect/node"
import { Effect, Layer, ManagedRuntime, Redacted, Schedule } from "effect"
import * as Undici from "undici"
import { startServer } from "./serverProcess.js"

const [variant = "create", count = "20000"] = process.argv.slice(2)
const key = "bench-key"

const main = async () => {
  const server = await startServer({ apiKey: key })
  const client = NodeSfox.httpClientWith({ connections: 64 })
  const options = variant === "bare"
    ? { retry: Schedule.stop, rateLimit: false as const }
    : variant === "limited"
    // The limiter on, with a budget it never reaches (as scenario 1 runs it).
    ? { rateLimit: { limit: 1_000_000, interval: "10 seconds" as const } }
    : { rateLimit: false as const }
  const runtime = ManagedRuntime.make(
    Layer.merge(
      UserTokenService.layer({ apiKey: Redacted.make(key), baseUrl: server.url, ...options }).pipe(
        Layer.provide(client),
        Layer.orDie
      ),
      client
    )
  )
  const ids = (n: number, p: string) => Array.from({ length: n }, (_, i) => `${p}${i}`)
  const agent = new Undici.Agent({ connections: 64 })
  const headers = { authorization: `Bearer ${key}`, accept: "application/json" }
  const mint = (id: string): Effect.Effect<unknown, unknown, HttpClient.HttpClient | UserTokenService> =>
    variant === "handler"
      ? Effect.async<unknown, Error>((resume) => {
        const chunks: Array<Buffer> = []
        agent.dispatch({
          origin: server.url,
          path: `/v1/enterprise/user-tokens/${id}`,
          method: "POST",
          headers
        }, {
          onConnect() {},
          onHeaders(status: number, raw: Array<Buffer>) {
            if (status < 200) return true
            Undici.util.parseHeaders(raw)
            return true
          },
          onData(chunk: Buffer) {
            chunks.push(chunk)
            return true
          },
          onComplete() {
            const text = chunks.length === 1 ? chunks[0]!.toString() : Buffer.concat(chunks).toString()
            resume(Effect.succeed(JSON.parse(text)))
          },
          onError(e: Error) {
            resume(Effect.fail(e))
          }
        } as unknown as Undici.Dispatcher.DispatchHandler)
      })
      : variant === "effect"
      ? Effect.tryPromise(() =>
        Undici.request(`${server.url}/v1/enterprise/user-tokens/${id}`, { method: "POST", headers, dispatcher: agent })
          .then((r) => r.body.json())
      )
      : variant === "client"
      ? Effect.flatMap(HttpClient.HttpClient, (c) =>
        c.execute(
          HttpClientRequest.post(`${server.url}/v1/enterprise/user-tokens/${id}`, {
            headers: { authorization: `Bearer ${key}` }
          })
        ).pipe(Effect.flatMap((r) => r.text)))
      : Effect.flatMap(UserTokenService, (s) => s.create(id))
  const run = (n: number, p: string) =>
    runtime.runPromise(
      Effect.forEach(ids(n, p), (id) => Effect.asVoid(mint(id)), {
        concurrency: Number(process.env.CONC ?? 50),
        discard: true
      })
    )
  if (variant === "raw") {
    const { rawUndici } = await import("./clients.js")
    const raw = rawUndici(server.url, key)
    await raw.mintEach(ids(3000, "w"), Number(process.env.CONC ?? 50))
    const t0 = performance.now()
    const cpu0 = process.cpuUsage()
    await raw.mintEach(ids(Number(count), "m"), Number(process.env.CONC ?? 50))
    const cpu = process.cpuUsage(cpu0)
    const s = (performance.now() - t0) / 1000
    process.stderr.write(
      `raw: ${Math.round(Number(count) / s)} mints/s, ${
        ((cpu.user + cpu.system) / Number(count)).toFixed(1)
      } µs CPU per mint\n`
    )
    await raw.close()
    await runtime.dispose()
    await server.stop()
    return
  }
  await run(3000, "w")
  const t0 = performance.now()
  const cpu0 = process.cpuUsage()
  await run(Number(count), "m")
  const cpu = process.cpuUsage(cpu0)
  const s = (performance.now() - t0) / 1000
  const cpuMicros = (cpu.user + cpu.system) / Number(count)
  process.stderr.write(
    `${variant}: ${Math.round(Number(count) / s)} mints/s, ${cpuMicros.toFixed(1)} µs CPU per mint\n`
  )
  await runtime.dispose()
  await server.stop()
}
main().then(() => process.exit(0))
