/**
 * The Effect-free domain of sfox-effect: plain data in, plain data out. Every
 * edition of the library (the Effect 3 packages, and any other) runs these
 * functions in its own shell, so nothing here is ever written twice.
 *
 * Nothing in this package imports `effect`, `@effect/*` or a Node API (a lint
 * rule in eslint.config.mjs enforces it).
 *
 * @since 0.1.0
 */
export * as BatcherMachine from "./BatcherMachine.js"
export * as SplitPlan from "./SplitPlan.js"
export * as TokenCachePolicy from "./TokenCachePolicy.js"
export * as Version from "./Version.js"

/**
 * The rules of a rate-limit budget: `limit` and `interval` checked, and the
 * window a limiter keeps.
 *
 * @since 0.1.0
 */
export * as Budget from "./Budget.js"

/**
 * The in-process rate limiter as a pure transition function.
 *
 * @since 0.1.0
 */
export * as LimiterMachine from "./LimiterMachine.js"

/**
 * The client side of the limiter shared through Redis (fallback, command
 * bounds, the acquire script's answers) as pure decisions.
 *
 * @since 0.1.0
 */
export * as SharedLimiterMachine from "./SharedLimiterMachine.js"
