/**
 * Child processes for the Effect 4 edition's tests: the seeds' clients
 * (curl, Python, Node) and the worker processes, run without blocking the
 * event loop (the server they talk to lives in this process).
 */
import { Effect } from "effect"
import { spawn } from "node:child_process"
import * as Fs from "node:fs"
import * as path from "node:path"
import { fileURLToPath } from "node:url"

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..")

export interface ChildResult {
  readonly code: number | null
  readonly signal: NodeJS.Signals | null
  readonly stdout: string
  readonly stderr: string
}

export interface ChildOptions {
  readonly env?: NodeJS.ProcessEnv | undefined
  readonly cwd?: string | undefined
  readonly stdin?: string | Uint8Array | undefined
  /** A file (or directory) opened as the child's stdin instead of a pipe. */
  readonly stdinPath?: string | undefined
  readonly timeoutMillis?: number | undefined
}

/**
 * The environment a child gets: the test's own, minus anything that could
 * send it elsewhere (a proxy) or hand it a real sFOX key, plus `extra`.
 */
export const childEnv = (extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv => {
  const env: NodeJS.ProcessEnv = {}
  for (const [name, value] of Object.entries(process.env)) {
    if (/^(?:https?_proxy|all_proxy|SFOX_.*|ENTERPRISE_API_KEY)$/i.test(name)) continue
    env[name] = value
  }
  env.NO_PROXY = env.no_proxy = "127.0.0.1,localhost"
  env.NO_COLOR = "1"
  for (const [name, value] of Object.entries(extra)) {
    if (value === undefined) delete env[name]
    else env[name] = value
  }
  return env
}

/**
 * Runs a program to its end. Killed when the fiber is interrupted or after
 * `timeoutMillis`.
 */
export const runChild = (
  command: string,
  args: ReadonlyArray<string>,
  options: ChildOptions = {}
): Effect.Effect<ChildResult> =>
  Effect.callback<ChildResult>((resume) => {
    const stdinFd = options.stdinPath === undefined ? undefined : Fs.openSync(options.stdinPath, "r")
    const child = spawn(command, args, {
      cwd: options.cwd ?? repoRoot,
      env: options.env ?? childEnv(),
      stdio: [stdinFd ?? "pipe", "pipe", "pipe"],
      timeout: options.timeoutMillis ?? 30_000,
      killSignal: "SIGKILL"
    })
    const stdout: Array<Buffer> = []
    const stderr: Array<Buffer> = []
    // Pipes, always (the types cannot tell, stdin's being a descriptor or a pipe).
    child.stdout!.on("data", (chunk: Buffer) => stdout.push(chunk))
    child.stderr!.on("data", (chunk: Buffer) => stderr.push(chunk))
    child.on("error", (error) => resume(Effect.die(error)))
    // The child has its own copy of the descriptor.
    if (stdinFd !== undefined) Fs.closeSync(stdinFd)
    child.on("close", (code, signal) => {
      resume(Effect.succeed({
        code,
        signal,
        stdout: Buffer.concat(stdout).toString("utf8"),
        stderr: Buffer.concat(stderr).toString("utf8")
      }))
    })
    child.stdin?.end(options.stdin ?? "")
    return Effect.sync(() => {
      child.kill("SIGKILL")
    })
  })
