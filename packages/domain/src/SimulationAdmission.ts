/**
 * What the simulated sFOX checks before it looks at what a request asks
 * for: the key, and its rate limit (a strict sliding window over arrivals,
 * then a lockout).
 *
 * @since 0.1.0
 */

/**
 * sFOX's rate limit in milliseconds.
 *
 * @since 0.1.0
 */
export interface RateLimit {
  readonly max: number
  readonly windowMillis: number
  readonly lockoutMillis: number
}

/**
 * The admission of one simulation.
 *
 * @since 0.1.0
 */
export interface Admission {
  readonly authorization: (header: string | undefined) => "valid" | "invalid" | "missing"
  /** Counts an arrival at `now`; false when it is over the limit or locked out. */
  readonly admit: (now: number) => boolean
  /** Forgets every arrival and any lockout. */
  readonly reset: () => void
}

/**
 * The admission of `key` under `policy` (`undefined`: no rate limit).
 *
 * @since 0.1.0
 */
export const make = (key: string, policy: RateLimit | undefined): Admission => {
  const expected = `Bearer ${key}`
  // Arrival times of the last `max` accepted requests: a ring buffer.
  let arrivals: Array<number> = []
  let next = 0
  let lockedUntil = Number.NEGATIVE_INFINITY
  const reset = () => {
    arrivals = policy === undefined ? [] : new Array<number>(policy.max).fill(Number.NEGATIVE_INFINITY)
    next = 0
    lockedUntil = Number.NEGATIVE_INFINITY
  }
  reset()
  return {
    authorization: (header) => header === undefined ? "missing" : header === expected ? "valid" : "invalid",
    admit: (now) => {
      if (policy === undefined) return true
      if (now < lockedUntil) return false
      if (now - arrivals[next]! < policy.windowMillis) {
        lockedUntil = now + policy.lockoutMillis
        return false
      }
      arrivals[next] = now
      next = (next + 1) % policy.max
      return true
    },
    reset
  }
}
