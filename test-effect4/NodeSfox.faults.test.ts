/**
 * Connections that break under the service: a reset before or after the
 * headers, a body short of its length. Each is a typed `TransportError`,
 * retried where the attempt may be sent again, and no rendering shows the key.
 * The Effect 4 edition's twin of test/NodeSfox.faults.test.ts.
 */
import { assert, describe, it } from "@effect/vitest"
import { Fault } from "@sfox-effect/effect4-core/testing"
import { Effect, Schedule } from "effect"
import { assertNoKey, expectTransport, run } from "./utils/nodeSfox.js"

describe("NodeSfox.httpClient against real-socket faults", () => {
  it.live("reset before the headers: TransportError Reset, retried", () =>
    run({}, ({ server, tokens }) =>
      Effect.gen(function*() {
        yield* server.enqueue([Fault.reset(), Fault.reset(), Fault.reset()])
        // Reset, not Timeout: each attempt ended with its reset, not at its (400 ms) timeout.
        const error = expectTransport(yield* Effect.flip(tokens.create("u1")), "Reset")
        assertNoKey(error)
        assert.strictEqual((yield* server.requests).length, 3)
      })))

  it.live("reset before the headers, twice: the token on the third attempt", () =>
    run({}, ({ server, tokens }) =>
      Effect.gen(function*() {
        yield* server.enqueue([Fault.reset(), Fault.reset()])
        const token = yield* tokens.create("u1")
        assert.strictEqual(token.userId, "u1")
        assert.strictEqual((yield* server.requests).length, 3)
      })))

  it.live("reset after the headers: TransportError Reset (body cut short)", () =>
    run({ service: { retry: Schedule.recurs(0) } }, ({ server, tokens }) =>
      Effect.gen(function*() {
        yield* server.enqueue(Fault.resetAfterHeaders())
        const error = expectTransport(yield* Effect.flip(tokens.create("u1")), "Reset")
        assert.include(error.description, "cut short")
        assertNoKey(error)
        assert.strictEqual((yield* server.requests).length, 1)
      })))

  it.live("a body short of its Content-Length: TransportError Reset", () =>
    run({ service: { retry: Schedule.recurs(0) } }, ({ server, tokens }) =>
      Effect.gen(function*() {
        yield* server.enqueue(Fault.shortBody())
        expectTransport(yield* Effect.flip(tokens.create("u1")), "Reset")
        assert.strictEqual((yield* server.requests).length, 1)
      })))
})
