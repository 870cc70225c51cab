/**
 * The batcher behind `get`, driven by random command sequences against a
 * simple model (fast-check `fc.commands`), under `TestClock`: callers join,
 * are interrupted or time out at any point; windows close; batches answer
 * (all good, one user refused, refused whole) or stay in flight; the scope
 * closes. After every command the batcher's state and every caller's outcome
 * must be the model's.
 */
import { assert, describe, it } from "@effect/vitest"
import { Deferred, Effect, Exit, FastCheck as fc, Fiber, FiberId, Scope, TestClock } from "effect"
import * as Batcher from "../src/internal/batcher.js"
import { type Controlled, controlling } from "./utils/controlled.js"

const maxBatchSize = 3
const concurrency = 2
const keys = ["a", "b", "c"] as const

// ---- the model -------------------------------------------------------------

type Outcome =
  | { readonly _tag: "pending" }
  | { readonly _tag: "ok"; readonly value: string }
  | { readonly _tag: "err"; readonly error: string }
  | { readonly _tag: "timeout" }
  | { readonly _tag: "interrupted" }

interface MMint {
  readonly key: string
  callers: number
  state: "queued" | "sent" | "done"
  batch: MBatch | undefined
}

interface MBatch {
  readonly mints: Array<MMint>
  wanted: number
  index: number | undefined
}

interface MCaller {
  readonly id: number
  readonly key: string
  mint: MMint | undefined
  outcome: Outcome
  readonly deadline: number | undefined
}

interface Model {
  now: number
  window: Array<MMint> | undefined
  readonly pending: Map<string, MMint>
  waiting: Array<MBatch>
  running: Array<MBatch>
  readonly started: Array<MBatch>
  readonly cancelled: Set<number>
  readonly callers: Array<MCaller>
  closed: boolean
}

type Answer = { readonly _tag: "ok" } | { readonly _tag: "oneBad"; readonly at: number } | { readonly _tag: "whole" }

const valueOf = (key: string, batch: number) => `${key}#${batch}`

const answerFor = (answer: Answer, batch: MBatch) => (key: string): Outcome => {
  switch (answer._tag) {
    case "ok":
      return { _tag: "ok", value: valueOf(key, batch.index!) }
    case "oneBad":
      return batch.mints[answer.at % batch.mints.length]!.key === key
        ? { _tag: "err", error: `bad:${key}` }
        : { _tag: "ok", value: valueOf(key, batch.index!) }
    case "whole":
      return { _tag: "err", error: `whole#${batch.index}` }
  }
}

const model = {
  startWaiting(m: Model) {
    while (!m.closed && m.running.length < concurrency && m.waiting.length > 0) {
      const batch = m.waiting.shift()!
      batch.index = m.started.length
      m.started.push(batch)
      m.running.push(batch)
    }
  },
  send(m: Model) {
    const mints = m.window!
    m.window = undefined
    const batch: MBatch = { mints, wanted: mints.length, index: undefined }
    for (const mint of mints) {
      mint.state = "sent"
      mint.batch = batch
    }
    m.waiting.push(batch)
    model.startWaiting(m)
  },
  join(m: Model, caller: MCaller) {
    if (m.closed) {
      caller.outcome = { _tag: "interrupted" }
      return
    }
    let mint = m.pending.get(caller.key)
    if (mint === undefined) {
      mint = { key: caller.key, callers: 0, state: "queued", batch: undefined }
      m.pending.set(caller.key, mint)
      m.window ??= []
      m.window.push(mint)
      if (m.window.length >= maxBatchSize) model.send(m)
    }
    mint.callers++
    caller.mint = mint
  },
  settle(m: Model, batch: MBatch, outcome: (key: string) => Outcome) {
    m.running = m.running.filter((b) => b !== batch)
    for (const mint of batch.mints) {
      if (mint.state === "done") continue
      mint.state = "done"
      if (m.pending.get(mint.key) === mint) m.pending.delete(mint.key)
      for (const caller of m.callers) {
        if (caller.mint === mint && caller.outcome._tag === "pending") caller.outcome = outcome(mint.key)
      }
    }
    model.startWaiting(m)
  },
  leave(m: Model, caller: MCaller, outcome: Outcome) {
    caller.outcome = outcome
    const mint = caller.mint!
    mint.callers--
    if (mint.callers > 0 || mint.state === "done") return
    const wasQueued = mint.state === "queued"
    mint.state = "done"
    if (m.pending.get(mint.key) === mint) m.pending.delete(mint.key)
    if (wasQueued) {
      m.window = m.window!.filter((other) => other !== mint)
      if (m.window.length === 0) m.window = undefined
      return
    }
    const batch = mint.batch!
    batch.wanted--
    if (batch.wanted > 0) return
    if (batch.index === undefined) {
      m.waiting = m.waiting.filter((b) => b !== batch)
      return
    }
    m.cancelled.add(batch.index)
    model.settle(m, batch, () => ({ _tag: "interrupted" }))
  },
  close(m: Model) {
    m.closed = true
    m.window = undefined
    m.waiting = []
    for (const mint of m.pending.values()) mint.state = "done"
    m.pending.clear()
    for (const caller of m.callers) {
      if (caller.outcome._tag === "pending") caller.outcome = { _tag: "interrupted" }
    }
    for (const batch of m.running) m.cancelled.add(batch.index!)
    m.running = []
  }
}

// ---- the real batcher --------------------------------------------------------

interface Resolution {
  readonly keys: ReadonlyArray<string>
  readonly answer: Deferred.Deferred<ReadonlyMap<string, Exit.Exit<string, string>>, string>
  interrupted: boolean
}

interface Real {
  readonly run: <A, E>(effect: Effect.Effect<A, E>) => Promise<A>
  readonly fork: <A, E>(effect: Effect.Effect<A, E>) => Fiber.RuntimeFiber<A, E>
  /** Runs every fiber until none can move without the test (see `controlled`). */
  readonly settle: () => void
  readonly batcher: Batcher.Batcher<string, string>
  readonly scope: Scope.CloseableScope
  readonly windows: Array<{ readonly close: () => void; active: boolean }>
  readonly resolutions: Array<Resolution>
  readonly callers: Array<Fiber.RuntimeFiber<string, unknown>>
}

const setup = (make: () => Controlled) => async (): Promise<{ model: Model; real: Real }> => {
  const { fork, run, settle } = make()
  const windows: Real["windows"] = []
  const resolutions: Array<Resolution> = []
  const scope = await run(Scope.make())
  const batcher = await run(
    Scope.extend(
      Batcher.make<string, string>({
        maxBatchSize,
        concurrency,
        window: (close) => {
          const window = { close, active: true }
          windows.push(window)
          return () => {
            window.active = false
          }
        },
        resolve: (batchKeys) =>
          Effect.suspend(() => {
            const resolution: Resolution = {
              keys: batchKeys,
              answer: Deferred.unsafeMake(FiberId.none),
              interrupted: false
            }
            resolutions.push(resolution)
            return Effect.onInterrupt(Deferred.await(resolution.answer), () =>
              Effect.sync(() => {
                resolution.interrupted = true
              }))
          })
      }),
      scope
    )
  )
  const now = await run(TestClock.currentTimeMillis)
  return {
    model: {
      now,
      window: undefined,
      pending: new Map(),
      waiting: [],
      running: [],
      started: [],
      cancelled: new Set(),
      callers: [],
      closed: false
    },
    real: { run, fork, settle, batcher, scope, windows, resolutions, callers: [] }
  }
}

const describeExit = (exit: Exit.Exit<string, unknown>): Outcome => {
  if (Exit.isSuccess(exit)) return { _tag: "ok", value: exit.value }
  if (Exit.isInterrupted(exit)) return { _tag: "interrupted" }
  const failure = exit.cause._tag === "Fail" ? exit.cause.error : undefined
  if (typeof failure === "string") return { _tag: "err", error: failure }
  if (failure !== null && typeof failure === "object" && (failure as { _tag?: unknown })._tag === "TimeoutException") {
    return { _tag: "timeout" }
  }
  return { _tag: "err", error: `unexpected: ${String(exit.cause)}` }
}

/**
 * Lets every fiber run until none can move without the test, then compares:
 * whatever the real batcher would still do, it has done.
 */
const settleAndCompare = (m: Model, r: Real) => {
  r.settle()

  const snapshot = r.batcher.snapshot()
  assert.deepStrictEqual(snapshot.window, m.window?.map((mint) => mint.key), "window")
  assert.deepStrictEqual(snapshot.waiting, m.waiting.map((b) => b.mints.map((mint) => mint.key)), "waiting batches")
  assert.deepStrictEqual(snapshot.running, m.running.map((b) => b.mints.map((mint) => mint.key)), "running batches")
  assert.strictEqual(r.windows.filter((w) => w.active).length, m.window === undefined ? 0 : 1, "armed windows")
  assert.strictEqual(r.resolutions.length, m.started.length, "batches started")
  for (const [i, batch] of m.started.entries()) {
    assert.deepStrictEqual(r.resolutions[i]!.keys, batch.mints.map((mint) => mint.key), `batch ${i} keys`)
    assert.strictEqual(r.resolutions[i]!.interrupted, m.cancelled.has(i), `batch ${i} interrupted`)
  }
  for (const caller of m.callers) {
    const exit = r.callers[caller.id]!.unsafePoll()
    const real: Outcome = exit === null ? { _tag: "pending" } : describeExit(exit)
    assert.deepStrictEqual(real, caller.outcome, `caller ${caller.id} (${caller.key})`)
  }
}

// ---- commands ----------------------------------------------------------------

type Cmd = fc.AsyncCommand<Model, Real>

class Get implements Cmd {
  constructor(readonly key: string, readonly timeout: number | undefined) {}
  check = () => true
  async run(m: Model, r: Real) {
    const caller: MCaller = {
      id: m.callers.length,
      key: this.key,
      mint: undefined,
      outcome: { _tag: "pending" },
      deadline: this.timeout === undefined ? undefined : m.now + this.timeout
    }
    m.callers.push(caller)
    model.join(m, caller)
    const get = r.batcher.get(this.key)
    r.callers.push(r.fork(this.timeout === undefined ? get : Effect.timeout(get, this.timeout)))
    settleAndCompare(m, r)
  }
  toString = () => `get(${this.key}${this.timeout === undefined ? "" : `, timeout ${this.timeout}`})`
}

class Interrupt implements Cmd {
  constructor(readonly pick: number) {}
  check = (m: Readonly<Model>) => m.callers.some((c) => c.outcome._tag === "pending")
  async run(m: Model, r: Real) {
    const pending = m.callers.filter((c) => c.outcome._tag === "pending")
    const caller = pending[this.pick % pending.length]!
    model.leave(m, caller, { _tag: "interrupted" })
    await r.run(Fiber.interrupt(r.callers[caller.id]!))
    settleAndCompare(m, r)
  }
  toString = () => `interrupt(${this.pick})`
}

class CloseWindow implements Cmd {
  check = (m: Readonly<Model>) => m.window !== undefined
  async run(m: Model, r: Real) {
    model.send(m)
    r.windows.filter((w) => w.active).at(-1)!.close()
    settleAndCompare(m, r)
  }
  toString = () => "closeWindow"
}

class AnswerBatch implements Cmd {
  constructor(readonly pick: number, readonly answer: Answer) {}
  check = (m: Readonly<Model>) => m.running.length > 0
  async run(m: Model, r: Real) {
    const batch = m.running[this.pick % m.running.length]!
    const index = batch.index!
    const outcome = answerFor(this.answer, batch)
    model.settle(m, batch, outcome)
    const resolution = r.resolutions[index]!
    const exit: Exit.Exit<ReadonlyMap<string, Exit.Exit<string, string>>, string> = this.answer._tag === "whole"
      ? Exit.fail(`whole#${index}`)
      : Exit.succeed(
        new Map(resolution.keys.map((key) => {
          const o = outcome(key)
          return [key, o._tag === "ok" ? Exit.succeed(o.value) : Exit.fail(o._tag === "err" ? o.error : "?")]
        }))
      )
    Deferred.unsafeDone(resolution.answer, exit)
    settleAndCompare(m, r)
  }
  toString = () => `answer(${this.pick}, ${JSON.stringify(this.answer)})`
}

class Adjust implements Cmd {
  constructor(readonly millis: number) {}
  check = (m: Readonly<Model>) => !m.closed
  async run(m: Model, r: Real) {
    m.now += this.millis
    const late = m.callers
      .filter((c) => c.outcome._tag === "pending" && c.deadline !== undefined && c.deadline <= m.now)
      .sort((x, y) => x.deadline! - y.deadline! || x.id - y.id)
    for (const caller of late) {
      if (caller.outcome._tag === "pending") model.leave(m, caller, { _tag: "timeout" })
    }
    await r.run(TestClock.adjust(this.millis))
    settleAndCompare(m, r)
  }
  toString = () => `adjust(${this.millis})`
}

class CloseScope implements Cmd {
  check = (m: Readonly<Model>) => !m.closed
  async run(m: Model, r: Real) {
    model.close(m)
    await r.run(Scope.close(r.scope, Exit.void))
    settleAndCompare(m, r)
    assert.isTrue(r.batcher.snapshot().closed)
    assert.strictEqual(r.batcher.snapshot().pending, 0)
  }
  toString = () => "closeScope"
}

const get = fc.tuple(fc.constantFrom(...keys), fc.option(fc.integer({ min: 1, max: 20 }), { nil: undefined })).map(
  ([key, timeout]) => new Get(key, timeout)
)
const interrupt = fc.nat(20).map((pick) => new Interrupt(pick))
const answer = fc.tuple(
  fc.nat(4),
  fc.oneof(
    fc.constant<Answer>({ _tag: "ok" }),
    fc.nat(3).map((at): Answer => ({ _tag: "oneBad", at })),
    fc.constant<Answer>({ _tag: "whole" })
  )
).map(([pick, answer]) => new AnswerBatch(pick, answer))

// Callers, interruptions and answers are drawn more often than the rest, so
// that interleavings of several callers and batches come up in most runs.
const commands = fc.commands(
  [
    get,
    get,
    get,
    interrupt,
    interrupt,
    fc.constant(new CloseWindow()),
    answer,
    answer,
    fc.integer({ min: 1, max: 15 }).map((millis) => new Adjust(millis)),
    fc.constant(new CloseScope())
  ],
  { maxCommands: 40, size: "max" }
)

/** Runs one fixed command sequence against the model, as the property does. */
const scenario = (cmds: ReadonlyArray<Cmd>) =>
  Effect.gen(function*() {
    const runtime = yield* Effect.runtime<never>()
    yield* Effect.promise(() => controlling(runtime, (make) => fc.asyncModelRun(setup(make), cmds)))
  })

describe("Batcher (model-based)", () => {
  // Counterexamples and the defects of issue 9, kept as named regressions.
  it.effect("a caller that leaves the window empties it and disarms it; the next call re-arms", () =>
    scenario([
      new Get("a", 1),
      new Adjust(1),
      new Get("b", undefined),
      new CloseWindow(),
      new AnswerBatch(0, { _tag: "ok" })
    ]))

  it.effect("a batch settles only the mints it carried, not a later mint for the same user", () =>
    scenario([
      new Get("a", undefined),
      new Get("b", undefined),
      new CloseWindow(),
      new Interrupt(0),
      new Get("a", undefined),
      new Get("c", undefined),
      new AnswerBatch(0, { _tag: "ok" }),
      new CloseWindow(),
      new AnswerBatch(0, { _tag: "ok" })
    ]))

  it.effect("one refused user fails only its own callers", () =>
    scenario([
      new Get("a", undefined),
      new Get("b", undefined),
      new Get("b", undefined),
      new CloseWindow(),
      new AnswerBatch(0, { _tag: "oneBad", at: 1 })
    ]))

  it.effect("the last caller of a batch waiting for a slot takes it out of the queue", () =>
    scenario([
      new Get("a", undefined),
      new CloseWindow(),
      new Get("b", undefined),
      new CloseWindow(),
      new Get("c", 5),
      new CloseWindow(),
      new Adjust(5),
      new Get("d", undefined),
      new CloseWindow(),
      new AnswerBatch(0, { _tag: "whole" }),
      new CloseScope()
    ]))

  it.effect(
    "every interleaving of callers, interruptions, timeouts, windows, answers and scope close matches the model",
    () =>
      Effect.gen(function*() {
        const runtime = yield* Effect.runtime<never>()
        yield* Effect.promise(() =>
          fc.assert(
            fc.asyncProperty(commands, (cmds) => controlling(runtime, (make) => fc.asyncModelRun(setup(make), cmds))),
            { numRuns: 1_000 }
          )
        )
      }),
    300_000
  )
})
