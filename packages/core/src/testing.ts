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
   * Scripted faults.
   *
   * @since 0.1.0
   */
  Fault
} from "./SfoxSimulator.js"
