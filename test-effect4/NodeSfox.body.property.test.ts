/**
 * The response body of NodeSfox's client (`BufferedBody`, read through
 * `UndiciResponse`), driven by random command sequences against a simple
 * model (fast-check `fc.commands`), on a runtime whose fibers run only when
 * the test steps them: undici pushes chunks, ends the body or
 * fails it (with its own coded errors); the body is refused (the size
 * check); readers start (`text`, `json`, `arrayBuffer`, `stream` collected
 * whole or cut short by `Stream.take`), some with an effect built before the
 * first chunk, some interrupted before they ever run; readers are
 * interrupted one at a time or all at once, before any chunk, between
 * chunks, after the end. The body's `abort` does what the exchange's does
 * once undici reports the abort: it fails a body still unsettled.
 *
 * After every command: the body's state, every reader's outcome (the whole
 * body, or the `Decode` failure with the body's own error as its cause, or
 * interrupted) and the aborts that dropped the connection (a reader
 * interrupted or a stream ended before the body settled, a refusal) must be
 * the model's; once the body has settled, no reader is left waiting; and the
 * fibers always come to rest (a reader that never stops fails the run).
 *
 * The Effect 4 edition's twin of test/NodeSfox.body.property.test.ts. Effect 4
 * resumes a fiber inline, on the stack of whoever resumes it; the exchange
 * therefore wakes a body's readers later (on a microtask), and the test's
 * body does the same on the stepped scheduler, so that the test still decides
 * when a reader runs.
 */
import { assert, describe, it } from "@effect/vitest"
import { Cause, Context, Effect, Exit, type Fiber, Option, Scheduler, Stream } from "effect"
import { HttpClientError, HttpClientRequest } from "effect/http"
import * as fc from "fast-check"
import * as Undici from "undici"
import { BufferedBody } from "../packages/effect4-node/src/internal/bufferedBody.js"
import { ResponseTooLargeError, UndiciResponse } from "../packages/effect4-node/src/internal/undiciResponse.js"

const maxBytes = 64
/** What the response's `Content-Length` says: nothing, a length within the limit, one over it. */
type Declared = "none" | "within" | "over"
const declaredHeader: Record<Declared, string | undefined> = { none: undefined, within: "10", over: "500" }
const sizeRefusal = `tooLarge(500/${maxBytes})`

// ---- fibers the test steps ------------------------------------------------------

/**
 * A context whose fibers run only in `settle`, which runs every task they
 * schedule (a start, a resumption, a yield, a body's wake-up) until none is
 * left: every reader has then ended or waits on the body. As in `controlled`
 * (core's test utilities), but bounded: fibers that never come to rest (a
 * stream reader that pulls forever) fail the run instead of hanging it.
 */
interface Stepped {
  readonly context: Context.Context<never>
  readonly settle: () => void
  /** Queues `task` behind everything already queued. */
  readonly later: (task: () => void) => void
}

const maxSteps = 1_000

/** Every task, from every fiber, waits in one queue (lower priorities first, then in order) until `step`. */
class SteppedScheduler implements Scheduler.Scheduler {
  readonly executionMode = "async" as const
  readonly tasks: Array<readonly [number, () => void]> = []
  private readonly dispatcher: Scheduler.SchedulerDispatcher = {
    scheduleTask: (task, priority) => this.scheduleTask(task, priority),
    flush: () => {
      while (this.tasks.length > 0) this.step()
    }
  }
  shouldYield(fiber: Fiber.Fiber<unknown, unknown>): boolean {
    return fiber.currentOpCount >= fiber.cache.maxOpsBeforeYield
  }
  makeDispatcher(): Scheduler.SchedulerDispatcher {
    return this.dispatcher
  }
  scheduleTask(task: () => void, priority: number): void {
    let index = this.tasks.length
    while (index > 0 && this.tasks[index - 1]![0] > priority) index--
    this.tasks.splice(index, 0, [priority, task])
  }
  step(): void {
    this.tasks.shift()?.[1]()
  }
}

const stepped = (base: Context.Context<never>): Stepped => {
  const scheduler = new SteppedScheduler()
  return {
    context: Context.add(base, Scheduler.Scheduler, scheduler),
    later: (task) => scheduler.scheduleTask(task, Number.MAX_SAFE_INTEGER),
    settle: () => {
      for (let steps = 0; scheduler.tasks.length > 0; steps++) {
        if (steps === maxSteps) assert.fail(`the fibers still run after ${maxSteps} steps`)
        scheduler.step()
      }
    }
  }
}

// ---- the body under test -------------------------------------------------------

interface AbortCall {
  readonly reason: Error | undefined
  /** Whether the body had settled when it was aborted (the exchange's abort is then a no-op). */
  readonly settled: boolean
}

/**
 * The exchange's part, as undici plays it: an abort of a request still
 * running reports at once through `onError` (with undici's
 * `RequestAbortedError` when no reason is given), which fails the body; and
 * its readers wake later, not on the stack of what settled the body (the
 * exchange: on a microtask; here: on the stepped scheduler).
 */
class TestBody extends BufferedBody {
  readonly aborts: Array<AbortCall> = []
  constructor(
    private readonly onAbortError: (error: Error) => void,
    private readonly later: (task: () => void) => void
  ) {
    super()
  }
  protected override wake(wakers: ReadonlyArray<() => void>): void {
    this.later(() => {
      for (const wake of wakers) wake()
    })
  }
  abort(reason?: Error): void {
    this.aborts.push({ reason, settled: this.settled })
    if (this.settled) return
    const error = reason ?? new Undici.errors.RequestAbortedError()
    if (reason === undefined) this.onAbortError(error)
    this.fail(error)
  }
  pushChunk(chunk: Uint8Array): void {
    this.push(chunk)
  }
  endBody(): void {
    this.end()
  }
  failBody(error: Error): void {
    this.fail(error)
  }
}

// ---- readers -----------------------------------------------------------------

type Kind = "text" | "json" | "arrayBuffer" | "stream" | number // a number: `stream` cut to its first n chunks
const isStream = (kind: Kind) => kind === "stream" || typeof kind === "number"
const kindName = (kind: Kind) => typeof kind === "number" ? `take(${kind})` : kind

const hex = (bytes: Uint8Array) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("hex")

const readerOf = (response: UndiciResponse, kind: Kind): Effect.Effect<string, HttpClientError.HttpClientError> => {
  const collect = (stream: Stream.Stream<Uint8Array, HttpClientError.HttpClientError>) =>
    Effect.map(Stream.runCollect(stream), (chunks) => `chunks:[${chunks.map(hex).join(",")}]`)
  switch (kind) {
    case "text":
      return Effect.map(response.text, (text) => `text:${text}`)
    case "json":
      return Effect.map(response.json, (value) => `json:${JSON.stringify(value)}`)
    case "arrayBuffer":
      // The exact bytes: a view of a larger buffer (a pooled one, a socket read) would show here.
      return Effect.map(response.arrayBuffer, (buffer) => `bytes:${hex(new Uint8Array(buffer))}`)
    case "stream":
      return collect(response.stream)
    default:
      return collect(Stream.take(response.stream, kind))
  }
}

// ---- the model -------------------------------------------------------------

type Outcome = "running" | "interrupted" | `ok:${string}` | `err:${string}`

interface MReader {
  readonly kind: Kind
  outcome: Outcome
}

interface Model {
  readonly declared: Declared
  readonly chunks: Array<Uint8Array>
  ended: boolean
  /** The body's failure, described (see `describeCause`). */
  failure: string | undefined
  /** Whether a whole read has made the size check. */
  sized: boolean
  /** Aborts that found the body unsettled (and so dropped the connection): their reasons, described. */
  readonly dropped: Array<string>
  /** Every refusal, described: each aborts (a no-op if the body had settled). */
  readonly refusals: Array<string>
  readonly readers: Array<MReader>
  refused: number
  failed: number
}

const settledOf = (m: Model) => m.ended || m.failure !== undefined
const decoder = new TextDecoder()

const model = {
  /** What a reader of `kind` ends with, reading the body as it is now (settled, or with `n` chunks in). */
  outcome(m: Model, kind: Kind): Outcome {
    if (m.failure !== undefined) return `err:${m.failure}`
    const whole = Buffer.concat(m.chunks)
    switch (kind) {
      case "text":
        return `ok:text:${decoder.decode(whole)}`
      case "json": {
        const text = decoder.decode(whole)
        try {
          return `ok:json:${JSON.stringify(text === "" ? null : JSON.parse(text))}`
        } catch {
          return "err:SyntaxError"
        }
      }
      case "arrayBuffer":
        return `ok:bytes:${hex(whole)}`
      case "stream":
        return `ok:chunks:[${m.chunks.map(hex).join(",")}]`
      default:
        return `ok:chunks:[${m.chunks.slice(0, kind).map(hex).join(",")}]`
    }
  },
  /** The body fails (or is refused): every reader still waiting fails with it. */
  fail(m: Model, failure: string) {
    m.failure = failure
    for (const reader of m.readers) {
      if (reader.outcome === "running") reader.outcome = model.outcome(m, reader.kind)
    }
  },
  /** An abort: it drops the connection, and fails the body, only if the body is unsettled. */
  abort(m: Model, reason: string) {
    if (settledOf(m)) return
    m.dropped.push(reason)
    model.fail(m, reason)
  },
  refuse(m: Model, reason: string) {
    m.refusals.push(reason)
    model.abort(m, reason)
    m.failure = reason
  },
  /**
   * A `stream` cut short that has its chunks ends, and its end aborts a body
   * still arriving. Every reader a chunk wakes takes it before any of them
   * ends (a stream's end is some steps after its last pull): each of those
   * that has its chunks ends with them; then the first end aborts the body,
   * and every other reader fails.
   */
  cutShort(m: Model) {
    if (settledOf(m)) return
    const done = m.readers.filter((r) =>
      r.outcome === "running" && typeof r.kind === "number" && r.kind <= m.chunks.length
    )
    if (done.length === 0) return
    for (const reader of done) reader.outcome = model.outcome(m, reader.kind)
    model.abort(m, "aborted")
  },
  start(m: Model, reader: MReader) {
    m.readers.push(reader)
    if (!isStream(reader.kind) && !m.sized) {
      m.sized = true
      if (m.declared === "over") model.refuse(m, sizeRefusal)
    }
    if (settledOf(m)) reader.outcome = model.outcome(m, reader.kind)
    else model.cutShort(m)
  },
  push(m: Model, chunk: Uint8Array) {
    m.chunks.push(chunk)
    model.cutShort(m)
  },
  end(m: Model) {
    m.ended = true
    for (const reader of m.readers) {
      if (reader.outcome === "running") reader.outcome = model.outcome(m, reader.kind)
    }
  },
  interrupt(m: Model, readers: ReadonlyArray<MReader>) {
    const running = readers.filter((r) => r.outcome === "running")
    for (const reader of running) reader.outcome = "interrupted"
    if (running.length > 0) model.abort(m, "aborted")
  }
}

// ---- the real body -------------------------------------------------------------

interface Real {
  readonly fibers: Stepped
  readonly body: TestBody
  readonly response: UndiciResponse
  /** The errors the test made (and undici's aborts), by their descriptions. */
  readonly known: Map<unknown, string>
  /** Each kind's reader, built before the first chunk. */
  readonly early: Map<string, Effect.Effect<string, HttpClientError.HttpClientError>>
  readonly readers: Array<Fiber.Fiber<string, HttpClientError.HttpClientError>>
}

const describeCause = (r: Real, cause: unknown): string => {
  const known = r.known.get(cause)
  if (known !== undefined) return known
  if (cause instanceof ResponseTooLargeError) return `tooLarge(${cause.contentLength}/${cause.limit})`
  if (cause instanceof SyntaxError) return "SyntaxError"
  return `unknown(${String(cause)})`
}

const describeExit = (r: Real, exit: Exit.Exit<string, HttpClientError.HttpClientError>): Outcome => {
  if (Exit.isSuccess(exit)) return `ok:${exit.value}`
  if (Cause.hasInterruptsOnly(exit.cause)) return "interrupted"
  const failure = Cause.findErrorOption(exit.cause)
  if (Option.isNone(failure)) return `err:unexpected(${Cause.pretty(exit.cause)})`
  const error = failure.value
  // Effect 4's one HttpClientError, its reason a DecodeError (3.x: ResponseError Decode).
  if (
    !HttpClientError.isHttpClientError(error) || error.reason._tag !== "DecodeError" || error.response !== r.response
  ) {
    return `err:unexpected(${String(error)})`
  }
  return `err:${describeCause(r, error.reason.cause)}`
}

const setup = (base: Context.Context<never>, declared: Declared) => (): { model: Model; real: Real } => {
  const known = new Map<unknown, string>()
  const fibers = stepped(base)
  const body = new TestBody((error) => known.set(error, "aborted"), fibers.later)
  const header = declaredHeader[declared]
  const response = new UndiciResponse(
    HttpClientRequest.get("https://api.sfox.com/v1/user/balance"),
    200,
    header === undefined ? {} : { "content-length": header },
    body,
    maxBytes
  )
  const kinds: Array<Kind> = ["text", "json", "arrayBuffer", "stream", 1, 2, 3]
  return {
    model: {
      declared,
      chunks: [],
      ended: false,
      failure: undefined,
      sized: false,
      dropped: [],
      refusals: [],
      readers: [],
      refused: 0,
      failed: 0
    },
    real: {
      fibers,
      body,
      response,
      known,
      early: new Map(kinds.map((kind) => [kindName(kind), readerOf(response, kind)])),
      readers: []
    }
  }
}

/** Lets every fiber run until none can move without the test, then compares. */
const settleAndCompare = (m: Model, r: Real) => {
  r.fibers.settle()
  const body = r.body
  assert.strictEqual(body.chunks.length, m.chunks.length, "chunks")
  assert.strictEqual(body.ended, m.ended, "ended")
  assert.strictEqual(body.failure === undefined ? undefined : describeCause(r, body.failure), m.failure, "failure")
  assert.deepStrictEqual(
    body.aborts.filter((call) => !call.settled).map((call) =>
      call.reason === undefined ? "aborted" : describeCause(r, call.reason)
    ),
    m.dropped,
    "aborts that dropped the connection"
  )
  assert.deepStrictEqual(
    body.aborts.filter((call) => call.reason !== undefined).map((call) => describeCause(r, call.reason)),
    m.refusals,
    "refusals abort"
  )
  for (const [i, reader] of m.readers.entries()) {
    const exit = r.readers[i]!.pollUnsafe()
    const real: Outcome = exit === undefined ? "running" : describeExit(r, exit)
    if (settledOf(m)) {
      assert.notStrictEqual(real, "running", `reader ${i} (${kindName(reader.kind)}) hangs on a settled body`)
    }
    assert.strictEqual(real, reader.outcome, `reader ${i} (${kindName(reader.kind)})`)
  }
}

// ---- commands ----------------------------------------------------------------

type Cmd = fc.Command<Model, Real>

/**
 * A chunk as undici hands it over: a view at `offset` into a larger read,
 * or (`offset` -1) a buffer of its own, exactly its size.
 */
class Push implements Cmd {
  constructor(readonly bytes: ReadonlyArray<number>, readonly offset: number) {}
  check = (m: Readonly<Model>) => !settledOf(m)
  run(m: Model, r: Real) {
    const length = this.bytes.length
    const read = Buffer.alloc(this.offset < 0 ? length : this.offset + length + 3, 0x7b)
    read.set(this.bytes, Math.max(this.offset, 0))
    model.push(m, Buffer.from(this.bytes))
    r.body.pushChunk(this.offset < 0 ? read : read.subarray(this.offset, this.offset + length))
    settleAndCompare(m, r)
  }
  toString = () => `push([${this.bytes.join(",")}]${this.offset < 0 ? "" : ` at ${this.offset}`})`
}

/**
 * Interrupts, with no step of any fiber between, the reader `pick` picks (if
 * any): at the instant the body settles, its wake-up and its interruption
 * race; the interruption wins (it is in the fiber's queue before the fiber
 * runs again), and the body, settled, is not aborted.
 */
const interruptingAtOnce = (m: Model, r: Real, pick: number | undefined, settle: () => void) => {
  const reader = pick === undefined || m.readers.length === 0 ? undefined : pick % m.readers.length
  if (reader !== undefined && m.readers[reader]!.outcome === "running") m.readers[reader]!.outcome = "interrupted"
  settle()
  if (reader !== undefined) r.readers[reader]!.interruptUnsafe()
}
const interruptingName = (pick: number | undefined) => pick === undefined ? "" : `, interrupting ${pick}`

class End implements Cmd {
  constructor(readonly interrupting: number | undefined) {}
  check = (m: Readonly<Model>) => !settledOf(m)
  run(m: Model, r: Real) {
    interruptingAtOnce(m, r, this.interrupting, () => r.body.endBody())
    model.end(m)
    settleAndCompare(m, r)
  }
  toString = () => `end(${interruptingName(this.interrupting).slice(2)})`
}

const undiciErrors = {
  socket: () => new Undici.errors.SocketError("other side closed"),
  bodyTimeout: () => new Undici.errors.BodyTimeoutError(),
  tooBig: () => new Undici.errors.ResponseExceededMaxSizeError()
}

class Fail implements Cmd {
  constructor(readonly kind: keyof typeof undiciErrors, readonly interrupting: number | undefined) {}
  check = (m: Readonly<Model>) => !settledOf(m)
  run(m: Model, r: Real) {
    const error = undiciErrors[this.kind]()
    assert.isString((error as { code?: unknown }).code)
    const name = `fail#${m.failed++}(${this.kind})`
    r.known.set(error, name)
    interruptingAtOnce(m, r, this.interrupting, () => r.body.failBody(error))
    model.fail(m, name)
    settleAndCompare(m, r)
  }
  toString = () => `fail(${this.kind}${interruptingName(this.interrupting)})`
}

/** The size check's refusal, whenever it comes (once a run): it wins over anything. */
class Refuse implements Cmd {
  check = (m: Readonly<Model>) => m.refused === 0
  run(m: Model, r: Real) {
    const error = new ResponseTooLargeError(1000 + m.refused, maxBytes)
    const name = `refused#${m.refused++}`
    r.known.set(error, name)
    model.refuse(m, name)
    r.body.refuse(error)
    settleAndCompare(m, r)
  }
  toString = () => "refuse"
}

/**
 * A reader starts: with a fresh effect or the one built before the first
 * chunk; `interrupted`: interrupted before its fiber ever ran.
 */
class Read implements Cmd {
  constructor(readonly kind: Kind, readonly early: boolean, readonly interrupted: boolean) {}
  check = () => true
  run(m: Model, r: Real) {
    const reader: MReader = { kind: this.kind, outcome: "running" }
    if (this.interrupted) {
      m.readers.push(reader)
      reader.outcome = "interrupted"
    } else {
      model.start(m, reader)
    }
    const effect = this.early ? r.early.get(kindName(this.kind))! : readerOf(r.response, this.kind)
    // Not started on the spot: its first step waits for the scheduler, and so for the interruption.
    const fiber = Effect.runForkWith(r.fibers.context)(
      this.interrupted ? Effect.andThen(Effect.yieldNow, effect) : effect
    )
    if (this.interrupted) fiber.interruptUnsafe()
    r.readers.push(fiber)
    settleAndCompare(m, r)
  }
  toString = () =>
    `read(${kindName(this.kind)}${this.early ? ", early" : ""}${this.interrupted ? ", interrupted at once" : ""})`
}

/** Interrupts one reader: a running one if any, else one that has ended (and stays as it ended). */
class Interrupt implements Cmd {
  constructor(readonly pick: number) {}
  check = (m: Readonly<Model>) => m.readers.length > 0
  run(m: Model, r: Real) {
    const running = [...m.readers.keys()].filter((i) => m.readers[i]!.outcome === "running")
    const pool = running.length > 0 ? running : [...m.readers.keys()]
    const i = pool[this.pick % pool.length]!
    model.interrupt(m, [m.readers[i]!])
    r.readers[i]!.interruptUnsafe()
    settleAndCompare(m, r)
  }
  toString = () => `interrupt(${this.pick})`
}

/** Interrupts every reader at once: their fibers are interrupted together, then run. */
class InterruptAll implements Cmd {
  check = (m: Readonly<Model>) => m.readers.filter((reader) => reader.outcome === "running").length > 1
  run(m: Model, r: Real) {
    model.interrupt(m, m.readers)
    for (const fiber of r.readers) fiber.interruptUnsafe()
    settleAndCompare(m, r)
  }
  toString = () => "interruptAll"
}

const kind: fc.Arbitrary<Kind> = fc.oneof(
  fc.constantFrom<Kind>("text", "json", "arrayBuffer", "stream"),
  fc.integer({ min: 1, max: 3 })
)
// Mostly the planned body's bytes (JSON, UTF-8 split anywhere), sometimes stray ones.
const push = (planned: Uint8Array) =>
  fc.tuple(
    fc.oneof(
      {
        weight: 4,
        arbitrary: fc.nat(planned.length).chain((start) =>
          fc.nat(6).map((n) => [...planned.subarray(start, start + n)])
        )
      },
      { weight: 1, arbitrary: fc.array(fc.integer({ min: 0, max: 255 }), { maxLength: 4 }) }
    ),
    fc.oneof(fc.constant(-1), fc.constant(0), fc.integer({ min: 1, max: 5 }))
  ).map(([bytes, offset]) => new Push(bytes, offset))

const interrupting = fc.option(fc.nat(20), { nil: undefined, freq: 2 })

// Chunks, readers and interruptions are drawn more often than what settles the body, so
// that most runs have several readers waiting through several chunks.
const commandsFor = (planned: Uint8Array) =>
  fc.commands(
    [
      push(planned),
      push(planned),
      push(planned),
      push(planned),
      push(planned),
      interrupting.map((pick) => new End(pick)),
      fc.tuple(fc.constantFrom<keyof typeof undiciErrors>("socket", "bodyTimeout", "tooBig"), interrupting).map(
        ([k, pick]) => new Fail(k, pick)
      ),
      fc.constant(new Refuse()),
      fc.tuple(kind, fc.boolean(), fc.boolean()).map(([k, early, at]) => new Read(k, early, at)),
      fc.tuple(kind, fc.boolean()).map(([k, early]) => new Read(k, early, false)),
      fc.tuple(kind, fc.boolean()).map(([k, early]) => new Read(k, early, false)),
      fc.tuple(kind, fc.boolean()).map(([k, early]) => new Read(k, early, false)),
      fc.nat(20).map((pick) => new Interrupt(pick)),
      fc.nat(20).map((pick) => new Interrupt(pick)),
      fc.constant(new InterruptAll())
    ],
    { maxCommands: 30, size: "max" }
  )

const planned = fc.oneof(fc.json({ maxDepth: 2 }), fc.string({ unit: "grapheme", maxLength: 12 })).map((text) =>
  new TextEncoder().encode(text)
)

const property = fc.tuple(fc.constantFrom<Declared>("none", "within", "over"), planned).chain(([declared, body]) =>
  fc.tuple(fc.constant(declared), commandsFor(body))
)

/** Runs one fixed command sequence against the model, as the property does. */
const scenario = (declared: Declared, cmds: ReadonlyArray<Cmd>) =>
  Effect.gen(function*() {
    const context = yield* Effect.context<never>()
    fc.modelRun(setup(context, declared), cmds)
  })

const bytes = (text: string) => [...new TextEncoder().encode(text)]

describe("NodeSfox response body (model-based)", () => {
  it.effect("readers wait for the whole body, whichever chunk they start at; a multi-byte character split in two", () =>
    scenario("none", [
      new Read("text", true, false),
      new Push([...bytes("{\"a\":\""), ...bytes("é").slice(0, 1)], 0),
      new Read("json", false, false),
      new Read("stream", false, false),
      new Push([...bytes("é").slice(1), ...bytes("\"")], 2),
      new Push(bytes("}"), -1),
      new End(undefined),
      new Read("arrayBuffer", false, false),
      new Read(2, true, false)
    ]))

  it.effect("a reader interrupted before any chunk drops the connection; the others fail with the abort", () =>
    scenario("none", [
      new Read("text", false, false),
      new Read("stream", false, false),
      new Interrupt(0),
      new Read("json", false, false)
    ]))

  it.effect("a reader interrupted between chunks, and one interrupted after the end", () =>
    scenario("within", [
      new Read("json", false, false),
      new Push(bytes("[1,"), 0),
      new Read("text", false, false),
      new Push(bytes("2]"), 0),
      new Interrupt(1),
      new Read("text", true, false)
    ]))

  it.effect("readers interrupted at the instant the body ends or fails end interrupted; nothing is aborted", () =>
    Effect.gen(function*() {
      yield* scenario("none", [new Read("text", false, false), new Read("stream", false, false), new End(1)])
      yield* scenario("none", [
        new Read(2, false, false),
        new Push([1], 0),
        new Read("json", false, false),
        new Fail("tooBig", 0)
      ])
    }))

  it.effect("after the end, interrupting does nothing", () =>
    scenario("none", [
      new Read("text", false, false),
      new Push(bytes("[]"), 0),
      new End(undefined),
      new Interrupt(0),
      new Read("arrayBuffer", false, false)
    ]))

  it.effect("a stream cut short while the body arrives aborts it; every reader woken by the same chunk takes it", () =>
    scenario("none", [
      new Read(2, false, false),
      new Read(1, false, false),
      new Read("text", false, false),
      new Push([1], 0),
      new Push([2], 0)
    ]))

  it.effect("a declared length over the limit: refused at the first whole read, not by a stream", () =>
    scenario("over", [
      new Read("stream", false, false),
      new Push([1], 0),
      new Read("text", false, false),
      new Read("stream", false, false)
    ]))

  it.effect("a refusal after the end wins over the body", () =>
    scenario("none", [
      new Push([1], 0),
      new End(undefined),
      new Read("text", false, false),
      new Refuse(),
      new Read(1, false, false)
    ]))

  it.effect("a failure wakes every reader; a reader started after it fails at once", () =>
    scenario("none", [
      new Read("arrayBuffer", false, false),
      new Read(3, false, false),
      new Push([7], 0),
      new Fail("socket", undefined),
      new Read("stream", false, false)
    ]))

  it.effect(
    "every interleaving of chunks, end, failure, refusal, readers and interruptions matches the model",
    () =>
      Effect.gen(function*() {
        const context = yield* Effect.context<never>()
        fc.assert(
          fc.property(property, ([declared, cmds]) => fc.modelRun(setup(context, declared), cmds)),
          { numRuns: 2_000 }
        )
      }),
    300_000
  )
})
