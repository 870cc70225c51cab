import * as Duration from "effect/Duration"
import type { SimulatorOptions } from "../../SfoxSimulator.js"

/**
 * What sFOX checks before it looks at what a request asks for: the key, and
 * its rate limit (a strict sliding window over arrivals, then a lockout).
 */
export interface Admission {
  readonly authorization: (header: string | undefined) => "valid" | "invalid" | "missing"
  /** Counts an arrival at `now`; false when it is over the limit or locked out. */
  readonly admit: (now: number) => boolean
  /** Forgets every arrival and any lockout. */
  readonly reset: () => void
}

export const make = (key: string, rateLimit: SimulatorOptions["rateLimit"]): Admission => {
  const expected = `Bearer ${key}`
  // sFOX's rule in milliseconds, or undefined when the simulation enforces none.
  const policy = rateLimit === false || rateLimit === undefined
    ? undefined
    : {
      max: rateLimit.limit,
      windowMillis: Duration.toMillis(rateLimit.interval),
      lockoutMillis: Duration.toMillis(rateLimit.lockout ?? Duration.seconds(60))
    }
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
