/**
 * An in-memory sFOX for tests: the `SfoxSimulator` served as an `HttpClient`
 * layer, plus the `FakeSfox` service that scripts and inspects it. Time in
 * the fake is Effect's clock, so `TestClock` controls latency, delays and
 * retry waits: under `it.effect` they wait until the test moves it.
 *
 * @since 0.1.0
 */
import type * as Config from "effect/Config"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as HttpClient from "effect/http/HttpClient"
import * as Layer from "effect/Layer"
import * as InMemory from "./internal/simulator/inMemory.js"
import * as SfoxSimulator from "./SfoxSimulator.js"
import { UserTokenService } from "./UserTokenService.js"

/**
 * The control side of a fake sFOX: `enqueue` faults, read `requests`, add
 * users, change latency.
 *
 * @example
 * ```ts
 * import { assert } from "@effect/vitest"
 * import { UserTokenService } from "@sfox-effect/effect4-core"
 * import { FakeSfox, Fault } from "@sfox-effect/effect4-core/testing"
 * import { Effect, Fiber } from "effect"
 * import { TestClock } from "effect/testing"
 *
 * // Run it in `it.effect`: the retries' delays wait on TestClock, so the test moves it.
 * const program = Effect.gen(function*() {
 *   const fake = yield* FakeSfox
 *   yield* fake.enqueue([Fault.status(503), Fault.status(503)])
 *   const tokens = yield* UserTokenService
 *   const fiber = yield* Effect.forkChild(tokens.create("user-1"))
 *   yield* TestClock.adjust("10 seconds") // past both retry delays
 *   const token = yield* Fiber.join(fiber)
 *   assert.strictEqual(token.userId, "user-1")
 *   assert.strictEqual((yield* fake.requests).length, 3) // two 503s, then the 201
 * }).pipe(Effect.provide(FakeSfox.layerTest()))
 * ```
 *
 * @since 0.1.0
 * @category services
 */
export class FakeSfox extends Context.Service<FakeSfox, SfoxSimulator.SfoxSimulator>()(
  "@sfox-effect/effect4-core/FakeSfox"
) {
  /**
   * The fake as an `HttpClient`, plus its control service: for tests that
   * build `UserTokenService` themselves (custom options, their own key, two
   * services on one fake).
   *
   * @example
   * ```ts
   * import { assert } from "@effect/vitest"
   * import { UserTokenService } from "@sfox-effect/effect4-core"
   * import { FakeSfox } from "@sfox-effect/effect4-core/testing"
   * import { Effect, Layer, Redacted } from "effect"
   *
   * const Fake = FakeSfox.layer({ apiKey: "test-key", users: ["user-1"] })
   * const Tokens = UserTokenService.layer({ apiKey: Redacted.make("test-key"), maxBatchSize: 10 })
   *
   * // In `it.effect`: a 404 is not retried, so nothing waits on TestClock.
   * const program = Effect.gen(function*() {
   *   const tokens = yield* UserTokenService
   *   const error = yield* Effect.flip(tokens.create("user-2"))
   *   assert.strictEqual(error._tag, "HttpFailure") // the fake knows only user-1
   * }).pipe(Effect.provide(Tokens.pipe(Layer.provideMerge(Fake))))
   * ```
   *
   * @since 0.1.0
   */
  static readonly layer = (
    options: SfoxSimulator.SimulatorOptions = {}
  ): Layer.Layer<FakeSfox | HttpClient.HttpClient> =>
    Layer.effectContext(Effect.map(SfoxSimulator.make(options), contextOf))

  /**
   * `UserTokenService` wired to a fake that accepts its key, plus the
   * fake's control service: the one layer most tests need. Its first
   * argument configures the fake, its second the service (all but the key).
   * Each test that provides it (`Effect.provide` in `it.effect`) gets a fake
   * and a service of its own, even from one layer value shared by the
   * tests; `it.layer` shares one between the tests of a `describe`.
   *
   * @example
   * ```ts
   * import { assert } from "@effect/vitest"
   * import { UserTokenService } from "@sfox-effect/effect4-core"
   * import { FakeSfox } from "@sfox-effect/effect4-core/testing"
   * import { Effect } from "effect"
   *
   * // In `it.effect`, without moving TestClock: `get`'s window also closes on
   * // real time, and the fake answers at once (a `latency` would wait on TestClock).
   * const program = Effect.gen(function*() {
   *   const tokens = yield* UserTokenService
   *   yield* Effect.forEach(["a", "b", "c"], tokens.get, { concurrency: "unbounded" })
   *   const fake = yield* FakeSfox
   *   assert.strictEqual((yield* fake.requests).length, 1) // one batch request for the three
   * }).pipe(Effect.provide(FakeSfox.layerTest({ users: ["a", "b", "c"] }, { batchWindow: "5 millis" })))
   * ```
   *
   * @since 0.1.0
   */
  static readonly layerTest = (
    options: SfoxSimulator.SimulatorOptions = {},
    service: Omit<UserTokenService.Options, "apiKey"> = {}
  ): Layer.Layer<UserTokenService | FakeSfox | HttpClient.HttpClient, Config.ConfigError> =>
    Layer.unwrap(
      Effect.map(
        SfoxSimulator.make(options),
        (simulator) =>
          UserTokenService.layer({ ...service, apiKey: simulator.apiKey }).pipe(
            Layer.provideMerge(Layer.succeedContext(contextOf(simulator)))
          )
      )
    )
}

/** The fake's two services: its control side and its client. */
const contextOf = (simulator: SfoxSimulator.SfoxSimulator): Context.Context<FakeSfox | HttpClient.HttpClient> =>
  Context.make(FakeSfox, simulator).pipe(Context.add(HttpClient.HttpClient, httpClient(simulator)))

/**
 * Serves a simulator as an in-memory `HttpClient`: the request is handed to
 * `SfoxSimulator.handle` and its answer, faults included, acted out as a
 * platform response. For a simulator one built oneself, or a client under
 * a transform of one's own.
 *
 * @example
 * ```ts
 * import { httpClient, SfoxSimulator } from "@sfox-effect/effect4-core/testing"
 * import { HttpClient } from "effect/http"
 * import { Effect, Layer } from "effect"
 *
 * const Client = Layer.effect(
 *   HttpClient.HttpClient,
 *   Effect.map(SfoxSimulator.make({ latency: "50 millis" }), httpClient)
 * )
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const httpClient = (simulator: SfoxSimulator.SfoxSimulator): HttpClient.HttpClient =>
  HttpClient.make((request, url) =>
    Effect.flatMap(simulator.handle(InMemory.simRequest(request, url)), InMemory.act(request))
  )
