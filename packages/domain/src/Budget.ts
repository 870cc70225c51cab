/**
 * The rules of a rate-limit budget (`{ limit, interval }`), shared by the
 * in-process limiter and the Redis one, so that both read a budget alike.
 *
 * @since 0.1.0
 */

/**
 * A budget, checked: at most `limit` requests in any `intervalMillis`.
 *
 * @since 0.1.0
 */
export interface Budget {
  readonly limit: number
  readonly intervalMillis: number
}

/**
 * What is wrong with a budget: the option at fault and why.
 *
 * @since 0.1.0
 */
export interface Problem {
  readonly option: "limit" | "interval"
  readonly message: string
}

/**
 * `limit` must be a positive (safe) integer.
 *
 * @since 0.1.0
 */
export const checkLimit = (limit: number): Problem | undefined =>
  Number.isSafeInteger(limit) && limit >= 1 ? undefined : { option: "limit", message: "must be a positive integer" }

/**
 * `interval` (already read as milliseconds; `undefined` when it could not be
 * read as a duration) must be positive.
 *
 * @since 0.1.0
 */
export const checkInterval = (intervalMillis: number | undefined): Problem | undefined =>
  intervalMillis !== undefined && intervalMillis > 0
    ? undefined
    : { option: "interval", message: "must be a positive duration" }

/**
 * The budget, or the first thing wrong with it (`limit` before `interval`).
 *
 * @since 0.1.0
 */
export const check = (limit: number, intervalMillis: number | undefined): Budget | Problem =>
  checkLimit(limit) ?? checkInterval(intervalMillis) ?? { limit, intervalMillis: intervalMillis! }

/**
 * Whether `check` found a problem.
 *
 * @since 0.1.0
 */
export const isProblem = (checked: Budget | Problem): checked is Problem => "option" in checked

/**
 * The window a limiter keeps: 1 % longer than asked, rounded up to a whole
 * millisecond (so at least 1 ms). The server's clock and its way of counting
 * are not ours, and the cost is one turn in a hundred a little later.
 *
 * @since 0.1.0
 */
export const windowMillis = (intervalMillis: number): number => Math.ceil(intervalMillis * 1.01)
