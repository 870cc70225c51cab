import { UserTokenService } from "@sfox-effect/core"
import { FakeSfox } from "@sfox-effect/core/testing"
import { Effect, Layer, ManagedRuntime, Scheduler } from "effect"
const main = async () => {
  const rt = ManagedRuntime.make(
    FakeSfox.layerTest({ record: false }, { maxBatchSize: 1000, rateLimit: false }).pipe(Layer.orDie)
  )
  const all = Array.from({ length: 100000 }, (_, i) => `u-${i}`)
  for (let i = 0; i < 3; i++) {
    const t0 = performance.now()
    await rt.runPromise(
      Effect.flatMap(UserTokenService, (s) => s.createMany(all)).pipe(
        process.env.SCHED ? Effect.withScheduler(new Scheduler.MixedScheduler(1e9)) : (x) => x
      )
    )
    console.log("in-memory createMany 100k tokens/s", Math.round(100000 / ((performance.now() - t0) / 1000)))
  }
}
main()
