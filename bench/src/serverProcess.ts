import * as ChildProcess from "node:child_process"
import * as Path from "node:path"
import * as Readline from "node:readline"
import type { MintShare } from "./mintShare.js"

export interface Stats {
  readonly requests: number
  readonly byStatus: Readonly<Record<number, number>>
  readonly minted: number
}

export interface ServerProcess {
  readonly url: string
  readonly stats: () => Promise<Stats>
  /** What the recorded requests spent the budget on (the server started with `record: true`). */
  readonly mintShare: () => Promise<MintShare>
  readonly reset: () => Promise<void>
  readonly stop: () => Promise<void>
}

const here = Path.dirname(new URL(import.meta.url).pathname)

/** Node with tsx's loader, so the child runs the TypeScript sources as the parent does. */
export const tsNode = (script: string, args: ReadonlyArray<string>, ipc: boolean) =>
  ChildProcess.spawn(process.execPath, ["--import", "tsx", Path.join(here, script), ...args], {
    stdio: ipc ? ["ignore", "pipe", "inherit", "ipc"] : ["ignore", "pipe", "inherit"],
    env: { ...process.env, TSX_TSCONFIG_PATH: Path.join(here, "..", "tsconfig.run.json") }
  })

export const startServer = (options: Record<string, unknown>): Promise<ServerProcess> =>
  new Promise((resolve, reject) => {
    const child = tsNode("server.ts", [JSON.stringify(options)], true)
    // BENCH_SERVER_CPU=1 (with the client under `taskset -c 0`): each process on its own core, for steadier figures.
    if (process.env.BENCH_SERVER_CPU !== undefined && child.pid !== undefined) {
      ChildProcess.execFileSync("taskset", ["-a", "-p", "-c", process.env.BENCH_SERVER_CPU, String(child.pid)], {
        stdio: "ignore"
      })
    }
    const lines = Readline.createInterface({ input: child.stdout! })
    child.once("exit", (code) => reject(new Error(`bench server exited with ${code}`)))
    lines.once("line", (line) => {
      const { url } = JSON.parse(line) as { url: string }
      const ask = <A>(type: string) =>
        new Promise<A>((answer) => {
          child.once("message", (message) => answer(message as A))
          child.send({ type })
        })
      resolve({
        url,
        stats: () => ask<Stats>("stats"),
        mintShare: () => ask<MintShare>("mintShare"),
        reset: () => ask<void>("reset"),
        stop: () =>
          new Promise((done) => {
            child.removeAllListeners("exit")
            child.once("exit", () => done())
            child.send({ type: "exit" })
          })
      })
    })
  })
