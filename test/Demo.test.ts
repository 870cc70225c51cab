/**
 * `pnpm demo` as a user runs it: from source, in its own process, with no key
 * in the environment. It must pass every step and then exit on its own,
 * which it can only do when it leaves no socket, server or timer open.
 */
import { assert, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { childEnv, runCliEntry } from "./utils/childProcess.js"

it.live("the demo mints, batches, survives a 503, reports a wrong key, and exits 0 by itself", () =>
  Effect.gen(function*() {
    const result = yield* runCliEntry("demo.ts", [], { env: childEnv(), timeoutMillis: 25_000 })
    assert.strictEqual(result.signal, null, `killed: still running after 25 s\n${result.stdout}${result.stderr}`)
    assert.strictEqual(result.code, 0, result.stdout + result.stderr)
    const report = result.stdout
    assert.match(report, /✓ one token .* → [0-9a-f]{4}…, expires \S+Z +\d+ ms/)
    assert.match(report, /✓ batch of 1,000 +1,000 tokens, each matched to its user, from 10 POSTs/)
    assert.match(report, /✓ scripted 503 +minted after a retry: the server saw 2 attempts \(503, then 201\)/)
    assert.match(report, /✓ wrong key +Unauthorized: .*401.*1 attempt, not retried/)
    assert.notMatch(report, /\b[0-9a-f]{64}\b/)
  }))
