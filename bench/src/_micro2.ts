import { UserTokenService } from "@sfox-effect/core"
import { FakeSfox } from "@sfox-effect/core/testing"
import { Effect, Exit, Layer, ManagedRuntime } from "effect"
const n = 10_000
const ids = Array.from({ length: n }, (_, i) => `u${i}`)
const bare = async () => {
  const waiters: Array<(e: Exit.Exit<string>) => void> = []
  let suspendedAt = 0
  const t0 = performance.now()
  const p = Effect.runPromise(Effect.forEach(ids, (id) => Effect.async<string>((resume) => {
    waiters.push(resume)
    if (waiters.length === n) {
      suspendedAt = performance.now() - t0
      setTimeout(() => { for (const w of waiters) w(Exit.succeed("x")) }, 0)
    }
  }), { concurrency: "unbounded" }))
  await p
  console.log(`bare async: all suspended at ${Math.round(suspendedAt)} ms, done ${Math.round(performance.now() - t0)} ms`)
}
const service = async () => {
  const runtime = ManagedRuntime.make(FakeSfox.layerTest({}, { rateLimit: false }))
  await runtime.runPromise(Effect.void)
  const t0 = performance.now()
  await runtime.runPromise(Effect.flatMap(UserTokenService, (s) => Effect.forEach(ids, s.get, { concurrency: "unbounded" })))
  console.log(`service get over FakeSfox: done ${Math.round(performance.now() - t0)} ms`)
  await runtime.dispose()
}
for (let i = 0; i < 3; i++) { await bare(); await service() }
