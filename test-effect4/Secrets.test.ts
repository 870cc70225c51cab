/**
 * Secrets never leak, over a real socket, from a server that echoes them, in
 * the Effect 4 edition (the twin of test/Secrets.test.ts): for every error
 * type and every token, no `String`, `JSON.stringify`, `util.inspect`,
 * `Cause.pretty`, log line (`Effect.log`, `Effect.logError`, through every
 * stock logger format) or span (attributes, events, links and the failure
 * an exporter records, the platform's HttpClient spans included) holds the
 * API key or a token. The scenarios and the scan are shared with the 3.x
 * line (test/shared/secrets.ts).
 */
import { assert, describe, it } from "@effect/vitest"
import { SfoxRateLimiter, type UserAuthToken, type UserTokenError, UserTokenService } from "@sfox-effect/effect4-core"
import { Fault } from "@sfox-effect/effect4-core/testing"
import { RedisRateLimiter } from "@sfox-effect/effect4-redis"
import { Cause, type Context, Effect, Exit, Logger, Option, Redacted, Schedule, type Scope, Tracer } from "effect"
import { FetchHttpClient, HttpClient } from "effect/http"
import * as Util from "node:util"
import {
  assertClean as assertTextsClean,
  type Call,
  type Client,
  clients,
  collectTokens,
  ECHOED,
  errorsDescribe,
  forClient,
  KEY,
  limiterDownUrl,
  maxResponseBytes,
  mixUps,
  plainRenderings,
  platformSpans,
  scenarioName,
  scenarios,
  sends,
  tokensDescribe,
  tokensPrinted,
  wireCarried,
  WRONG_KEY
} from "../test/shared/secrets.js"
import { closedPort, type Ctx, withServer } from "./utils/harness.js"

const assertClean = (texts: ReadonlyArray<string>, secrets: ReadonlyArray<string>, where: string) =>
  assertTextsClean(assert, texts, secrets, where)

// ---------------------------------------------------------------------------
// capture

/** Everything a program could print about a value (Effect 4's `Cause.pretty` renders an error's causes inline). */
const renderings = (value: unknown): Array<string> => [
  ...plainRenderings(value),
  Cause.pretty(Cause.fail(value)),
  Cause.pretty(Cause.die(value))
]

const prettyErrors = (cause: Cause.Cause<unknown>) =>
  Cause.prettyErrors(cause, { includeCauseInStack: true }).flatMap((error) => [error.message, error.stack ?? ""])

const renderCause = (cause: Cause.Cause<unknown>): Array<string> => [
  Cause.pretty(cause),
  ...prettyErrors(cause),
  String(cause),
  JSON.stringify(cause) ?? "",
  Util.inspect(cause, { depth: 12 })
]

/**
 * A span that keeps everything it is told, even after it ended (Effect 4's
 * own `NativeSpan` drops what comes late: a leak there would go unseen).
 */
class RecordingSpan implements Tracer.Span {
  readonly _tag = "Span"
  readonly spanId = Math.random().toString(16).slice(2)
  readonly traceId: string
  readonly name: string
  readonly parent: Option.Option<Tracer.AnySpan>
  readonly annotations: Context.Context<never>
  readonly sampled: boolean
  readonly kind: Tracer.SpanKind
  status: Tracer.SpanStatus
  readonly attributes = new Map<string, unknown>()
  readonly events: Array<readonly [string, Record<string, unknown>]> = []
  readonly links: Array<Tracer.SpanLink>
  exit: Exit.Exit<unknown, unknown> | undefined

  constructor(options: Parameters<Tracer.Tracer["span"]>[0]) {
    this.name = options.name
    this.parent = options.parent
    this.annotations = options.annotations
    this.sampled = options.sampled
    this.kind = options.kind
    this.status = { _tag: "Started", startTime: options.startTime }
    this.traceId = Option.isSome(options.parent)
      ? options.parent.value.traceId
      : Math.random().toString(16).slice(2)
    this.links = [...options.links]
  }
  end(endTime: bigint, exit: Exit.Exit<unknown, unknown>) {
    this.status = { _tag: "Ended", startTime: this.status.startTime, endTime, exit }
    this.exit = exit
  }
  attribute(key: string, value: unknown) {
    this.attributes.set(key, value)
  }
  event(name: string, _startTime: bigint, attributes?: Record<string, unknown>) {
    this.events.push([name, attributes ?? {}])
  }
  addLinks(links: ReadonlyArray<Tracer.SpanLink>) {
    for (const link of links) this.links.push(link)
  }

  /**
   * What an exporter would send: name, attributes, events, links, and for a
   * failure what @effect/opentelemetry records (`Cause.pretty`, each error's
   * message and stack with its causes).
   */
  texts(): Array<string> {
    const attributes = Array.from(this.attributes).flatMap(([key, value]) => [key, ...renderings(value)])
    const events = this.events.flatMap(([name, values]) => [name, ...renderings(values)])
    const links = this.links.flatMap((link) => renderings(link.attributes))
    const failure = this.exit !== undefined && Exit.isFailure(this.exit)
      ? [Cause.pretty(this.exit.cause), String(this.exit.cause), ...prettyErrors(this.exit.cause)]
      : []
    return [this.name, ...attributes, ...events, ...links, ...failure]
  }
}

const recordingTracer = () => {
  const spans: Array<RecordingSpan> = []
  const tracer = Tracer.make({
    span: (options) => {
      const span = new RecordingSpan(options)
      spans.push(span)
      return span
    }
  })
  return { spans, tracer }
}

/**
 * Every stock logger format, fed every log call, in place of the default
 * logger (the tracer's logger stays: it puts log lines on spans as events).
 */
const recordingLogger = () => {
  const lines: Array<string> = []
  const logger = Logger.make((options) => {
    lines.push(
      Logger.formatSimple.log(options),
      Logger.formatLogFmt.log(options),
      Logger.formatJson.log(options),
      JSON.stringify(Logger.formatStructured.log(options)),
      Util.inspect(Logger.formatStructured.log(options), { depth: 12 })
    )
  })
  return { lines, layer: Logger.layer([logger, Logger.tracerLogger]) }
}

/** Every answer body the client read: any token-shaped value in one is a secret. */
const wireTokens = (seen: Set<string>) => (client: HttpClient.HttpClient): HttpClient.HttpClient =>
  HttpClient.tap(client, (response) => Effect.ignore(Effect.map(response.text, (body) => collectTokens(seen, body))))

interface Audit {
  readonly spans: ReadonlyArray<RecordingSpan>
  readonly lines: ReadonlyArray<string>
  readonly secrets: ReadonlyArray<string>
}

/**
 * The platform's own client spans: Effect 4 names them after the method
 * alone (3.x: `http.client POST`), as the service names its batch attempts,
 * so they are told apart by the request headers only they record (Effect 4
 * records them when `HttpClient.TracerHeaderFilter` asks, as `audited` does).
 */
const isPlatformSpan = (span: RecordingSpan) =>
  Array.from(span.attributes.keys()).some((key) => key.startsWith("http.request.header."))

/**
 * Runs `body` against a MockSfoxServer, with the recording tracer and
 * logger in place and every answer body watched for tokens. `body` reports
 * what it got the way an application would: logs and span annotations.
 */
const audited = <A>(
  client: Client,
  body: (ctx: Ctx) => Effect.Effect<A, never, Scope.Scope | HttpClient.HttpClient>,
  options: { readonly sends: boolean } = { sends: true }
) =>
  Effect.gen(function*() {
    const { spans, tracer } = recordingTracer()
    const { layer, lines } = recordingLogger()
    const wire = new Set<string>()
    const result = yield* withServer(
      {
        key: KEY,
        service: { timeout: "1 second", retry: Schedule.recurs(0), transformClient: wireTokens(wire) },
        http: { maxResponseBytes, tracing: client === "undici with tracing" },
        ...(client === "fetch" ? { client: FetchHttpClient.layer } : {})
      },
      body
    ).pipe(
      Effect.withSpan("test.root"),
      Effect.withTracer(tracer),
      // Every header on the platform's spans, as a program that asks for them gets: the worst case.
      Effect.provideService(HttpClient.TracerHeaderFilter, () => true),
      Effect.provide(layer)
    )
    const audit: Audit = { spans, lines, secrets: [KEY, WRONG_KEY, ECHOED, ...wire] }
    // The capture saw something: log lines, and through HttpClient.make
    // the platform's client spans with their header attributes.
    assert.isAbove(lines.length, 0, "no log line was recorded")
    if (options.sends) assert.isTrue(spans.some((span) => span.kind === "client"), "no client span was recorded")
    if (platformSpans(client) && options.sends) {
      const platform = spans.filter(isPlatformSpan)
      assert.isAbove(platform.length, 0, "no HttpClient span was recorded")
      assert.isTrue(platform.some((span) => span.attributes.has("http.request.header.authorization")))
    }
    return { result, audit }
  })

const assertAuditClean = (audit: Audit, extra: ReadonlyArray<string> = []) => {
  const secrets = [...audit.secrets, ...extra]
  assertClean(audit.lines, secrets, "a log line")
  for (const span of audit.spans) assertClean(span.texts(), secrets, `span ${span.name}`)
}

// ---------------------------------------------------------------------------
// errors

/** Runs a scenario's call with the service of `ctx` (or one of its own). */
const run = (ctx: Ctx, call: Call): Effect.Effect<unknown, UserTokenError, Scope.Scope | HttpClient.HttpClient> => {
  const { tokens } = ctx
  switch (call._tag) {
    case "create":
      return tokens.create(call.id as string)
    case "createMany":
      return tokens.createMany(call.ids as Iterable<string>)
    case "get":
      return tokens.get(call.id as string)
    case "getPair":
      return Effect.map(Effect.all([tokens.get("u1"), tokens.get("u2")], { concurrency: "unbounded" }), () => undefined)
    case "withKey":
      return Effect.flatMap(
        Effect.orDie(
          UserTokenService.make({ apiKey: Redacted.make(call.key), baseUrl: ctx.server.url, retry: Schedule.recurs(0) })
        ),
        (tokens) => run({ ...ctx, tokens }, call.call)
      )
    case "atClosedPort":
      return Effect.flatMap(closedPort, (port) =>
        Effect.flatMap(
          Effect.orDie(
            UserTokenService.make({
              apiKey: Redacted.make(KEY),
              baseUrl: `http://127.0.0.1:${port}`,
              retry: Schedule.recurs(0)
            })
          ),
          (tokens) => tokens.create("u1")
        ))
    case "limiterDown":
      return Effect.gen(function*() {
        const port = yield* closedPort
        const limiter = yield* Effect.orDie(RedisRateLimiter.make({
          url: Redacted.make(limiterDownUrl(port)),
          limit: 10,
          interval: "1 second",
          connectTimeout: "100 millis"
        }))
        const tokens = yield* Effect.orDie(
          UserTokenService.make({ apiKey: Redacted.make(KEY), baseUrl: ctx.server.url, retry: Schedule.recurs(0) })
            .pipe(Effect.provideService(SfoxRateLimiter, limiter))
        )
        return yield* tokens.create("u1")
      })
  }
}

describe(errorsDescribe, () => {
  for (const [tag, all] of scenarios(Fault)) {
    it.live(scenarioName(tag, all), () =>
      Effect.forEach(clients, (client) =>
        Effect.gen(function*() {
          const cases = forClient(all, client)
          const { audit, result } = yield* audited(client, (ctx) =>
            Effect.forEach(cases, (scenario) =>
              Effect.gen(function*() {
                yield* ctx.server.enqueue(scenario.faults)
                const exit = yield* Effect.exit(run(ctx, scenario.call))
                assert.isTrue(Exit.isFailure(exit), `${scenario.name} over ${client} should fail`)
                const cause = Exit.isFailure(exit) ? exit.cause : Cause.empty
                const error = Option.getOrThrow(Cause.findErrorOption(cause))
                assert.strictEqual(error._tag, tag, `${scenario.name} over ${client}: ${error.message}`)
                // Reported the ways an application would.
                yield* Effect.logError(`${scenario.name} failed`, cause)
                yield* Effect.logWarning(error).pipe(Effect.annotateLogs({ error, cause }))
                yield* Effect.annotateCurrentSpan({ error, cause: Cause.pretty(cause) })
                yield* Effect.log(scenario.name, error).pipe(Effect.withSpan(`report ${scenario.name}`))
                return { name: `${scenario.name} over ${client}`, error, cause }
              })), { sends: sends(tag) })
          for (const { cause, error, name } of result) {
            assertClean(renderings(error), audit.secrets, `${name}: the error`)
            assertClean(renderCause(cause), audit.secrets, `${name}: the cause`)
          }
          assertAuditClean(audit)
        })))
  }
})

// ---------------------------------------------------------------------------
// tokens

describe(tokensDescribe, () => {
  it.live(tokensPrinted.name, () =>
    Effect.forEach(clients, (client) =>
      Effect.gen(function*() {
        const { audit, result } = yield* audited(client, ({ tokens }) =>
          Effect.gen(function*() {
            const one = yield* tokens.create(tokensPrinted.one)
            const many = yield* tokens.createMany(tokensPrinted.many)
            const got = yield* Effect.all(tokensPrinted.got.map((id) => tokens.get(id)), { concurrency: "unbounded" })
            const minted: ReadonlyArray<UserAuthToken> = [one, ...many, ...got]
            for (const token of minted) {
              yield* Effect.log("minted", token)
              yield* Effect.logInfo(token.token).pipe(Effect.annotateLogs({ token, user: token.userId }))
              yield* Effect.annotateCurrentSpan({ token, secret: token.token })
            }
            yield* Effect.log(many).pipe(Effect.withSpan("report"))
            return { minted, exit: Exit.succeed(many) }
          }).pipe(Effect.orDie))
        const values = result.minted.map((token) => Redacted.value(token.token))
        assert.strictEqual(new Set(values).size, tokensPrinted.count)
        for (const value of values) assert.match(value, tokensPrinted.shape)
        assertClean(
          [...result.minted.flatMap(renderings), ...renderings(result.minted), ...renderings(result.exit)],
          [...audit.secrets, ...values],
          "a token"
        )
        for (const token of result.minted) assert.include(Util.inspect(token), "<redacted>")
        assertAuditClean(audit, values)
      })))

  it.live(wireCarried.name, () =>
    Effect.gen(function*() {
      const { audit, result } = yield* audited("undici", ({ tokens }) =>
        Effect.tap(Effect.orDie(tokens.createMany(wireCarried.ids)), (minted) => Effect.log(minted)))
      for (const token of result) {
        assert.include(audit.secrets, Redacted.value(token.token))
      }
    }))
})

// ---------------------------------------------------------------------------
// the caller's own mix-ups

describe(mixUps.describe, () => {
  it.live(mixUps.name, () =>
    Effect.gen(function*() {
      const { audit, result } = yield* audited("undici", ({ tokens }) =>
        Effect.forEach(mixUps.ids, (id) =>
          Effect.gen(function*() {
            const error = yield* tokens.create(id).pipe(Effect.flip, Effect.orDie)
            assert.strictEqual(error._tag, "InvalidUserId")
            yield* Effect.logError(error)
            return error
          })), { sends: false })
      for (const error of result) {
        assertClean(renderings(error), [...audit.secrets, ...mixUps.partial], "InvalidUserId")
      }
      assertAuditClean(audit, mixUps.partial)
    }))
})
