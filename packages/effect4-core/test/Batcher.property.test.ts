/**
 * The batcher behind `get`, driven by random command sequences against a
 * simple model (fast-check `fc.commands`), under `TestClock`: callers join,
 * are interrupted or time out at any point; windows close; batches get their
 * rate-limit turn (their request is built then) or fail before it; a sent
 * batch's hold ends (it stops counting against the slots: hung or slow);
 * batches answer (all good, one user refused, refused whole) or stay in
 * flight; the scope closes. After every command the batcher's state, what
 * each request carried and every caller's outcome must be the model's.
 */
import { assert, describe, it } from "@effect/vitest"
import { Cause, Clock, Deferred, Effect, Exit, Fiber, Scope } from "effect"
import { TestClock } from "effect/testing"
import * as fc from "fast-check"
import * as Batcher from "../src/internal/batcher.js"
import { type Controlled, controlling } from "./utils/controlled.js"

const maxBatchSize = 3
const concurrency = 2
const keys = ["a", "b", "c", "d", "e"] as const

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
  readonly batch: MBatch
}

interface MBatch {
  mints: Array<MMint>
  phase: "gathering" | "queued" | "turn" | "sent" | "abandoned"
  slot: boolean
  /** Its users as sealed. */
  keys: Array<string> | undefined
  wanted: number
  /** In the order batches started: its resolution. */
  index: number | undefined
  /** In the order batches were sealed: its hold timer. */
  hold: number | undefined
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
  gathering: MBatch | undefined
  /** Batches not yet sealed, oldest first. */
  open: Array<MBatch>
  queued: Array<MBatch>
  /** Started batches not yet settled, in the order they started. */
  running: Array<MBatch>
  readonly started: Array<MBatch>
  sealed: number
  slots: number
  readonly pending: Map<string, MMint>
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
      return batch.keys![answer.at % batch.keys!.length] === key
        ? { _tag: "err", error: `bad:${key}` }
        : { _tag: "ok", value: valueOf(key, batch.index!) }
    case "whole":
      return { _tag: "err", error: `whole#${batch.index}` }
  }
}

const without = <A>(list: Array<A>, item: A) => list.filter((other) => other !== item)

const model = {
  startQueued(m: Model) {
    while (!m.closed && m.slots < concurrency && m.queued.length > 0) {
      const batch = m.queued.shift()!
      batch.phase = "turn"
      batch.slot = true
      m.slots++
      batch.index = m.started.length
      m.started.push(batch)
      m.running.push(batch)
    }
  },
  queue(m: Model, batch: MBatch) {
    m.gathering = undefined
    batch.phase = "queued"
    m.queued.push(batch)
    model.startQueued(m)
  },
  join(m: Model, caller: MCaller) {
    if (m.closed) {
      caller.outcome = { _tag: "interrupted" }
      return
    }
    let mint = m.pending.get(caller.key)
    if (mint === undefined) {
      let batch = m.open.find((b) => b.mints.length < maxBatchSize)
      if (batch === undefined) {
        batch = {
          mints: [],
          phase: "gathering",
          slot: false,
          keys: undefined,
          wanted: 0,
          index: undefined,
          hold: undefined
        }
        m.gathering = batch
        m.open.push(batch)
      }
      mint = { key: caller.key, callers: 0, state: "queued", batch }
      m.pending.set(caller.key, mint)
      batch.mints.push(mint)
      if (batch.phase === "gathering" && batch.mints.length >= maxBatchSize) model.queue(m, batch)
    }
    mint.callers++
    caller.mint = mint
  },
  seal(m: Model, batch: MBatch) {
    batch.phase = "sent"
    m.open = without(m.open, batch)
    batch.keys = batch.mints.map((mint) => mint.key)
    batch.wanted = batch.keys.length
    for (const mint of batch.mints) mint.state = "sent"
    batch.hold = m.sealed++
  },
  holdEnded(m: Model, batch: MBatch) {
    batch.slot = false
    m.slots--
    model.startQueued(m)
  },
  settle(m: Model, batch: MBatch, outcome: (key: string) => Outcome) {
    m.running = without(m.running, batch)
    if (batch.slot) {
      batch.slot = false
      m.slots--
    }
    if (batch.phase === "turn") m.open = without(m.open, batch)
    const settled: Array<MMint> = []
    for (const mint of batch.mints) {
      if (mint.state === "done") continue
      mint.state = "done"
      if (m.pending.get(mint.key) === mint) m.pending.delete(mint.key)
      settled.push(mint)
    }
    model.startQueued(m)
    for (const caller of m.callers) {
      if (caller.mint !== undefined && settled.includes(caller.mint) && caller.outcome._tag === "pending") {
        caller.outcome = outcome(caller.mint.key)
      }
    }
  },
  leave(m: Model, caller: MCaller, outcome: Outcome) {
    caller.outcome = outcome
    const mint = caller.mint!
    mint.callers--
    if (mint.callers > 0 || mint.state === "done") return
    const sealed = mint.state === "sent"
    mint.state = "done"
    if (m.pending.get(mint.key) === mint) m.pending.delete(mint.key)
    const batch = mint.batch
    if (sealed) {
      batch.wanted--
      if (batch.wanted > 0) return
      m.cancelled.add(batch.index!)
      model.settle(m, batch, () => ({ _tag: "interrupted" }))
      return
    }
    batch.mints = without(batch.mints, mint)
    if (batch.mints.length > 0) return
    m.open = without(m.open, batch)
    const phase = batch.phase
    batch.phase = "abandoned"
    if (phase === "gathering") m.gathering = undefined
    if (phase === "queued") m.queued = without(m.queued, batch)
    if (phase === "turn") {
      m.cancelled.add(batch.index!)
      model.settle(m, batch, () => ({ _tag: "interrupted" }))
    }
  },
  close(m: Model) {
    m.closed = true
    m.gathering = undefined
    m.open = []
    m.queued = []
    for (const mint of m.pending.values()) mint.state = "done"
    m.pending.clear()
    for (const caller of m.callers) {
      if (caller.outcome._tag === "pending") caller.outcome = { _tag: "interrupted" }
    }
    for (const batch of m.running) {
      m.cancelled.add(batch.index!)
      batch.slot = false
    }
    m.slots = 0
    m.running = []
  }
}

// ---- the real batcher --------------------------------------------------------

interface Resolution {
  readonly turn: Deferred.Deferred<void, string>
  /** The users its request carried, once its turn came (`null`: nothing left to send). */
  sealed: ReadonlyArray<string> | null | undefined
  readonly answer: Deferred.Deferred<ReadonlyMap<string, Exit.Exit<string, string>>, string>
  interrupted: boolean
}

interface Timer {
  readonly close: () => void
  active: boolean
}

interface Real {
  readonly run: <A, E>(effect: Effect.Effect<A, E>) => Promise<A>
  readonly fork: <A, E>(effect: Effect.Effect<A, E>) => Fiber.Fiber<A, E>
  /** Runs every fiber until none can move without the test (see `controlled`). */
  readonly settle: () => void
  readonly batcher: Batcher.Batcher<string, string>
  readonly scope: Scope.Closeable
  readonly windows: Array<Timer>
  readonly holds: Array<Timer>
  readonly resolutions: Array<Resolution>
  readonly callers: Array<Fiber.Fiber<string, unknown>>
}

const timers = (into: Array<Timer>): Batcher.Window => (close) => {
  const timer = { close, active: true }
  into.push(timer)
  return () => {
    timer.active = false
  }
}

/** A batch's request as the service makes it: it waits for its turn, is built from the batch then, and awaits its answer. */
const resolver = (resolutions: Array<Resolution>): Batcher.Resolve<string, string> => (batch) =>
  Effect.suspend(() => {
    const resolution: Resolution = {
      turn: Deferred.makeUnsafe(),
      sealed: undefined,
      answer: Deferred.makeUnsafe(),
      interrupted: false
    }
    resolutions.push(resolution)
    return Deferred.await(resolution.turn).pipe(
      Effect.flatMap(() => {
        const sealed = batch.seal()
        resolution.sealed = sealed ?? null
        return sealed === undefined ? Effect.interrupt : Deferred.await(resolution.answer)
      }),
      Effect.onInterrupt(() =>
        Effect.sync(() => {
          resolution.interrupted = true
        })
      )
    )
  })

const setup = (make: () => Controlled) => async (): Promise<{ model: Model; real: Real }> => {
  const { fork, run, settle } = make()
  const windows: Array<Timer> = []
  const holds: Array<Timer> = []
  const resolutions: Array<Resolution> = []
  const scope = await run(Scope.make())
  const batcher = await run(
    Scope.provide(
      Batcher.make<string, string>({
        maxBatchSize,
        concurrency,
        window: timers(windows),
        hold: timers(holds),
        resolve: resolver(resolutions)
      }),
      scope
    )
  )
  const now = await run(Clock.currentTimeMillis)
  return {
    model: {
      now,
      gathering: undefined,
      open: [],
      queued: [],
      running: [],
      started: [],
      sealed: 0,
      slots: 0,
      pending: new Map(),
      cancelled: new Set(),
      callers: [],
      closed: false
    },
    real: { run, fork, settle, batcher, scope, windows, holds, resolutions, callers: [] }
  }
}

const describeExit = (exit: Exit.Exit<string, unknown>): Outcome => {
  if (Exit.isSuccess(exit)) return { _tag: "ok", value: exit.value }
  if (Cause.hasInterruptsOnly(exit.cause)) return { _tag: "interrupted" }
  const [reason, ...others] = exit.cause.reasons
  const failure = others.length === 0 && reason !== undefined && Cause.isFailReason(reason) ? reason.error : undefined
  if (typeof failure === "string") return { _tag: "err", error: failure }
  if (Cause.isTimeoutError(failure)) return { _tag: "timeout" }
  return { _tag: "err", error: `unexpected: ${String(exit.cause)}` }
}

const keysOf = (batch: MBatch) => batch.mints.map((mint) => mint.key)

/**
 * Lets every fiber run until none can move without the test, then compares:
 * whatever the real batcher would still do, it has done.
 */
const settleAndCompare = (m: Model, r: Real) => {
  r.settle()

  const snapshot = r.batcher.snapshot()
  assert.isAtMost(snapshot.slots, concurrency, "slots held")
  assert.strictEqual(snapshot.slots, m.slots, "slots")
  assert.deepStrictEqual(snapshot.window, m.gathering && keysOf(m.gathering), "window")
  assert.deepStrictEqual(snapshot.waiting, m.queued.map(keysOf), "batches waiting for a slot")
  const running = (phase: MBatch["phase"]) => m.running.filter((b) => b.phase === phase)
  assert.deepStrictEqual(snapshot.turn, running("turn").map(keysOf), "batches waiting for their turn")
  assert.deepStrictEqual(
    snapshot.sent,
    running("sent").map((b) => ({ keys: b.keys!, slot: b.slot })),
    "batches sent"
  )
  assert.strictEqual(r.windows.filter((w) => w.active).length, m.gathering === undefined ? 0 : 1, "armed windows")
  assert.deepStrictEqual(
    r.holds.flatMap((hold, i) => hold.active ? [i] : []),
    running("sent").filter((b) => b.slot).map((b) => b.hold!).sort((x, y) => x - y),
    "armed holds"
  )
  assert.strictEqual(r.resolutions.length, m.started.length, "batches started")
  for (const [i, batch] of m.started.entries()) {
    const resolution = r.resolutions[i]!
    // What its request carried: the users in it when its turn came, never a later joiner.
    assert.deepStrictEqual(resolution.sealed ?? undefined, batch.keys, `batch ${i} request`)
    assert.strictEqual(resolution.interrupted, m.cancelled.has(i), `batch ${i} interrupted`)
  }
  for (const caller of m.callers) {
    const exit = r.callers[caller.id]!.pollUnsafe()
    const real: Outcome = exit === undefined ? { _tag: "pending" } : describeExit(exit)
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
  check = (m: Readonly<Model>) => m.gathering !== undefined
  async run(m: Model, r: Real) {
    model.queue(m, m.gathering!)
    r.windows.filter((w) => w.active).at(-1)!.close()
    settleAndCompare(m, r)
  }
  toString = () => "closeWindow"
}

const inPhase = (m: Readonly<Model>, phase: MBatch["phase"]) => m.running.filter((b) => b.phase === phase)

/** A batch's rate-limit turn comes: its request is built from its users now. */
class GrantTurn implements Cmd {
  constructor(readonly pick: number) {}
  check = (m: Readonly<Model>) => inPhase(m, "turn").length > 0
  async run(m: Model, r: Real) {
    const batches = inPhase(m, "turn")
    const batch = batches[this.pick % batches.length]!
    model.seal(m, batch)
    Deferred.doneUnsafe(r.resolutions[batch.index!]!.turn, Exit.void)
    settleAndCompare(m, r)
  }
  toString = () => `grantTurn(${this.pick})`
}

/** A batch fails before its turn came (the limiter's wait ran past the deadline, say): every user in it then fails. */
class FailBeforeTurn implements Cmd {
  constructor(readonly pick: number) {}
  check = (m: Readonly<Model>) => inPhase(m, "turn").length > 0
  async run(m: Model, r: Real) {
    const batches = inPhase(m, "turn")
    const batch = batches[this.pick % batches.length]!
    const error = `late#${batch.index}`
    model.settle(m, batch, () => ({ _tag: "err", error }))
    Deferred.doneUnsafe(r.resolutions[batch.index!]!.turn, Exit.fail(error))
    settleAndCompare(m, r)
  }
  toString = () => `failBeforeTurn(${this.pick})`
}

/** A sent batch has been out for one hold without an answer (hung, or slow): its slot comes free. */
class HoldEnds implements Cmd {
  constructor(readonly pick: number) {}
  check = (m: Readonly<Model>) => inPhase(m, "sent").some((b) => b.slot)
  async run(m: Model, r: Real) {
    const batches = inPhase(m, "sent").filter((b) => b.slot)
    const batch = batches[this.pick % batches.length]!
    model.holdEnded(m, batch)
    const hold = r.holds[batch.hold!]!
    hold.active = false
    hold.close()
    settleAndCompare(m, r)
  }
  toString = () => `holdEnds(${this.pick})`
}

class AnswerBatch implements Cmd {
  constructor(readonly pick: number, readonly answer: Answer) {}
  check = (m: Readonly<Model>) => inPhase(m, "sent").length > 0
  async run(m: Model, r: Real) {
    const batches = inPhase(m, "sent")
    const batch = batches[this.pick % batches.length]!
    const index = batch.index!
    const outcome = answerFor(this.answer, batch)
    model.settle(m, batch, outcome)
    const resolution = r.resolutions[index]!
    const exit: Exit.Exit<ReadonlyMap<string, Exit.Exit<string, string>>, string> = this.answer._tag === "whole"
      ? Exit.fail(`whole#${index}`)
      : Exit.succeed(
        new Map((resolution.sealed ?? []).map((key) => {
          const o = outcome(key)
          return [key, o._tag === "ok" ? Exit.succeed(o.value) : Exit.fail(o._tag === "err" ? o.error : "?")]
        }))
      )
    Deferred.doneUnsafe(resolution.answer, exit)
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
    assert.isFalse([...r.windows, ...r.holds].some((timer) => timer.active), "a timer outlived the scope")
  }
  toString = () => "closeScope"
}

const get = fc.tuple(fc.constantFrom(...keys), fc.option(fc.integer({ min: 1, max: 20 }), { nil: undefined })).map(
  ([key, timeout]) => new Get(key, timeout)
)
const interrupt = fc.nat(20).map((pick) => new Interrupt(pick))
const grant = fc.nat(4).map((pick) => new GrantTurn(pick))
const answer = fc.tuple(
  fc.nat(4),
  fc.oneof(
    fc.constant<Answer>({ _tag: "ok" }),
    fc.nat(3).map((at): Answer => ({ _tag: "oneBad", at })),
    fc.constant<Answer>({ _tag: "whole" })
  )
).map(([pick, answer]) => new AnswerBatch(pick, answer))

// Callers, interruptions, turns and answers are drawn more often than the
// rest, so that interleavings of several callers and batches come up in most
// runs.
const commands = fc.commands(
  [
    get,
    get,
    get,
    get,
    interrupt,
    interrupt,
    fc.constant(new CloseWindow()),
    grant,
    grant,
    answer,
    answer,
    fc.nat(4).map((pick) => new FailBeforeTurn(pick)),
    fc.nat(4).map((pick) => new HoldEnds(pick)),
    fc.integer({ min: 1, max: 15 }).map((millis) => new Adjust(millis)),
    fc.constant(new CloseScope())
  ],
  { maxCommands: 50, size: "max" }
)

/** Runs one fixed command sequence against the model, as the property does. */
const scenario = (cmds: ReadonlyArray<Cmd>) =>
  Effect.gen(function*() {
    const context = yield* Effect.context<never>()
    yield* Effect.promise(() => controlling(context, (make) => fc.asyncModelRun(setup(make), cmds)))
  })

describe("Batcher (model-based)", () => {
  // Counterexamples and the defects of issue 9, kept as named regressions
  // (since issue 20 a batch's request leaves when its turn is granted).
  it.effect("a caller that leaves the window empties it and disarms it; the next call re-arms", () =>
    scenario([
      new Get("a", 1),
      new Adjust(1),
      new Get("b", undefined),
      new CloseWindow(),
      new GrantTurn(0),
      new AnswerBatch(0, { _tag: "ok" })
    ]))

  it.effect("a batch settles only the mints it carried, not a later mint for the same user", () =>
    scenario([
      new Get("a", undefined),
      new Get("b", undefined),
      new CloseWindow(),
      new GrantTurn(0),
      new Interrupt(0),
      new Get("a", undefined),
      new Get("c", undefined),
      new AnswerBatch(0, { _tag: "ok" }),
      new CloseWindow(),
      new GrantTurn(0),
      new AnswerBatch(0, { _tag: "ok" })
    ]))

  it.effect("one refused user fails only its own callers", () =>
    scenario([
      new Get("a", undefined),
      new Get("b", undefined),
      new Get("b", undefined),
      new CloseWindow(),
      new GrantTurn(0),
      new AnswerBatch(0, { _tag: "oneBad", at: 1 })
    ]))

  it.effect("the last caller of a batch waiting for a slot takes it out of the queue", () =>
    scenario([
      new Get("a", undefined),
      new CloseWindow(),
      new GrantTurn(0),
      new Get("b", undefined),
      new CloseWindow(),
      new GrantTurn(0),
      new Get("c", 5),
      new CloseWindow(),
      new Adjust(5),
      new Get("d", undefined),
      new CloseWindow(),
      new AnswerBatch(0, { _tag: "whole" }),
      new CloseScope()
    ]))

  // Issue 20.
  it.effect("a batch waiting for its turn takes joiners up to maxBatchSize; its request carries who is in it then", () =>
    scenario([
      new Get("a", undefined),
      new CloseWindow(),
      new Get("b", undefined),
      new Get("c", 3),
      new Adjust(3),
      new Get("d", undefined),
      new Get("e", undefined),
      new GrantTurn(0),
      new Get("a", undefined),
      new CloseWindow(),
      new AnswerBatch(0, { _tag: "ok" }),
      new GrantTurn(0),
      new AnswerBatch(0, { _tag: "ok" })
    ]))

  it.effect("batches hung in every slot stop counting when their holds end; the next batch starts", () =>
    scenario([
      new Get("a", undefined),
      new CloseWindow(),
      new GrantTurn(0),
      new Get("b", undefined),
      new CloseWindow(),
      new GrantTurn(0),
      new Get("c", undefined),
      new CloseWindow(),
      new HoldEnds(0),
      new GrantTurn(0),
      new HoldEnds(1),
      new AnswerBatch(2, { _tag: "ok" }),
      new AnswerBatch(0, { _tag: "ok" }),
      new CloseScope()
    ]))

  it.effect("the last caller of a batch waiting for its turn interrupts it; a batch failing before its turn fails its joiners", () =>
    scenario([
      new Get("a", undefined),
      new CloseWindow(),
      new Interrupt(0),
      new Get("b", undefined),
      new CloseWindow(),
      new Get("c", undefined),
      new FailBeforeTurn(0),
      new Get("b", undefined),
      new CloseWindow(),
      new CloseScope()
    ]))

  it.effect(
    "every interleaving of callers, interruptions, timeouts, windows, turns, holds, answers and scope close matches the model",
    () =>
      Effect.gen(function*() {
        const context = yield* Effect.context<never>()
        yield* Effect.promise(() =>
          fc.assert(
            fc.asyncProperty(commands, (cmds) => controlling(context, (make) => fc.asyncModelRun(setup(make), cmds))),
            { numRuns: 1_000 }
          )
        )
      }),
    300_000
  )
})
