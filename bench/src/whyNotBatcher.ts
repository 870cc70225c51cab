/**
 * `TSX_TSCONFIG_PATH=bench/tsconfig.json node --expose-gc --import tsx bench/src/whyNotBatcher.ts [rounds]`:
 * "Why not Effect's …" for the batcher behind `get` and the token cache.
 *
 * (a) 10,000 concurrent callers, each its own fiber (as the requests of a
 *     server are), each asking for one user's token, over one in-memory batch
 *     endpoint (5 ms latency, counted): our batcher (maxBatchSize 100,
 *     concurrency 4, window 5 ms: the service's defaults); Effect's
 *     `RequestResolver.makeBatched` + `Effect.request` (callers in their own
 *     fibers; and, for its best case, all in one `Effect.forEach` with
 *     `batching: true`, capped by `RequestResolver.batchN(100)`); and
 *     @effect/experimental's `dataLoader` (window 5 ms, maxBatchSize 100)
 *     when it is in node_modules.
 * (b) 1,000,000 lookups that hit, over 10,000 users: our TokenCache
 *     (synchronous, and inside an Effect as `get` uses it) and
 *     `Cache.make`.
 *
 * Runs the sources (the base tsconfig's paths): the batcher is internal.
 */
import { Cache, Duration, Effect, Exit, Request, RequestResolver } from "effect"
import type * as Scope from "effect/Scope"
import * as Fs from "node:fs"
import * as Path from "node:path"
import * as Batcher from "../../packages/core/src/internal/batcher.js"
import * as TokenCache from "../../packages/core/src/internal/tokenCache.js"
import type { UserAuthToken } from "../../packages/core/src/UserAuthToken.js"

const callers = 10_000
const latencyMillis = 5
const rounds = Number(process.argv[2] ?? 5)
const ids = Array.from({ length: callers }, (_, i) => `user-${i}`)

/** The endpoint every contender calls: one batch in, one token per id out, after `latencyMillis`. */
const endpoint = () => {
  const stats = { batches: 0, ids: 0, largest: 0, inFlight: 0, mostInFlight: 0 }
  const call = (batch: ReadonlyArray<string>) =>
    Effect.async<ReadonlyMap<string, string>>((resume) => {
      stats.batches++
      stats.ids += batch.length
      stats.largest = Math.max(stats.largest, batch.length)
      stats.mostInFlight = Math.max(stats.mostInFlight, ++stats.inFlight)
      const handle = setTimeout(() => {
        stats.inFlight--
        resume(Effect.succeed(new Map(batch.map((id) => [id, `token-${id}`]))))
      }, latencyMillis)
      return Effect.sync(() => clearTimeout(handle))
    })
  return { stats, call }
}

type Stats = ReturnType<typeof endpoint>["stats"]

interface Measure {
  readonly wallMillis: number
  readonly cpuMillis: number
  readonly heapMB: number
  readonly stats: Stats
}

const gc = (globalThis as { gc?: () => void }).gc ?? (() => {})

/** Runs `program` once, measuring wall time, CPU time and the heap it grew by. */
const measure = async (program: (call: ReturnType<typeof endpoint>["call"]) => Effect.Effect<unknown>) => {
  const { call, stats } = endpoint()
  gc()
  const heap = process.memoryUsage().heapUsed
  const cpu = process.cpuUsage()
  const start = performance.now()
  let peak = heap
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().heapUsed)), 1)
  await Effect.runPromise(program(call))
  const wallMillis = performance.now() - start
  clearInterval(sampler)
  peak = Math.max(peak, process.memoryUsage().heapUsed)
  const used = process.cpuUsage(cpu)
  return { wallMillis, cpuMillis: (used.user + used.system) / 1000, heapMB: (peak - heap) / 2 ** 20, stats }
}

// ---- (a) the batcher -------------------------------------------------------

const ours = (call: ReturnType<typeof endpoint>["call"]) =>
  Effect.scoped(Effect.gen(function*() {
    const window = yield* Batcher.clockWindow(latencyMillis)
    const batcher = yield* Batcher.make<string, never>({
      maxBatchSize: 100,
      concurrency: 4,
      window,
      hold: window,
      resolve: (batch) =>
        Effect.suspend(() => {
          const sealed = batch.seal()
          if (sealed === undefined) return Effect.interrupt
          return Effect.map(call(sealed), (tokens) => new Map(sealed.map((id) => [id, Exit.succeed(tokens.get(id)!)])))
        })
    })
    yield* Effect.forEach(ids, (id) => batcher.get(id), { concurrency: "unbounded", discard: true })
  }))

interface GetToken extends Request.Request<string> {
  readonly _tag: "GetToken"
  readonly id: string
}
const GetToken = Request.tagged<GetToken>("GetToken")

const resolverOver = (call: ReturnType<typeof endpoint>["call"]) =>
  RequestResolver.makeBatched((requests: ReadonlyArray<GetToken>) =>
    Effect.flatMap(
      call(requests.map((r) => r.id)),
      (tokens) => Effect.forEach(requests, (r) => Request.succeed(r, tokens.get(r.id)!), { discard: true })
    )
  )

/** Each caller its own fiber: what a server's requests are. */
const makeBatchedFibers = (call: ReturnType<typeof endpoint>["call"]) => {
  const resolver = resolverOver(call)
  return Effect.forEach(ids, (id) => Effect.request(GetToken({ id }), resolver), {
    concurrency: "unbounded",
    discard: true
  })
}

/** Its best case: every caller in one `forEach` with batching, 100 per batch. */
const makeBatchedOneForEach = (call: ReturnType<typeof endpoint>["call"]) => {
  const resolver = RequestResolver.batchN(resolverOver(call), 100)
  return Effect.forEach(ids, (id) => Effect.request(GetToken({ id }), resolver), {
    concurrency: "unbounded",
    batching: true,
    discard: true
  })
}

type DataLoader = <A extends Request.Request<any, any>>(
  self: RequestResolver.RequestResolver<A, never>,
  options: { readonly window: Duration.DurationInput; readonly maxBatchSize?: number }
) => Effect.Effect<RequestResolver.RequestResolver<A, never>, never, Scope.Scope>

/** @effect/experimental's `dataLoader`, found in the pnpm store (it is no dependency of the bench). */
const loadDataLoader = async (): Promise<DataLoader | undefined> => {
  const store = Path.join(import.meta.dirname, "../../node_modules/.pnpm")
  const dir = Fs.readdirSync(store).find((name) => name.startsWith("@effect+experimental@"))
  if (dir === undefined) return undefined
  const file = Path.join(store, dir, "node_modules/@effect/experimental/dist/esm/RequestResolver.js")
  return ((await import(file)) as { dataLoader: DataLoader }).dataLoader
}

const dataLoaderOver = (dataLoader: DataLoader) => (call: ReturnType<typeof endpoint>["call"]) =>
  Effect.scoped(Effect.gen(function*() {
    const resolver = yield* dataLoader(resolverOver(call), {
      window: Duration.millis(latencyMillis),
      maxBatchSize: 100
    })
    yield* Effect.forEach(ids, (id) => Effect.request(GetToken({ id }), resolver), {
      concurrency: "unbounded",
      discard: true
    })
  }))

// ---- (b) the cache ---------------------------------------------------------

const lookups = 1_000_000
const day = 24 * 60 * 60 * 1000
const tokens = ids.map((id) => ({ userId: id, expires: { epochMillis: Date.now() + day } }) as unknown as UserAuthToken)

const timed = async (run: () => Promise<unknown> | unknown) => {
  gc()
  const start = performance.now()
  await run()
  const millis = performance.now() - start
  return { millis, perSecond: lookups / (millis / 1000) }
}

const cacheBench = async () => {
  const ourCache = TokenCache.make(callers, 60_000)
  const now = Date.now()
  for (const token of tokens) ourCache.set(token, now)
  const byId = new Map(tokens.map((t) => [t.userId, t]))
  const effectCache = await Effect.runPromise(Cache.make({
    capacity: callers,
    timeToLive: Duration.hours(24),
    lookup: (id: string) => Effect.succeed(byId.get(id)!)
  }))
  await Effect.runPromise(Effect.forEach(ids, (id) => effectCache.get(id), { discard: true }))
  const key = (i: number) => ids[i % callers]!
  const ourSync = await timed(() => {
    for (let i = 0; i < lookups; i++) ourCache.get(key(i), now)
  })
  const ourEffect = await timed(() =>
    Effect.runPromise(Effect.forEach(
      Array.from({ length: lookups }, (_, i) => key(i)),
      (id) => Effect.sync(() => ourCache.get(id, Date.now())),
      { discard: true }
    ))
  )
  const theirs = await timed(() =>
    Effect.runPromise(Effect.forEach(
      Array.from({ length: lookups }, (_, i) => key(i)),
      (id) => effectCache.get(id),
      { discard: true }
    ))
  )
  return { ourSync, ourEffect, theirs }
}

// ---- the run ---------------------------------------------------------------

const median = (xs: ReadonlyArray<number>) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!
const fmt = (n: number, digits = 0) => n.toLocaleString("en-US", { maximumFractionDigits: digits })

const main = async () => {
  const dataLoader = await loadDataLoader()
  const contenders: Array<[string, (call: ReturnType<typeof endpoint>["call"]) => Effect.Effect<unknown>]> = [
    ["ours (Batcher: window 5 ms, 100/batch, 4 slots)", ours],
    ["RequestResolver.makeBatched, callers in their own fibers", makeBatchedFibers],
    ["makeBatched + batchN(100), all in one forEach (batching: true)", makeBatchedOneForEach]
  ]
  if (dataLoader !== undefined) {
    contenders.push(["@effect/experimental dataLoader (5 ms, 100/batch)", dataLoaderOver(dataLoader)])
  }
  const results = new Map<string, Array<Measure>>(contenders.map(([name]) => [name, []]))
  for (const [name, run] of contenders) {
    const m = await measure(run) // warm-up
    process.stderr.write(`warm-up ${name}: ${Math.round(m.wallMillis)} ms\n`)
  }
  for (let round = 0; round < rounds; round++) {
    for (const [name, run] of contenders) results.get(name)!.push(await measure(run))
    process.stderr.write(`round ${round + 1} of ${rounds}\n`)
  }
  console.log(`(a) ${fmt(callers)} concurrent get callers, endpoint latency ${latencyMillis} ms, median of ${rounds}`)
  console.log("| contender | wall ms | CPU ms | heap MB | batches | largest | most in flight |")
  console.log("| --- | --- | --- | --- | --- | --- | --- |")
  for (const [name, ms] of results) {
    const s = ms[0]!.stats
    console.log(
      `| ${name} | ${fmt(median(ms.map((m) => m.wallMillis)))} | ${fmt(median(ms.map((m) => m.cpuMillis)))} | ` +
        `${fmt(median(ms.map((m) => m.heapMB)), 1)} | ${fmt(s.batches)} | ${fmt(s.largest)} | ${fmt(s.mostInFlight)} |`
    )
  }
  const caches: Array<Awaited<ReturnType<typeof cacheBench>>> = []
  for (let round = 0; round < rounds; round++) caches.push(await cacheBench())
  console.log(`\n(b) ${fmt(lookups)} cache hits over ${fmt(callers)} users, median of ${rounds}`)
  console.log("| cache | ms | lookups/s |")
  console.log("| --- | --- | --- |")
  for (
    const [name, pick] of [
      ["ours (TokenCache.get, synchronous)", (c: typeof caches[number]) => c.ourSync],
      ["ours inside an Effect (as get uses it)", (c: typeof caches[number]) => c.ourEffect],
      ["Cache.make (cache.get)", (c: typeof caches[number]) => c.theirs]
    ] as const
  ) {
    const ms = median(caches.map((c) => pick(c).millis))
    console.log(`| ${name} | ${fmt(ms)} | ${fmt(lookups / (ms / 1000))} |`)
  }
}

void main()
