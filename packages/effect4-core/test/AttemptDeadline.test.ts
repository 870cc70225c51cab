import { assert, describe, it } from "@effect/vitest"
import { type TransportError, type UserTokenError, UserTokenService } from "@sfox-effect/effect4-core"
import * as AttemptDeadline from "@sfox-effect/effect4-core/internal/clientProtocol"
import { Effect, Fiber, Layer, Option, Redacted, Schedule } from "effect"
import * as HttpClient from "effect/http/HttpClient"
import * as HttpClientError from "effect/http/HttpClientError"
import type * as HttpClientRequest from "effect/http/HttpClientRequest"
import type * as HttpClientResponse from "effect/http/HttpClientResponse"
import { TestClock } from "effect/testing"

/**
 * What a client saw of the attempt's deadline: one entry per request,
 * whether `AttemptDeadline.current` held one, and how many aborts it got.
 */
interface Seen {
  readonly deadlines: Array<boolean>
  aborts: number
}

/**
 * A client that never answers unless aborted, and fails when it is:
 * declared with `enforcedBy` unless `declared` is false.
 */
const silentClient = (seen: Seen, declared = true): HttpClient.HttpClient => {
  const client = HttpClient.makeWith(
    Effect.flatMap((request) =>
      Effect.withFiber<HttpClientResponse.HttpClientResponse, HttpClientError.HttpClientError>((fiber) => {
        const deadline = AttemptDeadline.unsafeCurrent(fiber)
        seen.deadlines.push(deadline !== undefined)
        return Effect.callback((resume) => {
          if (deadline === undefined) return
          deadline.onExpiry(() => {
            seen.aborts++
            resume(Effect.fail(abortedError(request)))
          })
        })
      })
    ),
    Effect.succeed as HttpClient.HttpClient.Preprocess<never, never>
  )
  return declared ? AttemptDeadline.enforcedBy(client) : client
}

/** The failure of a request its client aborted. */
const abortedError = (request: HttpClientRequest.HttpClientRequest) =>
  new HttpClientError.HttpClientError({ reason: new HttpClientError.TransportError({ request, cause: "aborted" }) })

const service = (client: HttpClient.HttpClient, options: Partial<UserTokenService.Options> = {}) =>
  UserTokenService.make({
    apiKey: Redacted.make("sk-deadline-test"),
    retry: Schedule.recurs(0),
    rateLimit: false,
    ...options
  }).pipe(Effect.provide(Layer.succeed(HttpClient.HttpClient, client)), Effect.scoped)

const timedOut = (error: UserTokenError): TransportError => {
  assert.strictEqual(error._tag, "TransportError", error.message)
  const transport = error as TransportError
  assert.strictEqual(transport.reason, "Timeout")
  return transport
}

describe("AttemptDeadline: a client that ends the attempt at its deadline itself", () => {
  it("enforcedBy declares the client it is given, and only that one", () => {
    const client = silentClient({ deadlines: [], aborts: 0 })
    assert.isTrue(AttemptDeadline.isEnforcedBy(client))
    assert.isFalse(AttemptDeadline.isEnforcedBy(HttpClient.mapRequest(client, (request) => request)))
    assert.isFalse(AttemptDeadline.isEnforcedBy(silentClient({ deadlines: [], aborts: 0 }, false)))
  })

  it.live("live clock: the client sees the deadline, is aborted once at the timeout, the attempt fails with Timeout", () =>
    Effect.gen(function*() {
      const seen: Seen = { deadlines: [], aborts: 0 }
      const tokens = yield* service(silentClient(seen), { timeout: "50 millis" })
      const error = timedOut(yield* Effect.flip(tokens.create("u1")))
      assert.strictEqual(error.description, "an attempt took longer than 50 ms")
      assert.deepStrictEqual(seen, { deadlines: [true], aborts: 1 })
    }))

  it.live("an abort that throws: no uncaught exception, the other aborts still run, the attempt fails with Timeout", () =>
    Effect.gen(function*() {
      const uncaught: Array<unknown> = []
      const record = (error: unknown) => uncaught.push(error)
      process.on("uncaughtException", record)
      let others = 0
      // The client's first abort resumes the request, then throws; a second one is registered too.
      const client = AttemptDeadline.enforcedBy(HttpClient.makeWith(
        Effect.flatMap((request) =>
          Effect.withFiber<HttpClientResponse.HttpClientResponse, HttpClientError.HttpClientError>((fiber) => {
            const deadline = AttemptDeadline.unsafeCurrent(fiber)!
            return Effect.callback((resume) => {
              deadline.onExpiry(() => {
                resume(Effect.fail(abortedError(request)))
                throw new Error("a broken abort")
              })
              deadline.onExpiry(() => {
                others++
              })
            })
          })
        ),
        Effect.succeed as HttpClient.HttpClient.Preprocess<never, never>
      ))
      const tokens = yield* service(client, { timeout: "30 millis" })
      const error = yield* Effect.flip(tokens.create("u1")).pipe(
        Effect.ensuring(Effect.sync(() => process.off("uncaughtException", record)))
      )
      timedOut(error)
      assert.strictEqual(others, 1)
      assert.deepStrictEqual(uncaught, [])
    }))

  it.live("live clock, the call's deadline shorter than the timeout: the past-the-deadline Timeout", () =>
    Effect.gen(function*() {
      const seen: Seen = { deadlines: [], aborts: 0 }
      const tokens = yield* service(silentClient(seen), { timeout: "10 seconds", deadline: "60 millis" })
      const error = timedOut(yield* Effect.flip(tokens.create("u1")))
      assert.strictEqual(error.description, "the call, retries included, took longer than 60 ms")
      assert.deepStrictEqual(seen, { deadlines: [true], aborts: 1 })
    }))

  it.live("live clock, every attempt aborted in turn: Timeout after 3 attempts, each its own deadline", () =>
    Effect.gen(function*() {
      const seen: Seen = { deadlines: [], aborts: 0 }
      const tokens = yield* service(silentClient(seen), {
        timeout: "30 millis",
        retry: Schedule.recurs(2)
      })
      timedOut(yield* Effect.flip(tokens.create("u1")))
      assert.deepStrictEqual(seen, { deadlines: [true, true, true], aborts: 3 })
    }))

  it.effect("TestClock: the client sees no deadline; the attempt ends on the TestClock, as for any client", () =>
    Effect.gen(function*() {
      const seen: Seen = { deadlines: [], aborts: 0 }
      const tokens = yield* service(silentClient(seen), { timeout: "10 seconds" })
      const fiber = yield* Effect.forkChild(Effect.flip(tokens.create("u1")))
      yield* TestClock.adjust("10 seconds")
      const error = timedOut(yield* Fiber.join(fiber))
      assert.strictEqual(error.description, "an attempt took longer than 10000 ms")
      assert.deepStrictEqual(seen, { deadlines: [false], aborts: 0 })
    }))

  it.live("transformClient: the transformed client is not declared; its attempts are raced as any client's", () =>
    Effect.gen(function*() {
      const seen: Seen = { deadlines: [], aborts: 0 }
      // A wrapper that waits before it sends: no abort of the client could end that wait.
      const stalled = yield* service(silentClient(seen), {
        timeout: "50 millis",
        transformClient: HttpClient.tapRequest(() => Effect.never)
      })
      const error = timedOut(yield* Effect.flip(stalled.create("u1")))
      assert.strictEqual(error.description, "an attempt took longer than 50 ms")
      assert.deepStrictEqual(seen, { deadlines: [], aborts: 0 })
      // One that passes the request on: the client is reached, with no deadline, and interrupted at the timeout.
      const passing = yield* service(silentClient(seen), {
        timeout: "50 millis",
        transformClient: HttpClient.mapRequest((request) => request)
      })
      timedOut(yield* Effect.flip(passing.create("u1")))
      assert.deepStrictEqual(seen, { deadlines: [false], aborts: 0 })
    }))

  it.live("the caller's fiber holds no deadline after an attempt", () =>
    Effect.gen(function*() {
      const tokens = yield* service(silentClient({ deadlines: [], aborts: 0 }), { timeout: "20 millis" })
      timedOut(yield* Effect.flip(tokens.create("u1")))
      assert.isTrue(Option.isNone(yield* AttemptDeadline.current))
    }))

  it.live("an interrupted attempt: the client's request is not aborted by the timer later, the fiber holds no deadline", () =>
    Effect.gen(function*() {
      const seen: Seen = { deadlines: [], aborts: 0 }
      let attemptFiber: Fiber.Fiber<unknown, unknown> | undefined
      const watched = AttemptDeadline.enforcedBy(HttpClient.makeWith(
        Effect.flatMap((request) =>
          Effect.withFiber<HttpClientResponse.HttpClientResponse, HttpClientError.HttpClientError>((fiber) => {
            attemptFiber = fiber
            return silentClient(seen).execute(request)
          })
        ),
        Effect.succeed as HttpClient.HttpClient.Preprocess<never, never>
      ))
      const tokens = yield* service(watched, { timeout: "40 millis" })
      const fiber = yield* Effect.forkChild(tokens.create("u1"))
      while (seen.deadlines.length === 0) yield* Effect.yieldNow
      assert.isDefined(AttemptDeadline.unsafeCurrent(attemptFiber!))
      yield* Fiber.interrupt(fiber)
      assert.isUndefined(AttemptDeadline.unsafeCurrent(attemptFiber!))
      // Past the timeout: the settled deadline calls no abort.
      yield* Effect.sleep("80 millis")
      assert.deepStrictEqual(seen, { deadlines: [true], aborts: 0 })
    }))
})
