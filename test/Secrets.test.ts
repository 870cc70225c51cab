/**
 * Secrets never leak, over a real socket, from a server that echoes them:
 * for every error type and every token, no `String`, `JSON.stringify`,
 * `util.inspect`, `Cause.pretty`, log line (`Effect.log`, `Effect.logError`,
 * through every stock logger format) or span (attributes, events, links and
 * the failure an exporter records, @effect/platform's HttpClient spans
 * included) holds the API key or a token.
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
import { closedPort, type Ctx, withServer } from "./utils/harness.js"

const KEY = "sk-SECRET-KEY-9f1c7e2a4b6d8035"
/** A key the server does not accept: a secret all the same. */
const WRONG_KEY = "sk-SECRET-WRONG-0c3b5d7f9e1a"
/** A token-shaped value the server slips into error bodies. */
const ECHOED = "5ec12e7".padEnd(64, "c")
const tokenPattern = /[0-9a-f]{64}/g

// ---------------------------------------------------------------------------
// capture

/** Everything a program could print about a value. */
const renderings = (value: unknown): Array<string> => [
  String(value),
  JSON.stringify(value) ?? "",
  Util.inspect(value, { depth: 12 }),
  Util.inspect(value, { depth: 12, showHidden: true, getters: true }),
  value instanceof Error ? `${value.name}: ${value.message}\n${value.stack ?? ""}` : "",
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
  HttpClient.tap(client, (response) =>
    Effect.ignore(Effect.map(response.text, (body) => {
      for (const token of body.match(tokenPattern) ?? []) seen.add(token)
    })))

/**
 * Every audit runs three times, over real sockets each: NodeSfox's undici
 * client as it comes, the same with `tracing: true` (through
 * HttpClient.make, so with the platform's own per-request spans), and
 * @effect/platform's fetch client.
 */
type Client = "undici" | "undici with tracing" | "fetch"
const clients: ReadonlyArray<Client> = ["undici", "undici with tracing", "fetch"]
const platformSpans = (client: Client) => client !== "undici"

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
        http: { maxResponseBytes: 16 * 1024, tracing: client === "undici with tracing" },
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

const assertClean = (texts: ReadonlyArray<string>, secrets: ReadonlyArray<string>, where: string) => {
  for (const text of texts) {
    for (const secret of secrets) {
      if (text.includes(secret)) {
        const at = text.indexOf(secret)
        assert.fail(`${where} holds a secret: …${text.slice(Math.max(0, at - 120), at + secret.length + 40)}…`)
      }
    }
  }
}

const assertAuditClean = (audit: Audit, extra: ReadonlyArray<string> = []) => {
  const secrets = [...audit.secrets, ...extra]
  assertClean(audit.lines, secrets, "a log line")
  for (const span of audit.spans) assertClean(span.texts(), secrets, `span ${span.name}`)
}

// ---------------------------------------------------------------------------
// errors

type Call = (ctx: Ctx) => Effect.Effect<unknown, UserTokenError, Scope.Scope | HttpClient.HttpClient>

interface Scenario {
  readonly name: string
  readonly faults?: ReadonlyArray<Fault>
  readonly call: Call
  /** fetch has no response-size limit. */
  readonly undiciOnly?: boolean
}

const create: Call = ({ tokens }) => tokens.create("u1")
const createMany: Call = ({ tokens }) => tokens.createMany(["u1", "u2", "u3"])
const get: Call = ({ tokens }) =>
  Effect.map(Effect.all([tokens.get("u1"), tokens.get("u2")], { concurrency: "unbounded" }), () => undefined)

/** A second service, same server, another key. */
const withKey = (key: string, call: Call): Call => (ctx) =>
  Effect.flatMap(
    Effect.orDie(UserTokenService.make({ apiKey: Redacted.make(key), baseUrl: ctx.server.url, retry: Schedule.stop })),
    (tokens) => call({ ...ctx, tokens })
  )

const atClosedPort: Call = () =>
  Effect.flatMap(closedPort, (port) =>
    Effect.flatMap(
      Effect.orDie(
        UserTokenService.make({ apiKey: Redacted.make(KEY), baseUrl: `http://127.0.0.1:${port}`, retry: Schedule.stop })
      ),
      (tokens) => tokens.create("u1")
    ))

/**
 * A service whose shared limiter cannot give a turn: Redis at a closed port,
 * with the API key as its password (a leak of either shows as the key).
 */
const limiterDown: Call = (ctx) =>
  Effect.gen(function*() {
    const port = yield* closedPort
    const limiter = yield* Effect.orDie(RedisRateLimiter.make({
      url: Redacted.make(`redis://:${encodeURIComponent(KEY)}@127.0.0.1:${port}`),
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

const wellFormed = (token: string, user: string) =>
  JSON.stringify({ data: { token, partner_user_id: user, expires: "2030-01-01T00:00:00Z" } })

const scenarios: Record<UserTokenError["_tag"], ReadonlyArray<Scenario>> = {
  InvalidUserId: [
    { name: "an empty id", call: ({ tokens }) => tokens.create("") },
    { name: "a bad id in a batch", call: ({ tokens }) => tokens.createMany(["ok", "a\r\nb"]) },
    { name: "a non-string through get", call: ({ tokens }) => tokens.get(42 as unknown as string) }
  ],
  EmptyBatch: [{ name: "no ids", call: ({ tokens }) => tokens.createMany([]) }],
  Unauthorized: [
    { name: "401 for a wrong key", call: withKey(WRONG_KEY, create) },
    {
      name: "401 echoing the key",
      faults: [Fault.status(401, { body: { error: `invalid key ${KEY}` } })],
      call: create
    },
    {
      name: "403 echoing the header",
      faults: [Fault.status(403, { body: `Authorization: Bearer ${KEY}` })],
      call: create
    },
    {
      name: "403 echoing a token in a batch",
      faults: [Fault.status(403, { body: { error: `not yours: ${ECHOED}` } })],
      call: createMany
    }
  ],
  RateLimited: [
    {
      name: "429 echoing a token",
      faults: [Fault.status(429, { body: { error: "slow", token: ECHOED } })],
      call: create
    },
    {
      name: "429 echoing the key, through get",
      faults: [Fault.status(429, { body: { error: `key ${KEY} locked out` } })],
      call: get
    }
  ],
  HttpFailure: [
    { name: "500 echoing both", faults: [Fault.status(500, { body: { error: `${KEY} / ${ECHOED}` } })], call: create },
    {
      name: "502 HTML echoing the key",
      faults: [Fault.status(502, { body: `<html><pre>Authorization: Bearer ${KEY}</pre></html>` })],
      call: createMany
    },
    {
      name: "400 with the secrets under other fields",
      faults: [Fault.status(400, { body: { message: `api_key=${KEY}`, access_token: ECHOED } })],
      call: create
    }
  ],
  TransportError: [
    { name: "reset before headers", faults: [Fault.reset()], call: create },
    { name: "reset mid-body", faults: [Fault.resetAfterHeaders()], call: create },
    { name: "body short of Content-Length", faults: [Fault.shortBody()], call: createMany },
    { name: "no answer (timeout)", faults: [Fault.noAnswer()], call: create },
    { name: "an answer over the size limit", faults: [Fault.oversize(64 * 1024)], call: createMany, undiciOnly: true },
    { name: "nothing listening (connect)", call: atClosedPort }
  ],
  RateLimiterUnavailable: [{ name: "Redis down, its password in the URL", call: limiterDown }],
  MalformedResponse: [
    { name: "not JSON, echoing both", faults: [Fault.malformed(`oops ${KEY} ${ECHOED}`)], call: create },
    {
      name: "wrong shape holding a token",
      faults: [Fault.malformed(`{"data": {"token": "${ECHOED}", "partner_user_id": 1}}`)],
      call: create
    },
    {
      name: "an error under a 200",
      faults: [Fault.malformed(JSON.stringify({ error: `bad key ${KEY}` }), 200)],
      call: create
    },
    { name: "a token for another user", faults: [Fault.malformed(wellFormed(ECHOED, "someone-else"))], call: create },
    ...(["drop", "add", "duplicate", "mislabel"] as const).map((mode): Scenario => ({
      name: `batch ${mode}`,
      faults: [Fault.batch(mode)],
      call: mode === "mislabel" ? get : createMany
    }))
  ]
}

describe("no error leaks the key or a token: renderings, logs, spans", () => {
  for (const [tag, all] of Object.entries(scenarios) as Array<[UserTokenError["_tag"], ReadonlyArray<Scenario>]>) {
    const sends = tag !== "InvalidUserId" && tag !== "EmptyBatch" && tag !== "RateLimiterUnavailable"
    it.live(`${tag}: ${all.map((c) => c.name).join("; ")}`, () =>
      Effect.forEach(clients, (client) =>
        Effect.gen(function*() {
          const cases = all.filter((c) => client !== "fetch" || c.undiciOnly !== true)
          const { audit, result } = yield* audited(client, (ctx) =>
            Effect.forEach(cases, (scenario) =>
              Effect.gen(function*() {
                yield* ctx.server.enqueue(scenario.faults ?? [])
                const exit = yield* Effect.exit(scenario.call(ctx))
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
              })), { sends })
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

describe("no token leaks: renderings, logs, spans", () => {
  it.live("tokens from create, createMany and get, printed, logged and put on spans", () =>
    Effect.forEach(clients, (client) =>
      Effect.gen(function*() {
        const { audit, result } = yield* audited(client, ({ tokens }) =>
          Effect.gen(function*() {
            const one = yield* tokens.create("u1")
            const many = yield* tokens.createMany(["u2", "u3", "u4"])
            const got = yield* Effect.all([tokens.get("u5"), tokens.get("u6")], { concurrency: "unbounded" })
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
        assert.strictEqual(new Set(values).size, 6)
        for (const value of values) assert.match(value, /^[0-9a-f]{64}$/)
        assertClean(
          [...result.minted.flatMap(renderings), ...renderings(result.minted), ...renderings(result.exit)],
          [...audit.secrets, ...values],
          "a token"
        )
        for (const token of result.minted) assert.include(Util.inspect(token), "<redacted>")
        assertAuditClean(audit, values)
      })))

  it.live("the wire did carry the tokens (the capture is not vacuous)", () =>
    Effect.gen(function*() {
      const { audit, result } = yield* audited("undici", ({ tokens }) =>
        Effect.tap(Effect.orDie(tokens.createMany(["a", "b"])), (minted) => Effect.log(minted)))
      for (const token of result) {
        assert.include(audit.secrets, Redacted.value(token.token))
      }
    }))
})

// ---------------------------------------------------------------------------
// the caller's own mix-ups

describe("a secret passed where an id belongs", () => {
  // A caller that passes the key (or a token) as a user id, with a stray
  // space or newline, gets InvalidUserId: its preview must not show the secret.
  // InvalidUserId's preview is cut from the scrubbed input, so neither the
  // key nor any part of a token shows in its message, JSON or log lines.
  it.live("the key or a token as a malformed id is not echoed by InvalidUserId", () =>
    Effect.gen(function*() {
      const { audit, result } = yield* audited("undici", ({ tokens }) =>
        Effect.forEach([` ${KEY}`, `${ECHOED}\n`, `${KEY}\r\n`], (id) =>
          Effect.gen(function*() {
            const error = yield* tokens.create(id).pipe(Effect.flip, Effect.orDie)
            assert.strictEqual(error._tag, "InvalidUserId")
            yield* Effect.logError(error)
            return error
          })), { sends: false })
      // A part of a secret is as bad as the whole: the preview would cut it at 40 characters.
      const partial = [KEY.slice(0, 20), ECHOED.slice(0, 20)]
      for (const error of result) {
        assertClean(renderings(error), [...audit.secrets, ...partial], "InvalidUserId")
      }
      assertAuditClean(audit, partial)
    }))
})
