/**
 * Test support: a faithful in-memory sFOX.
 *
 * @since 0.1.0
 */

/**
 * The fake sFOX layer and its control service.
 *
 * @since 0.1.0
 */
export * from "./FakeSfox.js"

/**
 * The simulation shared by `FakeSfox` and `MockSfoxServer`.
 *
 * @since 0.1.0
 */
export * as SfoxSimulator from "./SfoxSimulator.js"

export {
  /**
   * Scripted faults: constructors of `SfoxSimulator.Fault`, for
   * `FakeSfox`'s and `MockSfoxServer`'s `enqueue`.
   *
   * @example
   * ```ts
   * import { FakeSfox, Fault } from "@sfox-effect/effect4-core/testing"
   * import { Effect } from "effect"
   *
   * const flaky = Effect.flatMap(FakeSfox, (fake) => fake.enqueue([Fault.reset(), Fault.delay("2 seconds")]))
   * ```
   *
   * @since 0.1.0
   * @category constructors
   */
  Fault
} from "./SfoxSimulator.js"
