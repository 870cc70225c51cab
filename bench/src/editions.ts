/**
 * The (edition, Node) pairs scenarios 1 to 3 run on, and how main.ts starts an edition's process on its Node:
 *
 * - `3.x@20`: the 3.x line on the Node that runs `pnpm bench` (20 on this project's machines), as before;
 * - `3.x@24`: the same code on Node 24, so that the Effect 4 edition's difference from 3.x is not Node's;
 * - `effect4@24`: the Effect 4 edition (bench-effect4/) on Node 24, the Node it needs (its platform-node wants 22.19+).
 *
 * Node 24 is `node scripts/node24.mjs` (fetched once into .cache/node24). The MockSfoxServer is always the 3.x one,
 * started by main.ts in a process of its own on main.ts's Node, so the server is never what differs between rows.
 */
import * as ChildProcess from "node:child_process"
import * as Path from "node:path"
import * as Readline from "node:readline"
import type { Scenario1Run, Scenario2Run } from "./editionRun.js"

const here = Path.dirname(new URL(import.meta.url).pathname)
const root = Path.join(here, "..", "..")

export interface EditionRun {
  /** `3.x@20`, `3.x@24`, `effect4@24`: the `--editions` names and the JSON's. */
  readonly id: string
  readonly edition: "3.x" | "Effect 4"
  readonly node: string
  /** `process.version` of `node`. */
  readonly nodeVersion: string
  /** Node's arguments before `--edition-run …`: tsx's loader and the edition's entry. */
  readonly entry: ReadonlyArray<string>
  /** tsx's tsconfig: the edition's `tsconfig.run.json`, which resolves `@sfox-effect/*` to the built packages. */
  readonly tsconfig: string
  /** Scenario 3's plain-JS entry, run by plain Node over the built packages. */
  readonly scenario3: string
}

const versionOf = (node: string) =>
  ChildProcess.execFileSync(node, ["-p", "process.version"], { encoding: "utf8" }).trim()
const majorOf = (version: string) => version.replace(/^v/, "").split(".")[0]!

let node24: string | undefined
const node24Path = () =>
  node24 ??= ChildProcess.execFileSync(process.execPath, [Path.join(root, "scripts", "node24.mjs")], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "inherit"]
  }).trim().split("\n").pop()!

const make = (edition: EditionRun["edition"], node: string): EditionRun => {
  const nodeVersion = versionOf(node)
  const dir = Path.join(root, edition === "3.x" ? "bench" : "bench-effect4")
  return {
    id: `${edition === "3.x" ? "3.x" : "effect4"}@${majorOf(nodeVersion)}`,
    edition,
    node,
    nodeVersion,
    entry: ["--import", "tsx", Path.join(dir, "src", "main.ts")],
    tsconfig: Path.join(dir, "tsconfig.run.json"),
    scenario3: Path.join(dir, "src", "scenario3.mjs")
  }
}

export const allRuns = ["3.x@20", "3.x@24", "effect4@24"] as const

/**
 * The runs named by `--editions` (all three by default), in that order. `3.x@20` is the 3.x line on main.ts's own
 * Node, whatever its version (its id then says which); a pair that comes out twice (main.ts already on Node 24) is
 * run once.
 */
export const editionRuns = (names: ReadonlyArray<string>): ReadonlyArray<EditionRun> => {
  const runs: Array<EditionRun> = []
  for (const name of names) {
    const run = name === "3.x@20"
      ? make("3.x", process.execPath)
      : name === "3.x@24"
      ? make("3.x", node24Path())
      : name === "effect4@24"
      ? make("Effect 4", node24Path())
      : undefined
    if (run === undefined) throw new Error(`--editions: ${name} is none of ${allRuns.join(", ")}`)
    if (!runs.some((r) => r.id === run.id)) runs.push(run)
  }
  return runs
}

export const labelOf = (run: EditionRun) => `${run.edition} on Node ${run.nodeVersion.replace(/^v/, "")}`

/**
 * Runs `--edition-run <args>` in the edition's entry on its Node and returns what it sent back. The child's stdout
 * goes to our stderr with its progress lines, so that stdout keeps the tables alone.
 */
const spawnEdition = <A>(run: EditionRun, args: ReadonlyArray<string>) =>
  new Promise<A>((resolve, reject) => {
    const child = ChildProcess.spawn(run.node, [...run.entry, "--edition-run", ...args], {
      cwd: root,
      stdio: ["ignore", 2, "inherit", "ipc"],
      env: { ...process.env, TSX_TSCONFIG_PATH: run.tsconfig }
    })
    let result: A | undefined
    child.once("message", (message) => {
      result = message as A
    })
    child.once("error", reject)
    child.once("close", (code, signal) =>
      code === 0 && result !== undefined
        ? resolve(result)
        : reject(new Error(`--edition-run ${args[0]} exited with ${code ?? signal} (its stderr is in the log)`)))
  })

export const scenario1In = (run: EditionRun, url: string, key: string, count: number, rounds: number) =>
  spawnEdition<Scenario1Run>(run, [
    "1",
    "--url",
    url,
    "--key",
    key,
    "--count",
    String(count),
    "--rounds",
    String(rounds)
  ])

export const scenario2In = (run: EditionRun, mode: string, url: string, warmUrl: string, key: string, count: number) =>
  spawnEdition<Scenario2Run>(run, [
    "2",
    "--mode",
    mode,
    "--url",
    url,
    "--warm-url",
    warmUrl,
    "--key",
    key,
    "--count",
    String(count)
  ])

export interface Scenario3Process {
  readonly tokens: number
  readonly matched: boolean
  readonly wallMs: number
  readonly tokensPerSecond: number
  readonly peakRssMb: number
  readonly cpuMs: number
}

/** One fresh process of the edition's scenario3.mjs on its Node, minting `count` tokens through createMany. */
export const scenario3In = (run: EditionRun, url: string, key: string, count: number) =>
  new Promise<Scenario3Process>((resolve, reject) => {
    const child = ChildProcess.spawn(run.node, [run.scenario3, url, key, String(count), "1000"], {
      cwd: root,
      stdio: ["ignore", "pipe", "inherit"]
    })
    let line: string | undefined
    Readline.createInterface({ input: child.stdout! }).once("line", (first) => {
      line = first
    })
    child.once("error", reject)
    child.once("close", (code, signal) =>
      code === 0 && line !== undefined
        ? resolve(JSON.parse(line) as Scenario3Process)
        : reject(new Error(`scenario3.mjs exited with ${code ?? signal} (its stderr is in the log)`)))
  })
