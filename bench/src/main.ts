/**
 * `pnpm bench [--json FILE] [--rounds N] [--quick] [--scenario 1|2|3|4|5] [--editions 3.x@20,3.x@24,effect4@24]`:
 * every client against a MockSfoxServer in a separate process, alternating, after a warm-up.
 *
 * Scenarios 1 to 3 run once per (edition, Node) (editions.ts): the 3.x line on this process's Node (20) and on
 * Node 24, and the Effect 4 edition (bench-effect4/) on Node 24, so that the Effect 4 edition's difference from 3.x
 * is told apart from Node 24's. Each scenario's clients of an edition run in a process of their own on that Node
 * (this entry, or bench-effect4's, with `--edition-run`: editionRun.ts), against the same 3.x MockSfoxServer started
 * from here. Every ratio is against figures of the same process (scenario 1's raw undici and seed axios) or of the
 * scenario (scenario 2's floor). `--editions` runs some of the three only.
 *
 * 1. 20,000 single mints at 50 in flight: raw undici (the floor), the seed's
 *    axios code, the edition's stock @effect/platform-node undici client, and
 *    UserTokenService.create.
 * 2. 10,000 users, 30 ms server latency, sFOX's rate limit enforced by the
 *    server: the seed's axios loop (16 in flight; once, in the first run),
 *    createMany, and 10,000 concurrent get calls, each in a fresh process
 *    warmed up against a server with no limit first.
 * 3. 100,000 tokens through createMany: tokens/s and peak RSS, `--rounds`
 *    fresh processes per (edition, Node), taking turns (the median
 *    throughput, the largest RSS).
 * 4. One budget across processes (the 3.x line, this process's Node): 4 worker processes × 100 mints against a
 *    server enforcing 50 requests / 2 s (strict window, lockout, jittered
 *    latency), through one RedisRateLimiter (its own redis-server) and, as
 *    the control, with process-local limiters: requests/s against the budget
 *    and 429s.
 * 5. A real service (the 3.x line, this process's Node): an HTTP app (its own process) that mints a user's token
 *    and calls sFOX once as that user per request, on the library and as the
 *    seed's axios snippet, each driven by autocannon (50 connections over
 *    10,000 users, 20 s) against sFOX's 250 requests / 10 s (60 s lockout):
 *    served requests/s, latency, the app's non-2xx, sFOX's 429s, the share
 *    of sFOX's requests that were mints and the ids per mint.
 *
 * `--scenario N` runs scenario N alone (1 to 3: its table and the targets it judges).
 *
 * `--scenario why-not [--part retry,retry-loop,retry-behaviour,limiter,batcher]` (not part of the default
 * run): the library's own parts beside Effect's (`Effect.retry`, `RateLimiter`, `RequestResolver`,
 * `Cache`), in one process, the variants alternating; see whyNot.ts.
 *
 * A run that fails (an edition that does not build yet, a crash) is "not measured" in its tables and targets, the
 * other runs go on, and the exit status is 1.
 */
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import { edition3 } from "./clients.js"
import { fmt, log, runAsEntry, type Scenario1Run, type Scenario2Mode, warmUp } from "./editionRun.js"
import {
  allRuns,
  type EditionRun,
  editionRuns,
  labelOf,
  scenario1In,
  scenario2In,
  scenario3In,
  type Scenario3Process
} from "./editions.js"
import { realService } from "./realService.js"
import { startServer } from "./serverProcess.js"
import { sharedBudget } from "./sharedBudget.js"

const args = process.argv.slice(2)
const flag = (name: string) => {
  const i = args.indexOf(name)
  return i === -1 ? undefined : args[i + 1]
}
const quick = args.includes("--quick")
const rounds = Number(flag("--rounds") ?? (quick ? 1 : 3))
const jsonFile = flag("--json")
// One scenario alone (for profiling, or scenario 4 on its own); the targets table needs them all.
const only = flag("--scenario")
const key = "bench-key"

const table = (headers: ReadonlyArray<string>, rows: ReadonlyArray<ReadonlyArray<string>>) => {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)))
  const line = (cells: ReadonlyArray<string>) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(" | ")} |`
  return [line(headers), `| ${widths.map((w) => "-".repeat(w)).join(" | ")} |`, ...rows.map(line)].join("\n")
}

/** What a run that failed (an edition that does not build yet, a crash) leaves in the tables and the JSON. */
interface Failed {
  readonly run: string
  readonly edition: string
  readonly node: string
  readonly error: string
}

const failures: Array<Failed> = []

const attempt = async <A extends object>(
  run: EditionRun,
  what: string,
  f: () => Promise<A>
): Promise<(A & { readonly run: string; readonly edition: string }) | Failed> => {
  try {
    return { run: run.id, edition: run.edition, ...(await f()) }
  } catch (error) {
    const failed = {
      run: run.id,
      edition: run.edition,
      node: run.nodeVersion,
      error: error instanceof Error ? error.message : String(error)
    }
    log(`  ${labelOf(run)}: ${what} FAILED: ${failed.error}`)
    failures.push(failed)
    return failed
  }
}

const isFailed = (x: object): x is Failed => "error" in x

const runsOf = () => editionRuns(flag("--editions")?.split(",").filter((name) => name !== "") ?? allRuns)

const scenario1 = async (runs: ReadonlyArray<EditionRun>) => {
  const count = quick ? 4_000 : 20_000
  log(`scenario 1: ${count} single mints at 50 in flight, ${rounds} round(s), per (edition, Node)`)
  const results: Array<(Scenario1Run & { run: string; edition: string; serverMinted: number }) | Failed> = []
  for (const run of runs) {
    // A fresh server per run: each (edition, Node) meets the same server, in the same state.
    const server = await startServer({ apiKey: key })
    log(` ${labelOf(run)}`)
    results.push(
      await attempt(run, "scenario 1", async () => {
        const result = await scenario1In(run, server.url, key, count, rounds)
        // Every mint the run counted reached the server: no client answered from anywhere else.
        const minted = (await server.stats()).byStatus[201] ?? 0
        const expected = result.results.length * (warmUp + rounds * count)
        if (minted !== expected) throw new Error(`the server minted ${minted} tokens, the clients ${expected}`)
        return { ...result, serverMinted: minted }
      })
    )
    await server.stop()
  }
  return { count, concurrency: 50, rounds, runs: results }
}

type Scenario1 = Awaited<ReturnType<typeof scenario1>>

const scenario1Table = (s1: Scenario1, runs: ReadonlyArray<EditionRun>) =>
  [
    `Scenario 1: ${fmt(s1.count)} single mints at 50 in flight (median of ${s1.rounds}); ratios against the raw`,
    "undici and the seed axios of the same process (same Node, same run)",
    table(
      ["edition", "Node", "client", "mints/s", "× raw undici", "× seed axios"],
      s1.runs.flatMap((r) => {
        const node = runs.find((run) => run.id === r.run)!.nodeVersion
        return isFailed(r)
          ? [[r.edition, node, `not measured: ${r.error}`, "—", "—", "—"]]
          : r.results.map((c) => [
            r.edition,
            node,
            c.client,
            fmt(c.mintsPerSecond),
            fmt(c.mintsPerSecond / r.floor, 2),
            fmt(c.mintsPerSecond / r.axios, 2)
          ])
      })
    )
  ].join("\n")

const scenario2 = async (runs: ReadonlyArray<EditionRun>) => {
  const count = 10_000
  const latencyMs = 30
  const serverOptions = {
    apiKey: key,
    latency: `${latencyMs} millis`,
    rateLimit: { limit: 250, interval: "10 seconds", lockout: "60 seconds" }
  }
  const floorMs = Math.ceil(count / 100) / 4 * latencyMs
  log(`scenario 2: ${count} users, ${latencyMs} ms latency, 250 requests / 10 s enforced (floor ${floorMs} ms)`)
  const results: Array<
    | {
      run: string
      edition: string
      node: string
      client: string
      mode: Scenario2Mode
      wallMs: number
      requests: number
      tooMany: number
      tokens: number
    }
    | Failed
  > = []
  const names: Record<Scenario2Mode, string> = {
    seed: "seed axios loop (16 in flight)",
    createMany: "createMany",
    get: "get × 10,000 concurrent"
  }
  // Each run warms up against this one (no limit, no latency) before its timed run against a fresh limited server.
  const warm = await startServer({ apiKey: key })
  for (const run of runs) {
    // The seed's loop runs no library code and is locked out after 250 mints whatever runs it: once, in the first run.
    const modes: ReadonlyArray<Scenario2Mode> = run === runs[0] ? ["seed", "createMany", "get"] : ["createMany", "get"]
    for (const mode of modes) {
      results.push(
        await attempt(run, `scenario 2 ${mode}`, async () => {
          const server = await startServer(serverOptions)
          try {
            const { node, tokens, wallMs } = await scenario2In(run, mode, server.url, warm.url, key, count)
            const stats = await server.stats()
            const tooMany = stats.byStatus[429] ?? 0
            log(
              `  ${labelOf(run)}, ${names[mode]}: ${
                fmt(wallMs)
              } ms, ${stats.requests} requests, ${tooMany} × 429, ${tokens} tokens`
            )
            return { node, client: names[mode], mode, wallMs, requests: stats.requests, tooMany, tokens }
          } finally {
            await server.stop()
          }
        })
      )
    }
  }
  await warm.stop()
  // The seed's loop cannot mint 10,000 tokens under the limit (it is locked
  // out after 250). The fairest comparison is with the best a one-POST-per-user
  // client can do at sFOX's limit: 10,000 requests at 25 per second.
  const seedProjectedMs = count / 25 * 1000
  return { count, latencyMs, floorMs, seedProjectedMs, results }
}

type Scenario2 = Awaited<ReturnType<typeof scenario2>>

const scenario2Table = (s2: Scenario2, runs: ReadonlyArray<EditionRun>) =>
  [
    `Scenario 2: ${fmt(s2.count)} users, ${s2.latencyMs} ms latency, 250 req / 10 s enforced; floor ${
      fmt(s2.floorMs)
    } ms (the seed's loop once, on the first run: it runs no library code)`,
    table(
      ["edition", "Node", "client", "wall ms", "× floor", "HTTP requests", "429s", "tokens"],
      s2.results.map((r) => {
        const node = runs.find((run) => run.id === r.run)!.nodeVersion
        return isFailed(r)
          ? [r.edition, node, `not measured: ${r.error}`, "—", "—", "—", "—", "—"]
          : [
            r.edition,
            node,
            r.client,
            fmt(r.wallMs),
            // The seed's loop is locked out after 250 tokens: its wall time is not a pace to hold against the floor.
            r.mode === "seed" ? "—" : fmt(r.wallMs / s2.floorMs, 2),
            fmt(r.requests),
            fmt(r.tooMany),
            fmt(r.tokens)
          ]
      })
    ),
    `one POST per user at sFOX's limit (25/s) needs at least ${fmt(s2.seedProjectedMs / 1000, 1)} s for ${
      fmt(s2.count)
    } tokens`
  ].join("\n")

/**
 * Scenario 3, `rounds` fresh processes per (edition, Node), the runs taking turns (3.x on 20, 3.x on 24, Effect 4
 * on 24, then again), so that a slow minute of the machine does not fall on one edition: per run, the median
 * throughput and the largest peak RSS. One process lasts a third of a second, JIT warm-up included, and single runs
 * vary by ±15 %.
 */
const scenario3 = async (runs: ReadonlyArray<EditionRun>) => {
  const count = quick ? 20_000 : 100_000
  log(
    `scenario 3: ${count} tokens through createMany (batches of 1,000, 4 in flight), ${rounds} fresh process(es) per (edition, Node)`
  )
  const processes = new Map<string, Array<Scenario3Process>>(runs.map((run) => [run.id, []]))
  const errors = new Map<string, Failed>()
  for (let round = 0; round < rounds; round++) {
    for (const run of runs) {
      if (errors.has(run.id)) continue
      const result = await attempt(run, "scenario 3", async () => {
        const server = await startServer({ apiKey: key })
        try {
          const result = await scenario3In(run, server.url, key, count)
          if (!result.matched) throw new Error("scenario 3: a token went to the wrong user")
          log(`  ${labelOf(run)}: ${fmt(result.tokensPerSecond)} tokens/s, peak RSS ${fmt(result.peakRssMb, 1)} MB`)
          return result
        } finally {
          await server.stop()
        }
      })
      if (isFailed(result)) errors.set(run.id, result)
      else processes.get(run.id)!.push(result)
    }
  }
  const results = runs.map((run) => {
    const failed = errors.get(run.id)
    if (failed !== undefined) return failed
    const done = processes.get(run.id)!
    const middle = [...done].sort((a, b) => a.tokensPerSecond - b.tokensPerSecond)[Math.floor(done.length / 2)]!
    return {
      run: run.id,
      edition: run.edition,
      node: run.nodeVersion,
      tokens: middle.tokens,
      matched: done.every((p) => p.matched),
      wallMs: middle.wallMs,
      cpuMs: middle.cpuMs,
      tokensPerSecond: middle.tokensPerSecond,
      peakRssMb: Math.max(...done.map((p) => p.peakRssMb)),
      processes: done.map((p) => ({
        tokensPerSecond: p.tokensPerSecond,
        wallMs: p.wallMs,
        cpuMs: p.cpuMs,
        peakRssMb: p.peakRssMb
      }))
    }
  })
  return { count, batch: 1_000, rounds, results }
}

type Scenario3 = Awaited<ReturnType<typeof scenario3>>

const scenario3Table = (s3: Scenario3, runs: ReadonlyArray<EditionRun>) => {
  const ok = s3.results.flatMap((r) => isFailed(r) ? [] : [r])
  return [
    `Scenario 3: ${fmt(s3.count)} tokens through createMany (median of ${s3.rounds} fresh processes per row; peak RSS:`,
    "the largest); × 3.x: against the 3.x line on the same Node",
    table(
      ["edition", "Node", "tokens/s", "× 3.x", "wall ms", "client CPU ms", "peak RSS MB"],
      s3.results.map((r) => {
        const run = runs.find((run) => run.id === r.run)!
        if (isFailed(r)) return [r.edition, run.nodeVersion, `not measured: ${r.error}`, "—", "—", "—", "—"]
        const sameNode = ok.find((o) => o.edition === "3.x" && o.node === r.node)
        return [
          r.edition,
          r.node,
          fmt(r.tokensPerSecond),
          sameNode === undefined ? "—" : fmt(r.tokensPerSecond / sameNode.tokensPerSecond, 2),
          fmt(r.wallMs),
          fmt(r.cpuMs),
          fmt(r.peakRssMb, 1)
        ]
      })
    )
  ].join("\n")
}

const scenario4 = () => sharedBudget({ processes: 4, perProcess: quick ? 60 : 100, limit: 50, intervalMs: 2_000, log })

type Scenario4 = Awaited<ReturnType<typeof scenario4>>

const scenario4Table = (s4: Scenario4) =>
  [
    `Scenario 4: ${s4.processes} processes × ${s4.perProcess} mints, ${s4.limit} req / ${
      fmt(s4.intervalMs)
    } ms enforced (budget ${s4.budgetPerSecond} req/s; floor ${fmt(s4.minimumMs)} ms)`,
    table(
      ["limiter", "minted", "wall ms", "req/s", "× budget", "429s"],
      s4.results.map((r) => [
        r.limiter,
        `${fmt(r.minted)} / ${fmt(s4.processes * s4.perProcess)}`,
        fmt(r.wallMs),
        fmt(r.requestsPerSecond, 1),
        fmt(r.requestsPerSecond / s4.budgetPerSecond, 2),
        fmt(r.tooMany)
      ])
    )
  ].join("\n")

const scenario5 = () =>
  realService({
    seconds: quick ? 5 : 20,
    connections: 50,
    users: 10_000,
    limit: 250,
    intervalMs: 10_000,
    lockoutMs: 60_000,
    latencyMs: 20,
    jitterMs: 40,
    log
  })

type Scenario5 = Awaited<ReturnType<typeof scenario5>>

const scenario5Table = (s5: Scenario5) =>
  [
    `Scenario 5: an HTTP app minting per request, ${s5.connections} connections over ${
      fmt(s5.users)
    } users, ${s5.seconds} s each; sFOX enforcing ${s5.limit} req / ${fmt(s5.intervalMs)} ms (${s5.latencyMs}-${
      s5.latencyMs + s5.jitterMs
    } ms latency)`,
    table(
      [
        "app",
        "served/s",
        "p50 ms",
        "p99 ms",
        "non-2xx",
        "sFOX requests",
        "429s",
        "mints / requests",
        "ids per mint (mean / median)"
      ],
      s5.results.map((r) => [
        r.app,
        fmt(r.servedPerSecond, 1),
        fmt(r.p50Ms),
        fmt(r.p99Ms),
        fmt(r.nonOk),
        fmt(r.sfox.requests),
        fmt(r.tooMany),
        `${fmt(r.sfox.mintRequests)} / ${fmt(r.sfox.requests)} (${fmt(r.sfox.mintShare * 100, 1)} %)`,
        `${fmt(r.sfox.meanBatchSize, 1)} / ${fmt(r.sfox.medianBatchSize)}`
      ])
    )
  ].join("\n")

/** Writes `--json`'s file, its directory too (`.bench/` is not in the repository). */
const writeJson = (file: string, value: unknown) => {
  Fs.mkdirSync(Path.dirname(file), { recursive: true })
  Fs.writeFileSync(file, JSON.stringify(value, null, 2))
}

const machineOf = () => ({
  cpus: Os.cpus().length,
  cpu: Os.cpus()[0]?.model ?? "unknown",
  memoryGb: Math.round(Os.totalmem() / 2 ** 30),
  node: process.version,
  platform: `${Os.platform()} ${Os.release()}`
})

/** `--scenario why-not`: loaded only when asked for, so that the default run neither pays for it nor needs it. */
const whyNot = async (header: string, machine: ReturnType<typeof machineOf>) => {
  const { runWhyNot } = await import("./whyNot.js")
  const parts = flag("--part")?.split(",").filter((part) => part !== "") ?? []
  const { figures, printed } = await runWhyNot(parts, {
    quick,
    rounds: Number(flag("--rounds") ?? (quick ? 3 : 5)),
    count: Number(flag("--count") ?? (quick ? 10_000 : 40_000)),
    log
  })
  process.stdout.write(`${header}${printed}\n`)
  if (jsonFile !== undefined) writeJson(jsonFile, { machine, whyNot: figures })
}

interface Target {
  readonly edition: string
  /** The (edition, Node) it is judged on. */
  readonly run: string
  readonly target: string
  /** Undefined: the run it is judged on failed. */
  readonly value: number | undefined
  readonly goal: number
  readonly atMost: boolean
  readonly met: boolean | undefined
}

interface Scenarios {
  readonly s1?: Scenario1
  readonly s2?: Scenario2
  readonly s3?: Scenario3
  readonly s4?: Scenario4
}

/**
 * The targets of the scenarios that ran: the 3.x line's (issue 22), judged on the 3.x line on main.ts's own Node as
 * before, and the Effect 4 edition's (issue 23), judged on its run, both against figures of their own run only (the
 * 0.7× is against the raw undici of the Effect 4 edition's process).
 */
const targetsOf = ({ s1, s2, s3, s4 }: Scenarios, runs: ReadonlyArray<EditionRun>): ReadonlyArray<Target> => {
  const targets: Array<Target> = []
  const add = (
    run: EditionRun | undefined,
    target: string,
    value: number | undefined,
    goal: number,
    atMost = false
  ) => {
    if (run === undefined) return
    const met = value === undefined ? undefined : atMost ? value <= goal : value >= goal
    targets.push({ edition: run.edition, run: run.id, target, value, goal, atMost, met })
  }
  const s1Ratio = (run: EditionRun | undefined, id: string, against: "floor" | "axios") => {
    const r = s1?.runs.find((r) => r.run === run?.id)
    if (r === undefined || isFailed(r)) return undefined
    const client = r.results.find((c) => c.id === id)
    return client === undefined ? undefined : client.mintsPerSecond / r[against]
  }
  const s2Of = (run: EditionRun | undefined, mode: Scenario2Mode) => {
    const r = s2?.results.find((r) => r.run === run?.id && !isFailed(r) && r.mode === mode)
    return r === undefined || isFailed(r) ? undefined : r
  }
  const s3Of = (run: EditionRun | undefined) => {
    const r = s3?.results.find((r) => r.run === run?.id)
    return r === undefined || isFailed(r) ? undefined : r
  }
  const v3 = runs.find((run) => run.edition === "3.x")
  const v4 = runs.find((run) => run.edition === "Effect 4")
  if (s1 !== undefined) {
    add(v3, "1: create ≥ 0.6× raw undici (rateLimit: false)", s1Ratio(v3, "create", "floor"), 0.6)
    add(v3, "1: create ≥ 0.6× raw undici (limiter on)", s1Ratio(v3, "create-limited", "floor"), 0.6)
    add(v3, "1: create ≥ 2× seed axios (rateLimit: false)", s1Ratio(v3, "create", "axios"), 2)
    add(v3, "1: create ≥ 2× seed axios (limiter on)", s1Ratio(v3, "create-limited", "axios"), 2)
  }
  if (s2 !== undefined) {
    const createMany = s2Of(v3, "createMany")
    const get = s2Of(v3, "get")
    add(v3, "2: createMany within 2× floor", createMany && createMany.wallMs / s2.floorMs, 2, true)
    add(v3, "2: get within 2× floor", get && get.wallMs / s2.floorMs, 2, true)
    add(v3, "2: zero 429s (createMany, get)", createMany && get && createMany.tooMany + get.tooMany, 0, true)
    add(
      v3,
      "2: createMany ≥ 50× faster than one POST per user at sFOX's limit",
      createMany && s2.seedProjectedMs / createMany.wallMs,
      50
    )
    add(v3, "2: get ≥ 50× faster than one POST per user at sFOX's limit", get && s2.seedProjectedMs / get.wallMs, 50)
  }
  if (s3 !== undefined) {
    add(v3, "3: ≥ 300,000 tokens/s", s3Of(v3)?.tokensPerSecond, 300_000)
    add(v3, "3: peak RSS < 200 MB", s3Of(v3)?.peakRssMb, 200, true)
  }
  if (s4 !== undefined) {
    // Scenario 4 runs the 3.x line on main.ts's Node only.
    const onMain = runs.find((run) => run.id === v3?.id) ?? v3
    add(onMain, "4: zero 429s through Redis", s4.results[0]!.tooMany, 0, true)
    add(onMain, "4: pace within 25 % of the floor", s4.results[0]!.wallMs / s4.minimumMs, 1.25, true)
  }
  if (s1 !== undefined) {
    add(v4, "1: create ≥ 0.7× raw undici (rateLimit: false)", s1Ratio(v4, "create", "floor"), 0.7)
    add(v4, "1: create ≥ 0.7× raw undici (limiter on)", s1Ratio(v4, "create-limited", "floor"), 0.7)
  }
  if (s2 !== undefined) {
    const get = s2Of(v4, "get")
    add(v4, "2: 10,000 concurrent get ≤ 1.3× the floor", get && get.wallMs / s2.floorMs, 1.3, true)
  }
  if (s3 !== undefined) add(v4, "3: ≥ 400,000 tokens/s", s3Of(v4)?.tokensPerSecond, 400_000)
  return targets
}

const targetsTable = (targets: ReadonlyArray<Target>, runs: ReadonlyArray<EditionRun>) =>
  [
    "Targets (3.x: issue 22's, on the first 3.x run; Effect 4: issue 23's)",
    table(
      ["edition", "Node", "target", "measured", "met"],
      targets.map((t) => [
        t.edition,
        runs.find((run) => run.id === t.run)!.nodeVersion,
        t.target,
        t.value === undefined ? "—" : fmt(t.value, Math.abs(t.value) >= 1_000 ? 0 : 2),
        t.met === undefined ? "not measured (its run failed)" : t.met ? "yes" : "NO"
      ])
    )
  ].join("\n")

const runsLine = (runs: ReadonlyArray<EditionRun>) =>
  `runs: ${runs.map((run) => `${run.id} = ${labelOf(run)} (${run.node})`).join("; ")}`

/** `--scenario N` alone: its table, the targets it can judge, and `--json`'s file with its figures. */
const runOnly = async (scenario: string, machine: ReturnType<typeof machineOf>) => {
  const header = `machine: ${machine.cpus} × ${machine.cpu}, Node ${machine.node}\n\n`
  if (scenario === "why-not") return whyNot(header, machine)
  if (scenario === "4" || scenario === "5") {
    const [name, result, printed] = scenario === "4"
      ? await scenario4().then((s4) => ["scenario4", s4, scenario4Table(s4)] as const)
      : await scenario5().then((s5) => ["scenario5", s5, scenario5Table(s5)] as const)
    process.stdout.write(`${header}${printed}\n`)
    if (jsonFile !== undefined) writeJson(jsonFile, { machine, [name]: result })
    return
  }
  if (scenario !== "1" && scenario !== "2" && scenario !== "3") {
    throw new Error(`--scenario ${scenario}: 1 to 5 or why-not`)
  }
  const runs = runsOf()
  const [name, scenarios, printed] = scenario === "1"
    ? await scenario1(runs).then((s1) => ["scenario1", { s1 }, scenario1Table(s1, runs)] as const)
    : scenario === "2"
    ? await scenario2(runs).then((s2) => ["scenario2", { s2 }, scenario2Table(s2, runs)] as const)
    : await scenario3(runs).then((s3) => ["scenario3", { s3 }, scenario3Table(s3, runs)] as const)
  const targets = targetsOf(scenarios, runs)
  process.stdout.write(`${header}${runsLine(runs)}\n\n${printed}\n\n${targetsTable(targets, runs)}\n`)
  if (jsonFile !== undefined) {
    writeJson(jsonFile, { machine, runs, [name]: Object.values(scenarios)[0], targets, failures })
  }
}

const main = async () => {
  if (args.includes("--edition-run")) return runAsEntry(args, edition3)
  const machine = machineOf()
  if (only !== undefined) return runOnly(only, machine)
  const runs = runsOf()
  const s1 = await scenario1(runs)
  const s3 = await scenario3(runs)
  const s2 = await scenario2(runs)
  const s4 = await scenario4()
  const s5 = await scenario5()
  const targets = targetsOf({ s1, s2, s3, s4 }, runs)

  const out = [
    `machine: ${machine.cpus} × ${machine.cpu}, ${machine.memoryGb} GiB, Node ${machine.node}`,
    runsLine(runs),
    "",
    scenario1Table(s1, runs),
    "",
    scenario2Table(s2, runs),
    "",
    scenario3Table(s3, runs),
    "",
    scenario4Table(s4),
    "",
    scenario5Table(s5),
    "",
    targetsTable(targets, runs)
  ].join("\n")
  process.stdout.write(`${out}\n`)
  if (jsonFile !== undefined) {
    writeJson(jsonFile, {
      machine,
      runs,
      scenario1: s1,
      scenario2: s2,
      scenario3: s3,
      scenario4: s4,
      scenario5: s5,
      targets,
      failures
    })
    log(`wrote ${jsonFile}`)
  }
}

main().then(() => {
  // A run that failed is in the tables as "not measured"; the exit status says so too.
  if (failures.length > 0) log(`${failures.length} run(s) failed: ${failures.map((f) => f.run).join(", ")}`)
  process.exit(failures.length > 0 ? 1 : 0)
}, (error) => {
  log(String(error?.stack ?? error))
  process.exit(1)
})
