/**
 * Secrets never leak, over a real socket, from a server that echoes them:
 * for every error type and every token, no `String`, `JSON.stringify`,
 * `util.inspect`, `Cause.pretty`, log line (`Effect.log`, `Effect.logError`,
 * through every stock logger format) or span (attributes, events, links and
 * the failure an exporter records, @effect/platform's HttpClient spans
 * included) holds the API key or a token. The scenarios and the scan are
 * shared with the Effect 4 edition (test/shared/secrets.ts).
 */
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import * as HttpClient from "@effect/platform/HttpClient"
import { assert, describe, it } from "@effect/vitest"
import { SfoxRateLimiter, type UserAuthToken, type UserTokenError, UserTokenService } from "@sfox-effect/core"
import { Fault } from "@sfox-effect/core/testing"
import { RedisRateLimiter } from "@sfox-effect/redis"
import type { Context } from "effect"
import { Cause, Effect, Exit, Logger, Option, Redacted, Schedule, type Scope, Tracer } from "effect"
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
} from "./shared/secrets.js"
import { closedPort, type Ctx, withServer } from "./utils/harness.js"

const assertClean = (texts: ReadonlyArray<string>, secrets: ReadonlyArray<string>, where: string) =>
  assertTextsClean(assert, texts, secrets, where)

// ---------------------------------------------------------------------------
// capture

/** Everything a program could print about a value. */
const renderings = (value: unknown): Array<string> => [
  ...plainRenderings(value),
  Cause.pretty(Cause.fail(value), { renderErrorCause: true }),
  Cause.pretty(Cause.die(value), { renderErrorCause: true })
]

const renderCause = (cause: Cause.Cause<unknown>): Array<string> => [
  Cause.pretty(cause),
  Cause.pretty(cause, { renderErrorCause: true }),
  ...Cause.prettyErrors(cause).flatMap((error) => [error.message, error.stack ?? ""]),
  String(cause),
  JSON.stringify(cause) ?? "",
  Util.inspect(cause, { depth: 12 })
]

/** A span that keeps everything it is told. */
class RecordingSpan implements Tracer.Span {
  readonly _tag = "Span"
  readonly spanId = Math.random().toString(16).slice(2)
  readonly traceId: string
  readonly sampled = true
  status: Tracer.SpanStatus
  readonly attributes = new Map<string, unknown>()
  readonly events: Array<readonly [string, Record<string, unknown>]> = []
  readonly links: Array<Tracer.SpanLink>
  exit: Exit.Exit<unknown, unknown> | undefined

  constructor(
    readonly name: string,
    readonly parent: Option.Option<Tracer.AnySpan>,
    readonly context: Context.Context<never>,
    links: ReadonlyArray<Tracer.SpanLink>,
    startTime: bigint,
    readonly kind: Tracer.SpanKind
  ) {
    this.status = { _tag: "Started", startTime }
    this.traceId = Option.isSome(parent) ? parent.value.traceId : Math.random().toString(16).slice(2)
    this.links = [...links]
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
   * failure what @effect/opentelemetry records (`Cause.pretty` with causes,
   * each error's message and stack). Not the exit serialised whole: the
   * platform's own span fails with its RequestError, whose request holds
   * the Authorization header as @effect/platform keeps it, in plain text.
   */
  texts(): Array<string> {
    const attributes = Array.from(this.attributes).flatMap(([key, value]) => [key, ...renderings(value)])
    const events = this.events.flatMap(([name, values]) => [name, ...renderings(values)])
    const links = this.links.flatMap((link) => renderings(link.attributes))
    const failure = this.exit !== undefined && Exit.isFailure(this.exit)
      ? [
        Cause.pretty(this.exit.cause),
        Cause.pretty(this.exit.cause, { renderErrorCause: true }),
        String(this.exit.cause),
        ...Cause.prettyErrors(this.exit.cause).flatMap((error) => [error.message, error.stack ?? ""])
      ]
      : []
    return [this.name, ...attributes, ...events, ...links, ...failure]
  }
}

const recordingTracer = () => {
  const spans: Array<RecordingSpan> = []
  const tracer = Tracer.make({
    span: (name, parent, context, links, startTime, kind) => {
      const span = new RecordingSpan(name, parent, context, links, startTime, kind)
      spans.push(span)
      return span
    },
    context: (f) => f()
  })
  return { spans, tracer }
}

/** Every stock logger format, fed every log call. */
const recordingLogger = () => {
  const lines: Array<string> = []
  const logger = Logger.make((options) => {
    lines.push(
      Logger.stringLogger.log(options),
      Logger.logfmtLogger.log(options),
      Logger.jsonLogger.log(options),
      JSON.stringify(Logger.structuredLogger.log(options)),
      Util.inspect(Logger.structuredLogger.log(options), { depth: 12 })
    )
  })
  return { lines, layer: Logger.replace(Logger.defaultLogger, logger) }
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
        service: { timeout: "1 second", retry: Schedule.stop, transformClient: wireTokens(wire) },
        http: { maxResponseBytes, tracing: client === "undici with tracing" },
        ...(client === "fetch" ? { client: FetchHttpClient.layer } : {})
      },
      body
    ).pipe(Effect.withSpan("test.root"), Effect.withTracer(tracer), Effect.provide(layer))
    const audit: Audit = { spans, lines, secrets: [KEY, WRONG_KEY, ECHOED, ...wire] }
    // The capture saw something: log lines, and through HttpClient.make
    // the platform's client spans with their header attributes.
    assert.isAbove(lines.length, 0, "no log line was recorded")
    if (options.sends) assert.isTrue(spans.some((span) => span.kind === "client"), "no client span was recorded")
    if (platformSpans(client) && options.sends) {
      const platform = spans.filter((span) => span.name.startsWith("http.client"))
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
          UserTokenService.make({ apiKey: Redacted.make(call.key), baseUrl: ctx.server.url, retry: Schedule.stop })
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
              retry: Schedule.stop
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
          UserTokenService.make({ apiKey: Redacted.make(KEY), baseUrl: ctx.server.url, retry: Schedule.stop }).pipe(
            Effect.provideService(SfoxRateLimiter, limiter)
          )
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
                const error = Option.getOrThrow(Cause.failureOption(cause))
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
