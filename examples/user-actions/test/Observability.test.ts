/**
 * The observability how-to, checked: the library's spans exported through
 * `@effect/opentelemetry` (the example's `tracing.ts`) to an in-memory
 * exporter, alone and under the example's own deposit, and its metrics read
 * with `Metric.value` and through an OpenTelemetry metric reader.
 */
import * as HttpClient from "@effect/platform/HttpClient"
import { assert, describe, it } from "@effect/vitest"
import { SpanKind, SpanStatusCode } from "@opentelemetry/api"
import { MetricReader } from "@opentelemetry/sdk-metrics"
import { InMemorySpanExporter, type ReadableSpan, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base"
import { SfoxMetrics, UserTokenService } from "@sfox-effect/core"
import { FakeSfox, Fault } from "@sfox-effect/core/testing"
import { Effect, Fiber, Layer, Metric, MetricState, Redacted, TestClock } from "effect"
import * as Tracing from "../src/tracing.js"
import { alice, deposit, layer, Minted, one } from "./harness.js"

const KEY = "sk-observability-4d1f7a0c9e2b"
const ONE_USER = "POST /v1/enterprise/user-tokens/{user_id}"
const BATCH = "POST /v1/enterprise/user-tokens"
/** OpenTelemetry's HTTP client attributes of a token request to the fake (which stands at the default baseUrl). */
const tokenRequest = (template: string) => ({
  "http.request.method": "POST",
  "server.address": "api.sfox.com",
  "server.port": 443,
  "url.template": template
})
const USER = "156c5beb-7c9f-4f68-83c0-9479703ac490"

/** A metric reader that exports nothing by itself: the test calls `collect()`. */
class TestMetricReader extends MetricReader {
  protected override onForceFlush() {
    return Promise.resolve()
  }
  protected override onShutdown() {
    return Promise.resolve()
  }
}

/** Spans in the order they started, with the few fields the how-to talks about. */
const summary = (spans: ReadonlyArray<ReadableSpan>) =>
  [...spans]
    .sort((a, b) => a.startTime[0] - b.startTime[0] || a.startTime[1] - b.startTime[1])
    .map((span) => ({
      name: span.name,
      spanId: span.spanContext().spanId,
      parentSpanId: span.parentSpanContext?.spanId,
      kind: span.kind,
      status: span.status.code,
      attributes: { ...span.attributes }
    }))

/** Every string a span carries: name, attributes, status message, events and their attributes. */
const strings = (spans: ReadonlyArray<ReadableSpan>): Array<string> =>
  spans.flatMap((span) => [
    span.name,
    span.status.message ?? "",
    ...Object.entries(span.attributes).map(([k, v]) => `${k}=${String(v)}`),
    ...span.events.flatMap((event) => [
      event.name,
      ...Object.entries(event.attributes ?? {}).map(([k, v]) => `${k}=${String(v)}`)
    ])
  ])

describe("spans through @effect/opentelemetry", () => {
  it.effect("a call retried after a 503: one create span, two attempt spans under it", () => {
    const exporter = new InMemorySpanExporter()
    return Effect.gen(function*() {
      const fake = yield* FakeSfox
      yield* fake.enqueue(Fault.status(503))
      const fiber = yield* Effect.fork((yield* UserTokenService).create(USER))
      yield* TestClock.adjust("10 seconds")
      const token = yield* Fiber.join(fiber)
      assert.deepStrictEqual((yield* fake.requests).map((r) => r.status), [503, 201])

      const spans = summary(exporter.getFinishedSpans())
      const named = (name: string) => spans.filter((span) => span.name === name)
      const childrenOf = (parent: { readonly spanId: string }) =>
        spans.filter((span) => span.parentSpanId === parent.spanId)

      // The tree: the call, an attempt per HTTP request under it, and under each attempt the
      // platform's own `http.client` span (FakeSfox's client traces, as stock HttpClients do).
      assert.strictEqual(spans.length, 5)
      const [create] = named("sfox.user_tokens.create")
      assert.strictEqual(create!.parentSpanId, undefined)
      assert.strictEqual(create!.status, SpanStatusCode.OK)
      assert.deepStrictEqual(create!.attributes, { "sfox.user_count": 1 })

      const [first, second] = childrenOf(create!).sort((a, b) =>
        Number(a.attributes["sfox.attempt"]) - Number(b.attributes["sfox.attempt"])
      )
      for (const attempt of [first!, second!]) {
        assert.strictEqual(attempt.name, ONE_USER)
        assert.strictEqual(attempt.kind, SpanKind.CLIENT)
        const [http, ...more] = childrenOf(attempt)
        assert.strictEqual(more.length, 0)
        assert.strictEqual(http!.name, "http.client POST")
        assert.strictEqual(http!.attributes["http.request.header.authorization"], "<redacted>")
      }
      assert.deepStrictEqual(first!.attributes, {
        ...tokenRequest("/v1/enterprise/user-tokens/{user_id}"),
        "sfox.attempt": 1,
        "sfox.batch_size": 1,
        "http.response.status_code": 503,
        "error.type": "503"
      })
      assert.strictEqual(first!.status, SpanStatusCode.ERROR)

      const { "sfox.retry_delay": delay, ...others } = second!.attributes
      assert.deepStrictEqual(others, {
        ...tokenRequest("/v1/enterprise/user-tokens/{user_id}"),
        "sfox.attempt": 2,
        "http.request.resend_count": 1,
        "sfox.batch_size": 1,
        "http.response.status_code": 201
      })
      // The default policy's first delay, in seconds: 0.5 ± 20 % jitter.
      assert.isNumber(delay)
      assert.isAtLeast(delay as number, 0.4)
      assert.isAtMost(delay as number, 0.6)
      assert.strictEqual(second!.status, SpanStatusCode.OK)

      // Neither the key nor the token is in any span: names, attributes, statuses, events.
      for (const text of strings(exporter.getFinishedSpans())) {
        assert.notInclude(text, KEY)
        assert.notInclude(text, Redacted.value(token.token))
      }
      // The library's own spans carry no user id either (the platform's http.client span has the URL).
      const own = exporter.getFinishedSpans().filter((span) => !span.name.startsWith("http.client"))
      for (const text of strings(own)) assert.notInclude(text, USER)
    }).pipe(
      Effect.provide(Layer.mergeAll(
        FakeSfox.layerTest({ apiKey: KEY }),
        Tracing.layer({ spanProcessor: new SimpleSpanProcessor(exporter) })
      ))
    )
  })

  it.effect("get: one span per caller; the batch's attempt carries the batch size", () => {
    const exporter = new InMemorySpanExporter()
    return Effect.gen(function*() {
      const tokens = yield* UserTokenService
      const fibers = yield* Effect.forEach(["u1", "u2", "u3"], (id) => Effect.fork(tokens.get(id)))
      yield* TestClock.adjust("10 millis")
      const minted = yield* Fiber.joinAll(fibers)

      const spans = summary(exporter.getFinishedSpans())
      const gets = spans.filter((s) => s.name === "sfox.user_tokens.get")
      const attempts = spans.filter((s) => s.name === BATCH)
      assert.strictEqual(gets.length, 3)
      for (const get of gets) {
        assert.deepStrictEqual(get.attributes, { "sfox.user_count": 1 }, JSON.stringify(get.attributes))
      }
      assert.strictEqual(attempts.length, 1)
      // The batch runs for all three callers; its attempt sits under the get that opened the window.
      assert.include(gets.map((get) => get.spanId), attempts[0]!.parentSpanId)
      assert.deepStrictEqual(attempts[0]!.attributes, {
        ...tokenRequest("/v1/enterprise/user-tokens"),
        "sfox.attempt": 1,
        "sfox.batch_size": 3,
        "http.response.status_code": 201
      })
      for (const text of strings(exporter.getFinishedSpans())) {
        for (const token of minted) assert.notInclude(text, Redacted.value(token.token))
      }
    }).pipe(
      Effect.provide(Layer.mergeAll(
        FakeSfox.layerTest(),
        Tracing.layer({ spanProcessor: new SimpleSpanProcessor(exporter) })
      ))
    )
  })
  it.effect("without the platform's http.client span (transformClient), no user id reaches a trace", () => {
    const exporter = new InMemorySpanExporter()
    return Effect.gen(function*() {
      const fiber = yield* Effect.fork((yield* UserTokenService).create(USER))
      yield* TestClock.adjust("1 second")
      yield* Fiber.join(fiber)
      const spans = exporter.getFinishedSpans()
      assert.deepStrictEqual(spans.map((span) => span.name).sort(), [ONE_USER, "sfox.user_tokens.create"])
      for (const text of strings(spans)) assert.notInclude(text, USER)
    }).pipe(
      Effect.provide(Layer.mergeAll(
        FakeSfox.layerTest({}, { transformClient: HttpClient.withTracerDisabledWhen(() => true) }),
        Tracing.layer({ spanProcessor: new SimpleSpanProcessor(exporter) })
      ))
    )
  })

  it.effect("a deposit: the handler's span, then the user call's, with the token's get and the deposit's attempt", () => {
    const exporter = new InMemorySpanExporter()
    return Effect.gen(function*() {
      const answer = yield* one(deposit("session-alice", 250))
      assert.strictEqual(answer.status, 201)

      const spans = summary(exporter.getFinishedSpans())
      const named = (name: string) => {
        const found = spans.filter((span) => span.name === name)
        assert.strictEqual(found.length, 1, name)
        return found[0]!
      }
      const parentOf = (span: { readonly parentSpanId: string | undefined }) =>
        spans.find((other) => other.spanId === span.parentSpanId)?.name
      assert.strictEqual(parentOf(named("user_actions.initiate_deposit")), "http.server POST")
      assert.strictEqual(parentOf(named("sfox.user_api.request")), "user_actions.initiate_deposit")
      assert.strictEqual(parentOf(named("sfox.user_tokens.get")), "sfox.user_api.request")
      assert.strictEqual(parentOf(named(BATCH)), "sfox.user_tokens.get")
      // The deposit's own attempt: a client span named by its method alone (its path has no template).
      const attempt = named("POST")
      assert.strictEqual(parentOf(attempt), "sfox.user_api.request")
      assert.strictEqual(attempt.kind, SpanKind.CLIENT)
      assert.strictEqual(named("sfox.user_api.request").kind, SpanKind.INTERNAL)
      assert.deepStrictEqual(attempt.attributes, {
        "http.request.method": "POST",
        "server.address": "api.sfox.com",
        "server.port": 443,
        "sfox.attempt": 1,
        "http.response.status_code": 201
      })

      // Nothing secret in any span, the platform's included: not the key, the token, the session or
      // the user id (the mint is a batch, whose ids are in its body; the deposit's path names nobody).
      const minted = yield* (yield* Minted)
      assert.strictEqual(minted.size, 1)
      const secrets = [Redacted.value((yield* FakeSfox).apiKey), "session-alice", alice, ...minted]
      for (const text of strings(exporter.getFinishedSpans())) {
        for (const secret of secrets) assert.notInclude(text, secret)
      }
    }).pipe(
      Effect.provide(
        layer().pipe(Layer.provideMerge(Tracing.layer({ spanProcessor: new SimpleSpanProcessor(exporter) })))
      )
    )
  })
})

/** Attempts in `http.client.request.duration` with these tags (over every series that has them), and their seconds. */
const attemptsWith = (tags: Readonly<Record<string, string>>) =>
  Effect.map(Metric.snapshot, (pairs) => {
    let count = 0
    let seconds = 0
    for (const { metricKey, metricState } of pairs) {
      if (metricKey.name !== "http.client.request.duration" || !MetricState.isHistogramState(metricState)) continue
      const has = Object.entries(tags).every(([key, value]) =>
        metricKey.tags.some((tag) => tag.key === key && tag.value === value)
      )
      if (has) {
        count += metricState.count
        seconds += metricState.sum
      }
    }
    return { count, seconds }
  })

describe("SfoxMetrics", () => {
  it.effect("a retried call counts one token, one retry and an attempt per status, timed in seconds", () => {
    const reader = new TestMetricReader()
    const ofOneUser = { "url.template": "/v1/enterprise/user-tokens/{user_id}", "server.address": "api.sfox.com" }
    return Effect.gen(function*() {
      const before = {
        minted: (yield* Metric.value(SfoxMetrics.tokensMinted)).count,
        retries: (yield* Metric.value(SfoxMetrics.retries)).count,
        refused: yield* attemptsWith({ ...ofOneUser, "http.response.status_code": "503", "error.type": "503" }),
        answered: yield* attemptsWith({ ...ofOneUser, "http.response.status_code": "201" })
      }
      const fake = yield* FakeSfox
      // The refusal takes 2 s of (virtual) time: the histogram holds 2, not 2,000.
      yield* fake.enqueue(Fault.delay("2 seconds", Fault.status(503)))
      const fiber = yield* Effect.fork((yield* UserTokenService).create(USER))
      yield* TestClock.adjust("10 seconds")
      yield* Fiber.join(fiber)

      const minted = (yield* Metric.value(SfoxMetrics.tokensMinted)).count
      assert.strictEqual(minted - before.minted, 1)
      assert.strictEqual((yield* Metric.value(SfoxMetrics.retries)).count - before.retries, 1)
      const refused = yield* attemptsWith({ ...ofOneUser, "http.response.status_code": "503", "error.type": "503" })
      const answered = yield* attemptsWith({ ...ofOneUser, "http.response.status_code": "201" })
      assert.strictEqual(refused.count - before.refused.count, 1)
      assert.strictEqual(refused.seconds - before.refused.seconds, 2)
      assert.strictEqual(answered.count - before.answered.count, 1)
      assert.strictEqual(answered.seconds - before.answered.seconds, 0)

      // The same values, as an OpenTelemetry reader (and so any exporter) sees them.
      const { resourceMetrics } = yield* Effect.promise(() => reader.collect())
      const exported = new Map(
        resourceMetrics.scopeMetrics.flatMap((scope) => scope.metrics).map((m) => [m.descriptor.name, m])
      )
      for (
        const name of ["sfox.user_tokens.minted", "sfox.retries", "http.client.request.duration", "sfox.batch.size"]
      ) {
        assert.isTrue(exported.has(name), `${name} is exported`)
      }
      const mintedPoint = exported.get("sfox.user_tokens.minted")!.dataPoints[0]!
      assert.strictEqual(mintedPoint.value, minted)
      const durations = exported.get("http.client.request.duration")!.dataPoints
      assert.isTrue(
        durations.some((point) =>
          point.attributes["http.request.method"] === "POST" && point.attributes["server.port"] === "443" &&
          point.attributes["url.template"] === "/v1/enterprise/user-tokens/{user_id}" &&
          point.attributes["http.response.status_code"] === "503" && point.attributes["error.type"] === "503"
        ),
        JSON.stringify(durations.map((point) => point.attributes))
      )
    }).pipe(
      Effect.provide(Layer.mergeAll(
        FakeSfox.layerTest(),
        Tracing.layer({ spanProcessor: new SimpleSpanProcessor(new InMemorySpanExporter()), metricReader: reader })
      ))
    )
  })
})
