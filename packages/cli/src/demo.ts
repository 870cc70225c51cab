/**
 * `pnpm demo`: the library end to end in a few seconds, with no sFOX key and
 * no network. It starts the embedded `MockSfoxServer` on loopback and mints
 * against it over real HTTP: one token, a batch of 1,000, a call that meets a
 * scripted 503 and retries, and a wrong key that must come back as
 * `Unauthorized`. Not part of the public API.
 *
 * @since 0.1.0
 */
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import { UserTokenService } from "@sfox-effect/core"
import { Fault } from "@sfox-effect/core/testing"
import { NodeSfox } from "@sfox-effect/node"
import { MockSfoxServer } from "@sfox-effect/node/testing"
import * as Console from "effect/Console"
import * as DateTime from "effect/DateTime"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import * as Crypto from "node:crypto"

const seedUserId = "156c5beb-7c9f-4f68-83c0-9479703ac490"
const batchSize = 1000

const redact = (token: Redacted.Redacted<string>) => `${Redacted.value(token).slice(0, 4)}…`
const count = (n: number) => n.toLocaleString("en-US")
const millis = (d: Duration.Duration) => `${Math.round(Duration.toMillis(d))} ms`.padStart(8)

const line = (label: string, detail: string, took: Duration.Duration) =>
  Console.log(`  ✓ ${label.padEnd(16)} ${detail.padEnd(78)} ${millis(took)}`)

/** Fails the demo, and so `pnpm demo`, when the library does not do what the report claims. */
const check = (ok: boolean, what: string) => ok ? Effect.void : Effect.dieMessage(`demo check failed: ${what}`)

type Server = Effect.Effect.Success<ReturnType<typeof MockSfoxServer.make>>
type Tokens = Effect.Effect.Success<ReturnType<typeof UserTokenService.make>>

/** Requests the server sees while `effect` runs. */
const observed = (server: Server) => <A, E>(effect: Effect.Effect<A, E>) =>
  Effect.gen(function*() {
    const before = (yield* server.requests).length
    const [took, value] = yield* Effect.timed(effect)
    return { took, value, requests: (yield* server.requests).slice(before) }
  })

/** One token, then a batch: the happy paths. */
const mints = (server: Server, tokens: Tokens) =>
  Effect.gen(function*() {
    const one = yield* observed(server)(tokens.create(seedUserId))
    yield* check(one.value.userId === seedUserId && one.requests.length === 1, "one token, one POST")
    yield* line(
      "one token",
      `${one.value.userId} → ${redact(one.value.token)}, expires ${DateTime.formatIso(one.value.expires)}`,
      one.took
    )

    const ids = Array.from({ length: batchSize }, () => Crypto.randomUUID())
    const many = yield* observed(server)(tokens.createMany(ids))
    yield* check(
      many.value.length === batchSize && many.value.every((token, i) => token.userId === ids[i]),
      "a token for every user of the batch, in order"
    )
    const largest = Math.max(...many.requests.map((request) => request.userIds.length))
    yield* line(
      `batch of ${count(batchSize)}`,
      `${
        count(many.value.length)
      } tokens, each matched to its user, from ${many.requests.length} POSTs of ≤${largest} ids`,
      many.took
    )
    return [one.took, many.took]
  })

/** A scripted 503 retried, and a wrong key refused: the failure paths. */
const failures = (server: Server, tokens: Tokens) =>
  Effect.gen(function*() {
    yield* server.enqueue(Fault.status(503))
    const retried = yield* observed(server)(tokens.create(seedUserId))
    const statuses = retried.requests.map((request) => request.status)
    yield* check(statuses.length >= 2 && statuses[0] === 503 && statuses.at(-1) === 201, "a 503, then a 201")
    yield* line(
      "scripted 503",
      `minted after a retry: the server saw ${statuses.length} attempts (${statuses.join(", then ")})`,
      retried.took
    )

    const stranger = yield* UserTokenService.make({ apiKey: Redacted.make("not-the-key"), baseUrl: server.url })
    const refused = yield* observed(server)(Effect.flip(stranger.create(seedUserId)))
    yield* check(refused.value._tag === "Unauthorized" && refused.requests.length === 1, "Unauthorized, never retried")
    yield* line(
      "wrong key",
      `${refused.value._tag}: ${refused.value.message}; ${refused.requests.length} attempt, not retried`,
      refused.took
    )
    return [retried.took, refused.took]
  })

const demo = Effect.gen(function*() {
  const server = yield* MockSfoxServer.make({ apiKey: Crypto.randomBytes(24).toString("base64url") })
  const tokens = yield* UserTokenService.make({ apiKey: server.apiKey, baseUrl: server.url })
  yield* Console.log(`sfox-effect demo: an embedded sFOX simulator at ${server.url} (no key, no network)\n`)
  const took = [...yield* mints(server, tokens), ...yield* failures(server, tokens)]
  const total = took.reduce((sum, step) => Duration.sum(sum, step), Duration.zero)
  yield* Console.log(
    `\n${count(yield* server.minted)} tokens minted in ${(Duration.toMillis(total) / 1000).toFixed(2)} s.`
      + ` Next: npx -y pnpm@10.34.9 --filter @sfox-effect/cli sfox-tokens create --mock <user_id...>`
  )
}).pipe(Effect.scoped)

demo.pipe(Effect.provide(NodeSfox.httpClient), NodeRuntime.runMain)
