/**
 * `pnpm build && TSX_TSCONFIG_PATH=bench/tsconfig.run.json node --import tsx bench/src/whyNot.ts [part]
 * [--rounds N] [--count N] [--quick]`, or `pnpm bench --scenario why-not [--part P]`: "Why not Effect's …",
 * the library's hand-written parts measured beside Effect's own (docs/performance.md).
 *
 * Parts (all of them when none is named):
 * - `retry`: the service's own retry loop against `Effect.retry(schedule)` plus a deadline, over an
 *   HttpClient that answers from memory (no sockets, no limiter), so that only CPU is measured:
 *   µs of CPU per `create` on the success path and on a path with one retry (zero delays);
 * - `retry-behaviour`: what each way does, under `TestClock`, where they differ (the deadline,
 *   `Retry-After`, an unwelcome answer, a body that can be sent once);
 * - `limiter`, `batcher`: `whyNotRateLimiter.ts` / `whyNotBatcher.ts` beside this file, when present
 *   (their `run` export is called; a file without one runs on import).
 *
 * The machine is shared: the variants alternate within one process, each round starting with another
 * one, and every figure is given as the median with the spread (min–max) of the rounds.
 */
import * as HttpBody from "@effect/platform/HttpBody"
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import type * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import * as Core from "@sfox-effect/core"
import { enforce, noRetry, UserTokenService } from "@sfox-effect/core"
import { FakeSfox, Fault, httpClient as fakeClient, SfoxSimulator } from "@sfox-effect/core/testing"
import {
  Cause,
  Clock,
  Context,
  Effect,
  Exit,
  Fiber,
  Layer,
  Logger,
  LogLevel,
  ManagedRuntime,
  Redacted,
  Schedule,
  ScheduleDecision,
  ScheduleIntervals,
  Stream,
  TestClock,
  TestContext
} from "effect"
import * as Fs from "node:fs"
import * as Path from "node:path"
import * as Url from "node:url"

export interface WhyNotOptions {
  readonly rounds: number
  readonly count: number
  readonly quick: boolean
  readonly log: (line: string) => void
}

const fmt = (n: number, digits = 0) => n.toLocaleString("en-US", { maximumFractionDigits: digits })
const median = (xs: ReadonlyArray<number>) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!
const spread = (xs: ReadonlyArray<number>, digits: number) =>
  `${fmt(median(xs), digits)} (${fmt(Math.min(...xs), digits)}–${fmt(Math.max(...xs), digits)})`

export const table = (headers: ReadonlyArray<string>, rows: ReadonlyArray<ReadonlyArray<string>>): string => {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)))
  const line = (cells: ReadonlyArray<string>) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(" | ")} |`
  return [line(headers), `| ${widths.map((w) => "-".repeat(w)).join(" | ")} |`, ...rows.map(line)].join("\n")
}

// ---------------------------------------------------------------------------------------------------------------
// Part `retry`: CPU per call

const key = "bench-key"
const bodyFor = (userId: string) =>
  JSON.stringify({
    data: { token: "a".repeat(64), partner_user_id: userId, expires: new Date(Date.now() + 86_400_000).toISOString() }
  })
// Only what the service reads of a response, as in micro.ts: a web Response per call would cost more than
// the service itself.
const answer = (status: number, body: string) =>
  ({
    status,
    headers: { "content-type": "application/json", "content-length": String(Buffer.byteLength(body)) },
    text: Effect.succeed(body)
  }) as unknown as HttpClientResponse.HttpClientResponse
const busy = answer(503, JSON.stringify({ error: "service unavailable" }))

/**
 * An HttpClient answering from memory: 201 to every request (for the user id "user"), or (`failFirst`) 503 to
 * the first request for a URL (the create of one user id) and 201 to the next. The 201 of a user id is built at
 * its first request, so that each variant pays the same for it.
 */
const instantClient = (failFirst: boolean): HttpClient.HttpClient => {
  const preprocess = Effect.succeed as HttpClient.HttpClient.Preprocess<never, never>
  if (!failFirst) {
    const ok = answer(201, bodyFor("user"))
    return HttpClient.makeWith((request) => Effect.as(request, ok), preprocess)
  }
  const pending = new Map<string, HttpClientResponse.HttpClientResponse>()
  return HttpClient.makeWith(
    (request) =>
      Effect.map(request, (r) => {
        const ok = pending.get(r.url)
        if (ok !== undefined) {
          pending.delete(r.url)
          return ok
        }
        pending.set(r.url, answer(201, bodyFor(r.url.slice(r.url.lastIndexOf("/") + 1))))
        return busy
      }),
    preprocess
  )
}

/**
 * The Node client's declarations (the service then races no timer per attempt, in both variants alike),
 * when core still exports them on its main entry; the measurement holds either way, and says which.
 */
const declared = (client: HttpClient.HttpClient): { client: HttpClient.HttpClient; declared: boolean } => {
  type Declarer = { readonly [name: string]: ((c: HttpClient.HttpClient) => HttpClient.HttpClient) | undefined }
  const exports = Core as unknown as Record<string, Declarer | undefined>
  const enforcedBy = exports["AttemptDeadline"]?.["enforcedBy"]
  const declare = exports["PlainClient"]?.["declare"]
  return enforcedBy === undefined || declare === undefined
    ? { client, declared: false }
    : { client: declare(enforcedBy(client)), declared: true }
}

// Zero delays: the loop, not the clock, is measured. Two retries at most, whatever the way.
const policy = Schedule.recurs(2)
const deadline = "1 minute"
const enforced = enforce(policy, "30 seconds")
const enforcedUpTo = enforce(policy.pipe(Schedule.upTo(deadline)), "30 seconds")

type Create = ReturnType<UserTokenService.Service["create"]>

interface RetryVariant {
  readonly name: string
  /** The service's own retry policy: the variant's, or none when Effect retries. */
  readonly serviceRetry: Schedule.Schedule<unknown, Core.UserTokenError>
  readonly wrap: (create: Create) => Effect.Effect<unknown, unknown>
}

const retryVariants: ReadonlyArray<RetryVariant> = [
  { name: "ours: the service's loop (retry: recurs(2))", serviceRetry: policy, wrap: (create) => create },
  {
    name: "Effect.retry(enforce(recurs(2))) + Effect.timeout",
    serviceRetry: noRetry,
    wrap: (create) => create.pipe(Effect.retry(enforced), Effect.timeout(deadline))
  },
  {
    name: "Effect.retry(enforce(recurs(2) upTo deadline))",
    serviceRetry: noRetry,
    wrap: (create) => Effect.retry(create, enforcedUpTo)
  }
]

const runtimeFor = (client: HttpClient.HttpClient, retry: RetryVariant["serviceRetry"]) =>
  ManagedRuntime.make(
    UserTokenService.layer({ apiKey: Redacted.make(key), rateLimit: false, retry, deadline }).pipe(
      Layer.provide(Layer.succeed(HttpClient.HttpClient, client)),
      Layer.orDie
    )
  )

type Runtime = ReturnType<typeof runtimeFor>

/** `ids.length` creates at 50 in flight: µs of CPU per call and calls per second of wall time. */
const timed = async (runtime: Runtime, ids: ReadonlyArray<string>, wrap: RetryVariant["wrap"]) => {
  const program = Effect.flatMap(
    UserTokenService,
    (service) => Effect.forEach(ids, (id) => wrap(service.create(id)), { concurrency: 50, discard: true })
  )
  const cpu0 = process.cpuUsage()
  const t0 = performance.now()
  await runtime.runPromise(program)
  const cpu = process.cpuUsage(cpu0)
  const ms = performance.now() - t0
  return { cpuMicros: (cpu.user + cpu.system) / ids.length, perSecond: ids.length / (ms / 1000) }
}

type RetryPath = "success" | "one retry"

interface RetryRow {
  readonly path: RetryPath
  readonly variant: string
  readonly cpuMicros: Array<number>
  readonly perSecond: Array<number>
}

// Success: one user id, as micro.ts. One retry: an id per call, which is what fails once.
const idsFor = (path: RetryPath, count: number, tag: string) =>
  Array.from({ length: count }, (_, i) => path === "success" ? "user" : `u-${tag}-${i}`)

/** Every variant on one path, alternating, each round starting with the next one. */
const retryPath = async (path: RetryPath, options: WhyNotOptions): Promise<Array<RetryRow>> => {
  const { client, declared: fast } = declared(instantClient(path === "one retry"))
  const runtimes = retryVariants.map((v) => runtimeFor(client, v.serviceRetry))
  const rows = retryVariants.map((v): RetryRow => ({ path, variant: v.name, cpuMicros: [], perSecond: [] }))
  options.log(
    `why-not retry, ${path}: ${fmt(options.count)} creates × ${options.rounds} rounds${
      fast ? "" : " (client not declared: core no longer exports AttemptDeadline/PlainClient)"
    }`
  )
  for (const [i, v] of retryVariants.entries()) {
    await timed(runtimes[i]!, idsFor(path, options.count / 4, `w${i}`), v.wrap)
  }
  for (let round = 0; round < options.rounds; round++) {
    for (let k = 0; k < retryVariants.length; k++) {
      const i = (k + round) % retryVariants.length
      const result = await timed(runtimes[i]!, idsFor(path, options.count, `r${round}v${i}`), retryVariants[i]!.wrap)
      rows[i]!.cpuMicros.push(result.cpuMicros)
      rows[i]!.perSecond.push(result.perSecond)
      options.log(`  ${retryVariants[i]!.name}: ${fmt(result.cpuMicros, 2)} µs CPU/call, ${fmt(result.perSecond)} /s`)
    }
  }
  for (const runtime of runtimes) await runtime.dispose()
  return rows
}

const retryCpu = async (options: WhyNotOptions) => {
  const rows = [...await retryPath("success", options), ...await retryPath("one retry", options)]
  const oursOf = (path: RetryPath) => median(rows.find((r) => r.path === path)!.cpuMicros)
  const printed = table(
    ["path", "variant", "µs CPU / call, median (min–max)", "× ours", "calls/s (wall), median"],
    rows.map((r) => [
      r.path,
      r.variant,
      spread(r.cpuMicros, 2),
      fmt(median(r.cpuMicros) / oursOf(r.path), 2),
      fmt(median(r.perSecond))
    ])
  )
  return { rows, printed }
}

// ---------------------------------------------------------------------------------------------------------------
// Part `retry-loop`: the two loops alone, around an attempt that costs nothing

/** A failure made once: the loops are measured, not the making of errors. */
const failure = new Core.TransportError({ reason: "Connect", description: "connection refused" })

/**
 * The retry loop of packages/core/src/internal/request.ts (at 30bf273) without its attempt, telemetry and
 * logging: `step` the schedule with the failure, stop when it is done or when the retry could not start
 * before the deadline, sleep only for a delay above zero.
 */
const handLoop = <A, E>(
  attempt: Effect.Effect<A, E>,
  schedule: Schedule.Schedule<unknown, E>,
  deadlineMillis: number
): Effect.Effect<A, E> =>
  Effect.withFiberRuntime((fiber) => {
    const clock = Context.get(fiber.currentDefaultServices, Clock.Clock)
    const deadlineAt = clock.unsafeCurrentTimeMillis() + deadlineMillis
    const loop = (state: unknown): Effect.Effect<A, E> =>
      Effect.catchAll(attempt, (error) => {
        const failedAt = clock.unsafeCurrentTimeMillis()
        return Effect.flatMap(schedule.step(failedAt, error, state), ([next, , decision]) => {
          if (ScheduleDecision.isDone(decision)) return Effect.fail(error)
          const resumeAt = Math.max(failedAt, ScheduleIntervals.start(decision.intervals))
          if (resumeAt >= deadlineAt) return Effect.fail(error)
          const delay = resumeAt - failedAt
          return delay === 0 ? loop(next) : Effect.zipRight(Effect.sleep(delay), loop(next))
        })
      })
    return loop(schedule.initial)
  })

/** A call's attempt that fails its first `failures` times (the counter is the call's, not the attempt's). */
const attemptFailing = (failures: number): Effect.Effect<number, Core.TransportError> => {
  let left = failures
  return Effect.suspend(() => left-- > 0 ? Effect.fail(failure) : Effect.succeed(1))
}

interface LoopVariant {
  readonly name: string
  readonly run: (attempt: Effect.Effect<number, Core.TransportError>) => Effect.Effect<unknown, unknown>
}

const loopVariants: ReadonlyArray<LoopVariant> = [
  { name: "hand loop (request.ts's, transcribed)", run: (attempt) => handLoop(attempt, enforced, 60_000) },
  {
    name: "Effect.retry + Effect.timeout",
    run: (attempt) => Effect.timeout(Effect.retry(attempt, enforced), deadline)
  },
  { name: "Effect.retry, schedule upTo deadline", run: (attempt) => Effect.retry(attempt, enforcedUpTo) }
]

/** `count` calls in one fiber, one after another: ns of CPU per call. */
const loopTimed = (variant: LoopVariant, failures: number, count: number) => {
  const program = Effect.repeatN(Effect.suspend(() => variant.run(attemptFailing(failures))), count - 1)
  const cpu0 = process.cpuUsage()
  return Effect.runPromise(program).then(() => {
    const cpu = process.cpuUsage(cpu0)
    return (cpu.user + cpu.system) * 1000 / count
  })
}

const retryLoop = async (options: WhyNotOptions) => {
  const count = options.count * 5
  const rows: Array<{ path: string; variant: string; cpuNanos: Array<number> }> = []
  for (const [path, failures] of [["success", 0], ["one retry", 1]] as const) {
    options.log(`why-not retry-loop, ${path}: ${fmt(count)} calls × ${options.rounds} rounds`)
    const mine = loopVariants.map((v) => ({ path, variant: v.name, cpuNanos: [] as Array<number> }))
    for (const v of loopVariants) await loopTimed(v, failures, count / 4)
    for (let round = 0; round < options.rounds; round++) {
      for (let k = 0; k < loopVariants.length; k++) {
        const i = (k + round) % loopVariants.length
        const nanos = await loopTimed(loopVariants[i]!, failures, count)
        mine[i]!.cpuNanos.push(nanos)
        options.log(`  ${loopVariants[i]!.name}: ${fmt(nanos)} ns CPU/call`)
      }
    }
    for (const row of mine) rows.push(row)
  }
  const oursOf = (path: string) => median(rows.find((r) => r.path === path)!.cpuNanos)
  const printed = table(
    ["path", "loop", "ns CPU / call, median (min–max)", "× hand loop", "+ ns / call"],
    rows.map((r) => [
      r.path,
      r.variant,
      spread(r.cpuNanos, 0),
      fmt(median(r.cpuNanos) / oursOf(r.path), 2),
      fmt(median(r.cpuNanos) - oursOf(r.path))
    ])
  )
  return { rows, printed }
}

// ---------------------------------------------------------------------------------------------------------------
// Part `retry-behaviour`: what each way does, under TestClock

/**
 * The fake sFOX of `@sfox-effect/core/testing` as the client, with one addition: a request body that is a
 * stream is read here (its bytes are counted in `bodies`), as a socket would.
 */
const fakeSfox = (bodies: Array<number>) =>
  Layer.effectContext(Effect.map(SfoxSimulator.make({ apiKey: key }), (simulator) => {
    const inner = fakeClient(simulator)
    const client = HttpClient.make((request) =>
      request.body._tag !== "Stream" ? inner.execute(request) : Effect.flatMap(
        Effect.orElseSucceed(Stream.runFold(request.body.stream, 0, (n, chunk) => n + chunk.length), () => -1),
        (n) => {
          bodies.push(n)
          return inner.execute(HttpClientRequest.setBody(request, HttpBody.empty))
        }
      )
    )
    return Context.make(FakeSfox, simulator).pipe(Context.add(HttpClient.HttpClient, client))
  }))

const outcomeOf = (exit: Exit.Exit<unknown, unknown>): string =>
  Exit.match(exit, {
    onSuccess: (value) => {
      const status = (value as { status?: unknown }).status
      return typeof status === "number" ? `the ${status} response` : "a token"
    },
    onFailure: (cause) => {
      const error = Cause.squash(cause) as { _tag?: string; status?: number; response?: { status?: number } }
      const status = error.status ?? error.response?.status
      return `fails: ${error._tag ?? String(error)}${status === undefined ? "" : ` ${status}`}`
    }
  })

interface Case {
  readonly case: string
  readonly way: string
  readonly serviceRetry: Schedule.Schedule<unknown, Core.UserTokenError>
  readonly faults: ReadonlyArray<SfoxSimulator.Fault>
  /** Requests to these paths are the ones shown (a user call's token mint is not). */
  readonly shown: "mint" | "user"
  readonly call: (tokens: UserTokenService.Service) => Effect.Effect<unknown, unknown, FakeSfox>
}

/** One case: the call forked, the clock moved 100 ms at a time for 20 s; when it ended, and its requests. */
const runCase = (c: Case) =>
  Effect.gen(function*() {
    const tokens = yield* UserTokenService
    const fake = yield* FakeSfox
    if (c.shown === "mint") yield* fake.enqueue(c.faults)
    const fiber = yield* Effect.fork(Effect.zip(Effect.exit(c.call(tokens)), Clock.currentTimeMillis))
    for (let step = 0; step < 200; step++) yield* TestClock.adjust("100 millis")
    const [exit, endedAt] = yield* Fiber.join(fiber)
    const requests = (yield* fake.requests).filter((r) => (r.path.startsWith("/v1/user/")) === (c.shown === "user"))
    return { endedAt, outcome: outcomeOf(exit), at: requests.map((r) => `${fmt(r.at / 1000, 1)} s`) }
  })

const runCaseIsolated = (c: Case) => {
  const bodies: Array<number> = []
  const layer = UserTokenService.layer({
    apiKey: Redacted.make(key),
    rateLimit: false,
    timeout: "1 second",
    deadline: "5 seconds",
    cache: true,
    retry: c.serviceRetry
  }).pipe(Layer.provideMerge(fakeSfox(bodies)), Layer.orDie)
  return runCase(c).pipe(
    Effect.provide(layer),
    // The service's warnings (a 429 not retried, say) are expected here.
    Logger.withMinimumLogLevel(LogLevel.None),
    Effect.provide(TestContext.TestContext),
    Effect.map((r) => ({ ...r, bodies }))
  )
}

/** A user call after its token: the faults are queued once the token is there, for the user call alone. */
const userCall = (
  request: HttpClientRequest.HttpClientRequest,
  faults: ReadonlyArray<SfoxSimulator.Fault>,
  through: (client: HttpClient.HttpClient.With<unknown>) => HttpClient.HttpClient.With<unknown>
) =>
(tokens: UserTokenService.Service) =>
  Effect.gen(function*() {
    yield* tokens.get("user-1")
    yield* Effect.flatMap(FakeSfox, (fake) => fake.enqueue(faults))
    return yield* through(tokens.clientFor("user-1")).execute(request)
  })

const unavailable = Array.from({ length: 8 }, () => Fault.status(503))
const spaced = Schedule.spaced("3 seconds")
const oneShotBody = () => {
  async function* chunks() {
    yield new TextEncoder().encode("x".repeat(1_000))
  }
  // One generator: read once, as a socket or a file stream is.
  return HttpBody.stream(Stream.fromAsyncIterable(chunks(), (e) => e), "application/octet-stream")
}
const put = () => HttpClientRequest.put("/v1/user/settings", { body: oneShotBody() })
const getBalance = HttpClientRequest.get("/v1/user/balance")
const platformRetry = (client: HttpClient.HttpClient.With<unknown>) => HttpClient.retryTransient(client, policy)
const retryNon2xx = (client: HttpClient.HttpClient.With<unknown>) =>
  HttpClient.retry(HttpClient.filterStatusOk(client), policy)

const cases: ReadonlyArray<Case> = [
  ...[
    ["ours (retry: spaced 3 s)", spaced, (t: UserTokenService.Service) => t.create("user-1")] as const,
    [
      "Effect.retry(enforce(spaced 3 s)) + Effect.timeout(5 s)",
      noRetry,
      (t: UserTokenService.Service) =>
        t.create("user-1").pipe(Effect.retry(enforce(spaced, "30 seconds")), Effect.timeout("5 seconds"))
    ] as const,
    [
      "Effect.retry(enforce(spaced 3 s upTo 5 s))",
      noRetry,
      (t: UserTokenService.Service) =>
        Effect.retry(t.create("user-1"), enforce(spaced.pipe(Schedule.upTo("5 seconds")), "30 seconds"))
    ] as const
  ].map(([way, serviceRetry, call]): Case => ({
    case: "deadline 5 s, every answer 503",
    way,
    serviceRetry,
    faults: unavailable,
    shown: "mint",
    call
  })),
  ...[
    ["ours (retry: recurs(2))", policy, (t: UserTokenService.Service) => t.create("user-1")] as const,
    [
      "Effect.retry(enforce(recurs(2)))",
      noRetry,
      (t: UserTokenService.Service) => Effect.retry(t.create("user-1"), enforced)
    ] as const
  ].map(([way, serviceRetry, call]): Case => ({
    case: "429 Retry-After: 2, then 201",
    way,
    serviceRetry,
    faults: [Fault.status(429, { headers: { "retry-after": "2" } })],
    shown: "mint",
    call
  })),
  ...[
    ["ours, clientFor (retry: recurs(2))", policy, (c: HttpClient.HttpClient.With<unknown>) => c] as const,
    ["HttpClient.retryTransient(recurs(2)) over clientFor", noRetry, platformRetry] as const,
    ["HttpClient.retry(recurs(2)) over clientFor + filterStatusOk", noRetry, retryNon2xx] as const
  ].flatMap(([way, serviceRetry, through]): Array<Case> => [
    {
      case: "GET as a user, every answer 503",
      way,
      serviceRetry,
      faults: [],
      shown: "user",
      call: userCall(getBalance, unavailable, through)
    },
    {
      case: "PUT as a user, 1,000-byte stream body, every answer 503",
      way,
      serviceRetry,
      faults: [],
      shown: "user",
      call: userCall(put(), unavailable, through)
    }
  ])
]

const retryBehaviour = async (options: WhyNotOptions) => {
  options.log(`why-not retry behaviour: ${cases.length} cases under TestClock (timeout 1 s, deadline 5 s)`)
  const rows: Array<Array<string>> = []
  const results = []
  for (const c of cases) {
    const r = await Effect.runPromise(runCaseIsolated(c))
    results.push({ case: c.case, way: c.way, ...r })
    rows.push([
      c.case,
      c.way,
      r.at.join(", "),
      r.bodies.length === 0 ? "" : r.bodies.map((n) => `${fmt(n)} B`).join(", "),
      `${fmt(r.endedAt / 1000, 1)} s`,
      r.outcome
    ])
  }
  const printed = table(["case", "way", "requests at", "stream bytes sent", "ended at", "the caller gets"], rows)
  return { results, printed }
}

// ---------------------------------------------------------------------------------------------------------------
// Parts written by other hands: run when present

const here = Path.dirname(Url.fileURLToPath(import.meta.url))

/**
 * `bench/src/<file>.ts`, when it exists: its `run(options)` (or default export) is awaited; what it returns is
 * printed (a string as it is, anything else as JSON). A file without either export runs on import.
 */
const external = async (file: string, options: WhyNotOptions) => {
  const path = Path.join(here, `${file}.ts`)
  if (!Fs.existsSync(path)) {
    options.log(`why-not: ${file}.ts not present (skipped)`)
    return { result: undefined, printed: `(${file}.ts not present)` }
  }
  const module = (await import(Url.pathToFileURL(path).href)) as {
    readonly run?: (options: WhyNotOptions) => unknown
    readonly default?: unknown
  }
  const run = module.run ?? (typeof module.default === "function" ? module.default : undefined)
  if (run === undefined) return { result: undefined, printed: `(${file}.ts ran on import)` }
  const result = await (run as (options: WhyNotOptions) => unknown)(options)
  return { result, printed: typeof result === "string" ? result : JSON.stringify(result, null, 2) }
}

// ---------------------------------------------------------------------------------------------------------------

const parts = {
  retry: retryCpu,
  "retry-loop": retryLoop,
  "retry-behaviour": retryBehaviour,
  limiter: (options: WhyNotOptions) => external("whyNotRateLimiter", options),
  batcher: (options: WhyNotOptions) => external("whyNotBatcher", options)
} as const

export type Part = keyof typeof parts

export const partNames = Object.keys(parts) as ReadonlyArray<Part>

/** The named parts (all when none), in order: their printed tables, and their figures for `--json`. */
export const runWhyNot = async (names: ReadonlyArray<string>, options: WhyNotOptions) => {
  const unknown = names.filter((n) => !(n in parts))
  if (unknown.length > 0) throw new Error(`why-not: no part ${unknown.join(", ")} (parts: ${partNames.join(", ")})`)
  const chosen = names.length === 0 ? partNames : (names as ReadonlyArray<Part>)
  const figures: Record<string, unknown> = {}
  const printed: Array<string> = []
  for (const name of chosen) {
    const result = await parts[name](options)
    printed.push(`Why not Effect's …: ${name}`, result.printed, "")
    figures[name] = "rows" in result ? result.rows : "results" in result ? result.results : result.result
  }
  return { figures, printed: printed.join("\n") }
}

const direct = process.argv[1] !== undefined && Url.pathToFileURL(process.argv[1]).href === import.meta.url

if (direct) {
  const args = process.argv.slice(2)
  const flag = (name: string) => {
    const i = args.indexOf(name)
    return i === -1 ? undefined : args[i + 1]
  }
  const quick = args.includes("--quick")
  const valued = new Set(["--rounds", "--count"])
  const names = args.filter((a, i) => !a.startsWith("--") && !(i > 0 && valued.has(args[i - 1]!)))
  const options: WhyNotOptions = {
    quick,
    rounds: Number(flag("--rounds") ?? (quick ? 3 : 5)),
    count: Number(flag("--count") ?? (quick ? 10_000 : 40_000)),
    log: (line) => process.stderr.write(`${line}\n`)
  }
  runWhyNot(names, options).then(({ printed }) => {
    process.stdout.write(`${printed}\n`)
    process.exit(0)
  }, (error) => {
    process.stderr.write(`${String(error?.stack ?? error)}\n`)
    process.exit(1)
  })
}
