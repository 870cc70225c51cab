/**
 * Which bound ends a call that takes too long: the service's attempt timeout
 * (over headers and body alike, one per attempt), undici's headersTimeout and
 * bodyTimeout when they are shorter, and a request still queued for a busy
 * connection at its own attempt's timeout. The Effect 4 edition's twin of
 * test/NodeSfox.timeouts.test.ts.
 */
import { assert, describe, it } from "@effect/vitest"
import { Fault } from "@sfox-effect/effect4-core/testing"
import { NodeSfox } from "@sfox-effect/effect4-node"
import { Deferred, type Duration, Effect, Exit, Fiber, Schedule } from "effect"
import * as Http from "node:http"
import { codeOf } from "../packages/effect4-core/src/internal/transport.js"
import { leakFree, settle, tcpSockets } from "./utils/harness.js"
import { expectTransport, rawServer, run, serviceAt } from "./utils/nodeSfox.js"

describe("NodeSfox.httpClient: timeouts", () => {
  it.live("no answer: TransportError Timeout at the attempt timeout, socket aborted", () =>
    run(
      { service: { timeout: "300 millis", retry: Schedule.recurs(0) } },
      ({ baseline, server, tokens }) =>
        Effect.gen(function*() {
          yield* server.enqueue(Fault.noAnswer())
          const error = expectTransport(yield* Effect.flip(tokens.create("u1")), "Timeout")
          // The service's attempt timeout, at the value given, and not undici's own (30 s).
          assert.strictEqual(error.description, "an attempt took longer than 300 ms")
          assert.strictEqual((yield* server.requests).length, 1)
          // Both ends of the abandoned connection are gone while server and pool still run.
          assert.strictEqual(yield* settle(tcpSockets, baseline), baseline)
        })
    ))

  it.live("no answer, three times: Timeout after 3 attempts, each ended by its own timeout", () =>
    run({ service: { timeout: "300 millis" } }, ({ server, tokens }) =>
      Effect.gen(function*() {
        yield* server.enqueue([Fault.noAnswer(), Fault.noAnswer(), Fault.noAnswer()])
        const error = expectTransport(yield* Effect.flip(tokens.create("u1")), "Timeout")
        assert.strictEqual(error.description, "an attempt took longer than 300 ms")
        // Three: a timeout over the whole call would have ended it after one.
        assert.strictEqual((yield* server.requests).length, 3)
      })))

  it.live("no answer past undici's headersTimeout: Timeout before the service's own", () =>
    run(
      { service: { timeout: "5 seconds", retry: Schedule.recurs(0) }, http: { headersTimeout: "150 millis" } },
      ({ server, tokens }) =>
        Effect.gen(function*() {
          yield* server.enqueue(Fault.noAnswer())
          // undici's code: its timer, not the service's 5 s one, ended the attempt.
          const error = expectTransport(yield* Effect.flip(tokens.create("u1")), "Timeout")
          assert.strictEqual(codeOf(error.cause), "UND_ERR_HEADERS_TIMEOUT")
          assert.strictEqual((yield* server.requests).length, 1)
        })
    ))

  it.live("a trickled body slower than the timeout: TransportError Timeout", () =>
    run(
      { service: { timeout: "300 millis", retry: Schedule.recurs(0) } },
      ({ server, tokens }) =>
        Effect.gen(function*() {
          // ~150 bytes, 16 at a time, 100 ms apart: about a second in all.
          yield* server.enqueue(Fault.trickle("100 millis", 16))
          const error = expectTransport(yield* Effect.flip(tokens.create("u1")), "Timeout")
          // The attempt timeout covers the body: the answer's headers came at once.
          assert.strictEqual(error.description, "an attempt took longer than 300 ms")
          assert.strictEqual((yield* server.requests).length, 1)
        })
    ))

  it.live("a trickled body within the timeout: the token", () =>
    run({ service: { timeout: "2 seconds" } }, ({ server, tokens }) =>
      Effect.gen(function*() {
        yield* server.enqueue(Fault.trickle("5 millis", 16))
        const token = yield* tokens.create("u1")
        assert.strictEqual(token.userId, "u1")
        assert.strictEqual((yield* server.requests).length, 1)
      })))

  it.live("a body gap past undici's bodyTimeout: Timeout before the service's own", () =>
    run(
      { service: { timeout: "5 seconds", retry: Schedule.recurs(0) }, http: { bodyTimeout: "150 millis" } },
      ({ server, tokens }) =>
        Effect.gen(function*() {
          // undici checks body gaps on a ~0.5 s clock: the gap must be well over a second.
          yield* server.enqueue(Fault.trickle("3 seconds", 16))
          // undici's code: its timer, not the service's 5 s one, ended the attempt.
          const error = expectTransport(yield* Effect.flip(tokens.create("u1")), "Timeout")
          assert.strictEqual(codeOf(error.cause), "UND_ERR_BODY_TIMEOUT")
          assert.strictEqual((yield* server.requests).length, 1)
        })
    ))

  it.live("a request queued for a connection ends at its attempt's timeout, not when the connection frees", () =>
    leakFree(
      Effect.gen(function*() {
        // Never answers: the one connection stays taken until its caller is interrupted.
        const arrived = yield* Deferred.make<void>()
        let requests = 0
        const server = Http.createServer(() => {
          requests++
          Deferred.doneUnsafe(arrived, Exit.void)
        })
        const port = yield* rawServer(server)
        const service = (timeout: Duration.Input) =>
          serviceAt(`http://127.0.0.1:${port}`, { timeout, retry: Schedule.recurs(0) })
        const holder = yield* Effect.forkChild((yield* service("10 minutes")).create("u1"))
        yield* Deferred.await(arrived)
        const error = expectTransport(yield* Effect.flip((yield* service("100 millis")).create("u2")), "Timeout")
        assert.strictEqual(error.description, "an attempt took longer than 100 ms")
        assert.strictEqual(requests, 1, "the queued request never reached the server")
        yield* Fiber.interrupt(holder)
      }).pipe(Effect.scoped, Effect.provide(NodeSfox.httpClientWith({ connections: 1 })))
    ))
})
