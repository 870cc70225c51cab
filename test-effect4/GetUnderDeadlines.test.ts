/**
 * `get` over real sockets with callers that give up, as HTTP handlers with
 * deadlines do: `NodeSfox.httpClient` against `MockSfoxServer` with latency.
 * The Effect 4 edition's twin of test/GetUnderDeadlines.test.ts.
 */
import { assert, describe, it } from "@effect/vitest"
import { UserTokenService } from "@sfox-effect/effect4-core"
import { NodeSfox } from "@sfox-effect/effect4-node"
import { MockSfoxServer } from "@sfox-effect/effect4-node/testing"
import { Effect, Exit, Layer, Random, Redacted } from "effect"
import { leakFree, resources, settleResources } from "./utils/harness.js"

const KEY = "sk-get-deadlines-5d1e"
const users = Array.from({ length: 25 }, (_, i) => `user-${i}`)
const known = users.filter((id) => id !== "user-13")

describe("get under caller deadlines, over sockets", () => {
  it.live(
    "2,000 callers over 25 users with random deadlines: patient callers succeed, every user mints afterwards, nothing left open",
    () =>
      Effect.gen(function*() {
        const before = resources()
        yield* leakFree(
          Effect.gen(function*() {
            const server = yield* MockSfoxServer
            const tokens = yield* UserTokenService.make({
              apiKey: Redacted.make(KEY),
              baseUrl: server.url,
              batchWindow: "2 millis",
              maxBatchSize: 10,
              rateLimit: false
            })
            // Seeded: the same interleaving of deadlines on every run.
            const plan = yield* Effect.forEach(Array.from({ length: 2_000 }, (_, i) => i), (i) =>
              Effect.map(Random.nextIntBetween(0, 4, { halfOpen: true }), (kind) => ({
                userId: users[i % users.length]!,
                // 0: gives up at once; 1: within the window; 2: while the batch is in flight; 3: patient
                deadline: kind === 0 ? 0 : kind === 1 ? 1 : kind === 2 ? 15 : 60_000
              }))).pipe(Random.withSeed(20261124))
            const exits = yield* Effect.forEach(
              plan,
              ({ deadline, userId }) =>
                Effect.exit(Effect.timeout(tokens.get(userId), deadline)),
              { concurrency: "unbounded" }
            )
            for (const [i, exit] of exits.entries()) {
              const { deadline, userId } = plan[i]!
              if (deadline < 60_000) {
                continue
              }
              if (userId === "user-13") {
                // The unknown user: its own 404, naming nobody else.
                assert.isTrue(Exit.isFailure(exit), `caller ${i}`)
                if (Exit.isFailure(exit)) {
                  const text = String(exit.cause)
                  assert.include(text, "user-13")
                  for (const other of known) {
                    assert.notInclude(text, `${other}"`)
                  }
                }
              } else {
                assert.isTrue(Exit.isSuccess(exit) && exit.value.userId === userId, `caller ${i} (${userId})`)
              }
            }
            // Every user can still be minted by a fresh caller.
            const again = yield* Effect.forEach(known, (id) =>
              tokens.get(id), { concurrency: "unbounded" })
            assert.deepStrictEqual(again.map((t) => t.userId), known)
            const stats = yield* server.stats
            assert.strictEqual(stats.byStatus[429] ?? 0, 0)
          }).pipe(
            Effect.scoped,
            Effect.provide(
              Layer.merge(
                MockSfoxServer.layer({ apiKey: KEY, users: known, latency: "10 millis" }),
                NodeSfox.httpClient
              )
            )
          )
        )
        const left = yield* settleResources(before)
        assert.deepStrictEqual(left, {}, "handles or timers left open")
      })
  )
})
