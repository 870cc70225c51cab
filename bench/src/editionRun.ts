/**
 * The side of scenarios 1 and 2 that runs in an edition's own process, on the Node being measured: `pnpm bench`
 * (main.ts, on the repository's Node) starts the MockSfoxServer and spawns, per (edition, Node), the edition's entry
 * with `--edition-run 1|2 …`. The entry (bench/src/main.ts for the 3.x line, bench-effect4/src/main.ts for the
 * Effect 4 edition) hands its clients to `editionRun`, which runs the scenario and sends its figures back over IPC.
 *
 * Effect-free and dependency-free on purpose: both editions' entries import it (each with its own Effect), so that
 * the rounds, the alternation and the timing are the same code for every row of a table.
 */

export interface Outcome {
  readonly ok: number
  readonly failed: number
}

export interface Client {
  /** Stable across editions, for the targets and the JSON: `raw`, `axios`, `stock`, `stock-nospans`, `create`, `create-limited`. */
  readonly id: string
  readonly name: string
  /** Mints one token per id, `concurrency` at a time; failures are counted, not thrown. */
  readonly mintEach: (ids: ReadonlyArray<string>, concurrency: number) => Promise<Outcome>
  readonly close: () => Promise<void>
}

/** Runs `f` over `items` with at most `concurrency` promises pending. */
export const pool = async <A>(
  items: ReadonlyArray<A>,
  concurrency: number,
  f: (item: A) => Promise<boolean>
): Promise<Outcome> => {
  let next = 0
  let ok = 0
  let failed = 0
  const worker = async () => {
    while (next < items.length) {
      const item = items[next++]!
      if (await f(item)) ok++
      else failed++
    }
  }
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker))
  return { ok, failed }
}

export const ids = (n: number, prefix: string) => Array.from({ length: n }, (_, i) => `${prefix}-${i}`)
export const median = (xs: ReadonlyArray<number>) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!
export const fmt = (n: number, digits = 0) => n.toLocaleString("en-US", { maximumFractionDigits: digits })
export const log = (line: string) => process.stderr.write(`${line}\n`)

/** Scenario 2's ways of minting 10,000 tokens: the seed's loop, `createMany`, and one `get` per user, all at once. */
export type Scenario2Mode = "seed" | "createMany" | "get"

export interface Edition {
  /** Scenario 1's clients, the floor (raw undici) first and the seed's axios second, all in this process. */
  readonly scenario1: (url: string, key: string) => ReadonlyArray<Client>
  /** Mints one token per user the scenario 2 way `mode`; the number of tokens that went to the right user. */
  readonly scenario2: (mode: Scenario2Mode, url: string, key: string, users: ReadonlyArray<string>) => Promise<number>
}

export interface Scenario1Row {
  readonly id: string
  readonly client: string
  readonly mintsPerSecond: number
  readonly runs: ReadonlyArray<number>
}

export interface Scenario1Run {
  readonly node: string
  readonly results: ReadonlyArray<Scenario1Row>
  /** The raw undici of this process, the same Node, the same run: what the ratios are against. */
  readonly floor: number
  readonly axios: number
}

export interface Scenario2Run {
  readonly node: string
  readonly wallMs: number
  readonly tokens: number
}

/** Mints per client before scenario 1's rounds, for the JIT and the connections. */
export const warmUp = 2_000

const scenario1 = async (clients: ReadonlyArray<Client>, count: number, rounds: number): Promise<Scenario1Run> => {
  for (const client of clients) await client.mintEach(ids(warmUp, "warm"), 50)
  const runs = new Map<string, Array<number>>(clients.map((c) => [c.id, []]))
  for (let round = 0; round < rounds; round++) {
    // Each round starts with another client, so none always runs on a cold or hot server.
    const order = clients.map((_, i) => clients[(i + round) % clients.length]!)
    for (const client of order) {
      const started = performance.now()
      const outcome = await client.mintEach(ids(count, `r${round}`), 50)
      const seconds = (performance.now() - started) / 1000
      if (outcome.failed > 0) throw new Error(`${client.name}: ${outcome.failed} mints failed`)
      runs.get(client.id)!.push(count / seconds)
      log(`  ${client.name}: ${fmt(count / seconds)} mints/s`)
    }
  }
  for (const client of clients) await client.close()
  const results = clients.map((c) => ({
    id: c.id,
    client: c.name,
    mintsPerSecond: median(runs.get(c.id)!),
    runs: runs.get(c.id)!
  }))
  return { node: process.version, results, floor: results[0]!.mintsPerSecond, axios: results[1]!.mintsPerSecond }
}

const scenario2 = async (
  edition: Edition,
  mode: Scenario2Mode,
  url: string,
  warmUrl: string,
  key: string,
  count: number
) => {
  // The same run first against a server with no limit and no latency, with a client of its own: this process is
  // fresh, and the timed run should meet JIT-compiled code, as it did when scenario 2 ran after scenario 1 in one
  // process (and as a service that has been up for a while does). The timed run builds its client anew.
  await edition.scenario2(mode, warmUrl, key, ids(count, "warm"))
  const users = ids(count, "u")
  // Building the client (its layer, its agent) is part of the wall time, as it was when this ran in main.ts.
  const started = performance.now()
  const tokens = await edition.scenario2(mode, url, key, users)
  return { node: process.version, wallMs: performance.now() - started, tokens }
}

/**
 * `--edition-run 1 --url U --key K --count N --rounds R` or
 * `--edition-run 2 --mode M --url U --warm-url W --key K --count N`:
 * runs the scenario with this edition's clients and sends the figures to the parent (IPC: the child's stdout is
 * left to whatever the library or Effect might print).
 */
export const editionRun = async (args: ReadonlyArray<string>, edition: Edition): Promise<void> => {
  const flag = (name: string) => {
    const i = args.indexOf(name)
    const value = i === -1 ? undefined : args[i + 1]
    if (value === undefined) throw new Error(`--edition-run needs ${name}`)
    return value
  }
  const scenario = flag("--edition-run")
  const url = flag("--url")
  const key = flag("--key")
  const count = Number(flag("--count"))
  const result = scenario === "1"
    ? await scenario1(edition.scenario1(url, key), count, Number(flag("--rounds")))
    : scenario === "2"
    ? await scenario2(edition, flag("--mode") as Scenario2Mode, url, flag("--warm-url"), key, count)
    : undefined
  if (result === undefined) throw new Error(`--edition-run ${scenario}: scenarios 1 and 2 only`)
  await new Promise<void>((resolve, reject) => {
    if (process.send === undefined) return reject(new Error("--edition-run is spawned by main.ts, with IPC"))
    process.send(result, (error: Error | null) => (error ? reject(error) : resolve()))
  })
}

/** The entries' `main`: exit once the figures are sent (the library's agents may keep the loop alive). */
export const runAsEntry = (args: ReadonlyArray<string>, edition: Edition) =>
  editionRun(args, edition).then(() => process.exit(0), (error) => {
    log(String(error?.stack ?? error))
    process.exit(1)
  })
