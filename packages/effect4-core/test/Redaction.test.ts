import { assert, describe, it } from "@effect/vitest"
import { type UserAuthToken, type UserTokenError, UserTokenService } from "@sfox-effect/effect4-core"
import { FakeSfox, Fault } from "@sfox-effect/effect4-core/testing"
import { Cause, Effect, Exit, Layer, Logger, Redacted, Schedule } from "effect"
import * as Util from "node:util"

const key = "sk_live_0123456789abcdefSECRET"
const echoedToken = "f".repeat(64)

/** Every way a user might print a value. */
const renderings = (value: unknown): Array<string> => [
  String(value),
  JSON.stringify(value) ?? "",
  Util.inspect(value, { depth: 10 }),
  Util.inspect(value, { depth: 10, showHidden: true }),
  value instanceof Error ? `${value.message}\n${value.stack ?? ""}` : "",
  Cause.pretty(Cause.fail(value))
]

const assertClean = (value: unknown, secrets: ReadonlyArray<string>) => {
  for (const text of renderings(value)) {
    for (const secret of secrets) assert.notInclude(text, secret)
  }
}

const faults: ReadonlyArray<Fault> = [
  Fault.status(401, { body: { error: `bad key ${key}` } }),
  Fault.status(403, { body: `Authorization: Bearer ${key}` }),
  Fault.status(429, { body: { error: "slow down", token: echoedToken } }),
  Fault.status(500, { body: { error: `leaked ${echoedToken}` } }),
  Fault.status(502, { body: `<html>${key}</html>` }),
  Fault.malformed(`{"data": {"token": "${echoedToken}", "partner_user_id": 1}}`),
  Fault.malformed(`not json ${echoedToken} ${key}`),
  Fault.malformed(JSON.stringify({ error: `oops ${key}` }), 200),
  Fault.batch("add"),
  Fault.batch("drop"),
  Fault.reset(),
  Fault.resetAfterHeaders(),
  Fault.shortBody()
]

describe("secrets never leak", () => {
  it.effect("no error, however printed or logged, holds the key or a token", () =>
    Effect.gen(function*() {
      const fake = yield* FakeSfox
      const tokens = yield* UserTokenService
      const errors: Array<UserTokenError> = []
      const minted: Array<string> = []
      for (const fault of faults) {
        yield* fake.enqueue(fault)
        const exit = yield* Effect.exit<unknown, UserTokenError, never>(
          fault._tag === "Batch" ? tokens.createMany(["u1", "u2"]) : tokens.create("u1")
        )
        assert.isTrue(Exit.isFailure(exit), `${JSON.stringify(fault)} should fail`)
        if (Exit.isFailure(exit)) {
          const error = Cause.findErrorOption(exit.cause)
          if (error._tag === "Some") errors.push(error.value)
        }
      }
      errors.push(yield* Effect.flip(tokens.create("")))
      errors.push(yield* Effect.flip(tokens.createMany([])))
      assert.deepStrictEqual(
        [...new Set(errors.map((e) => e._tag))].sort(),
        [
          "EmptyBatch",
          "HttpFailure",
          "InvalidUserId",
          "MalformedResponse",
          "RateLimited",
          "TransportError",
          "Unauthorized"
        ]
      )
      for (const request of yield* fake.requests) assert.strictEqual(request.authorization, "valid")
      // Tokens the fake handed out in tampered answers are secrets too.
      const token = yield* tokens.create("u9")
      minted.push(Redacted.value(token.token))
      for (const error of errors) assertClean(error, [key, echoedToken, ...minted])

      // Logging: errors with their cause, tokens themselves.
      const lines: Array<string> = []
      const capture = Logger.make((options) => {
        lines.push(Logger.formatSimple.log(options), Logger.formatLogFmt.log(options))
      })
      yield* Effect.forEach(errors, (error) => Effect.logError("call failed", Cause.fail(error))).pipe(
        Effect.andThen(Effect.log("minted", token)),
        Effect.provide(Logger.layer([capture]))
      )
      assert.isAbove(lines.length, errors.length)
      for (const line of lines) {
        for (const secret of [key, echoedToken, ...minted]) assert.notInclude(line, secret)
      }
    }).pipe(Effect.provide(FakeSfox.layerTest({ apiKey: key }, { retry: Schedule.recurs(0) }))))

  it.effect("a token prints as <redacted> and its value is reachable only through Redacted.value", () =>
    Effect.gen(function*() {
      const token: UserAuthToken = yield* (yield* UserTokenService).create("u1")
      const secret = Redacted.value(token.token)
      assert.match(secret, /^[0-9a-f]{64}$/)
      assertClean(token, [secret])
      assert.include(Util.inspect(token), "<redacted>")
      assert.include(JSON.stringify(token), "u1")
    }).pipe(Effect.provide(FakeSfox.layerTest())))

  it.effect("the service's layer failure for a bad option does not print the key", () =>
    Effect.gen(function*() {
      const exit = yield* Effect.exit(
        Layer.build(UserTokenService.layer({ apiKey: Redacted.make(key), baseUrl: `http://example.com/?k=${key}` }))
          .pipe(
            Effect.scoped,
            Effect.provide(FakeSfox.layer())
          )
      )
      assert.isTrue(Exit.isFailure(exit))
      assert.notInclude(Cause.pretty(Exit.isFailure(exit) ? exit.cause : Cause.empty), key)
    }))
})
