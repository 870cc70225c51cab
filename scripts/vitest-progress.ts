/**
 * A vitest reporter for runs without a terminal (CI, a pipe, `CI=true`):
 * vitest's default reporter then prints a file's results only when the whole
 * file ends, so a run whose files each take minutes on a busy machine shows
 * nothing for minutes. This one adds a line per finished file with the count
 * (`[12/41] done: test/Load.test.ts`) and, every `heartbeat` (30 s), a line
 * naming the files still running and for how long. In a terminal it prints
 * nothing: the default reporter's live summary does that job.
 */
import * as Path from "node:path"
import type { Reporter, TestModule, TestSpecification, Vitest } from "vitest/node"

const seconds = (millis: number) => `${Math.round(millis / 1000)} s`

export default class ProgressReporter implements Reporter {
  private root = process.cwd()
  private total = 0
  private finished = 0
  private readonly running = new Map<string, number>()
  private timer: ReturnType<typeof setInterval> | undefined
  private readonly quiet = process.stdout.isTTY === true && !process.env.CI

  constructor(private readonly heartbeatMillis = 30_000) {}

  onInit(vitest: Vitest) {
    this.root = vitest.config.root
  }

  onTestRunStart(specifications: ReadonlyArray<TestSpecification>) {
    this.total = specifications.length
    this.finished = 0
    if (this.quiet) return
    this.timer = setInterval(() => this.heartbeat(), this.heartbeatMillis)
    this.timer.unref()
  }

  onTestModuleStart(module: TestModule) {
    this.running.set(this.name(module), Date.now())
  }

  onTestModuleEnd(module: TestModule) {
    const name = this.name(module)
    const started = this.running.get(name)
    this.running.delete(name)
    this.finished++
    if (this.quiet) return
    const took = started === undefined ? "" : ` in ${seconds(Date.now() - started)}`
    this.write(`[${this.finished}/${this.total}] ${module.state() === "failed" ? "FAILED" : "done"}: ${name}${took}`)
  }

  onTestRunEnd() {
    if (this.timer !== undefined) clearInterval(this.timer)
    this.timer = undefined
  }

  private heartbeat() {
    if (this.running.size === 0) return
    const now = Date.now()
    const files = [...this.running].map(([name, started]) => `${name} (${seconds(now - started)})`).join(", ")
    this.write(`[${this.finished}/${this.total}] still running: ${files}`)
  }

  private name(module: TestModule) {
    return Path.relative(this.root, module.moduleId)
  }

  private write(line: string) {
    process.stdout.write(`${line}\n`)
  }
}
