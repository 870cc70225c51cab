/**
 * Spans and metrics as OpenTelemetry's HTTP client conventions name them,
 * recorded by a tracer that keeps every span (any installed tracer turns the
 * library's spans on) and read from Effect's metric registry, under
 * `TestClock`.
 */
import { assert, describe, it } from "@effect/vitest"
import { UserTokenService } from "@sfox-effect/effect4-core"
import { FakeSfox, Fault } from "@sfox-effect/effect4-core/testing"
import { Effect, Exit, Fiber, Metric, Schedule, Tracer } from "effect"
import { TestClock } from "effect/testing"

interface Recorded {
  readonly name: string
  readonly kind: Tracer.SpanKind
  readonly attributes: Map<string, unknown>
  exit: Exit.Exit<unknown, unknown> | undefined
}

const recordingTracer = () => {
  const spans: Array<Recorded> = []
  const tracer = Tracer.make({
    span: ({ annotations, kind, links, name, parent, startTime }) => {
      const attributes = new Map<string, unknown>()
      const recorded: Recorded = { name, kind, attributes, exit: undefined }
      spans.push(recorded)
      const span: Tracer.Span = {
        _tag: "Span",
        name,
        spanId: `span-${spans.length}`,
        traceId: "trace",
        parent,
        annotations,
        status: { _tag: "Started", startTime },
        attributes,
        links,
        sampled: true,
        kind,
        end: (_endTime, exit) => {
          recorded.exit = exit
        },
        attribute: (key, value) => {
          attributes.set(key, value)
        },
        event: () => {},
        addLinks: () => {}
      }
      return span
    }
  })
  return { spans, tracer }
}

const attributesOf = (span: Recorded | undefined) => Object.fromEntries(span?.attributes ?? [])

const attemptsWith = (tags: Readonly<Record<string, string>>) =>
  Effect.map(Metric.snapshot, (snapshots) =>
    snapshots
      .filter((snapshot) =>
        snapshot.id === "http.client.request.duration" && snapshot.type === "Histogram" &&
        Object.entries(tags).every(([key, value]) => snapshot.attributes?.[key] === value)
      )
      .reduce((sum, snapshot) => sum + (snapshot.state as Metric.HistogramState).count, 0))

const retryNow = { retry: Schedule.recurs(2) }
const oneUser = "/v1/enterprise/user-tokens/{user_id}"

describe("telemetry: OpenTelemetry's HTTP client conventions", () => {
  it.effect("a transport failure is an attempt span with error.type and the reason; the resend counts it", () => {
    const { spans, tracer } = recordingTracer()
    return Effect.gen(function*() {
      const fake = yield* FakeSfox
      yield* fake.enqueue(Fault.reset())
      yield* (yield* UserTokenService).create("u1")
      const attempts = spans.filter((span) => span.name === `POST ${oneUser}`)
      assert.strictEqual(attempts.length, 2, JSON.stringify(spans.map((span) => span.name)))
      const [first, second] = attempts
      assert.strictEqual(first!.kind, "client")
      assert.deepStrictEqual(attributesOf(first), {
        "http.request.method": "POST",
        "server.address": "api.sfox.com",
        "server.port": 443,
        "url.template": oneUser,
        "sfox.attempt": 1,
        "sfox.batch_size": 1,
        "error.type": "TransportError",
        "sfox.transport_reason": "Reset"
      })
      assert.isTrue(first!.exit !== undefined && Exit.isFailure(first!.exit))
      assert.deepStrictEqual(attributesOf(second), {
        "http.request.method": "POST",
        "server.address": "api.sfox.com",
        "server.port": 443,
        "url.template": oneUser,
        "sfox.attempt": 2,
        "http.request.resend_count": 1,
        "sfox.batch_size": 1,
        "http.response.status_code": 201
      })
    }).pipe(Effect.withTracer(tracer), Effect.provide(FakeSfox.layerTest({}, retryNow)))
  })

  it.effect("an answer that does not decode: its status, and error.type MalformedResponse", () => {
    const { spans, tracer } = recordingTracer()
    return Effect.gen(function*() {
      const fake = yield* FakeSfox
      yield* fake.enqueue(Fault.malformed("{\"data\":"))
      const error = yield* Effect.flip((yield* UserTokenService).create("u1"))
      assert.strictEqual(error._tag, "MalformedResponse")
      const attempt = attributesOf(spans.find((span) => span.name === `POST ${oneUser}`))
      assert.strictEqual(attempt["http.response.status_code"], 201)
      assert.strictEqual(attempt["error.type"], "MalformedResponse")
    }).pipe(Effect.withTracer(tracer), Effect.provide(FakeSfox.layerTest({}, { retry: Schedule.recurs(0) })))
  })

  it.effect("a batch's attempt is named for the batch endpoint; clientFor's by its method alone", () => {
    const { spans, tracer } = recordingTracer()
    return Effect.gen(function*() {
      const tokens = yield* UserTokenService
      yield* tokens.createMany(["u1", "u2"])
      const batch = spans.find((span) => span.name === "POST /v1/enterprise/user-tokens")
      assert.strictEqual(attributesOf(batch)["url.template"], "/v1/enterprise/user-tokens")
      assert.strictEqual(attributesOf(batch)["sfox.batch_size"], 2)

      const fake = yield* FakeSfox
      yield* tokens.get("u3")
      yield* fake.enqueue(Fault.status(503))
      const response = yield* tokens.clientFor("u3").get("/v1/user/balance")
      assert.strictEqual(response.status, 200)
      // The attempt spans: Effect 4's HttpClient opens a client span of its own per request, also named by the
      // method alone (3.x's was "http.client GET"), which carries no sfox.attempt.
      const gets = spans.filter((span) => span.name === "GET" && span.attributes.has("sfox.attempt"))
      assert.strictEqual(gets.length, 2)
      assert.deepStrictEqual(attributesOf(gets[0]), {
        "http.request.method": "GET",
        "server.address": "api.sfox.com",
        "server.port": 443,
        "sfox.attempt": 1,
        "http.response.status_code": 503,
        "error.type": "503"
      })
      assert.strictEqual(attributesOf(gets[1])["http.request.resend_count"], 1)
      const request = spans.find((span) => span.name === "sfox.user_api.request")
      assert.strictEqual(request!.kind, "internal")
    }).pipe(Effect.withTracer(tracer), Effect.provide(FakeSfox.layerTest({}, { ...retryNow, cache: true })))
  })

  it.effect("an attempt its caller gave up on is timed under error.type Interrupted", () =>
    Effect.gen(function*() {
      const tags = { "url.template": oneUser, "error.type": "Interrupted" }
      const before = yield* attemptsWith(tags)
      const fake = yield* FakeSfox
      yield* fake.enqueue(Fault.noAnswer())
      const fiber = yield* Effect.forkChild((yield* UserTokenService).create("u1"))
      yield* TestClock.adjust("1 second")
      yield* Fiber.interrupt(fiber)
      assert.strictEqual((yield* attemptsWith(tags)) - before, 1)
    }).pipe(Effect.provide(FakeSfox.layerTest())))
})
