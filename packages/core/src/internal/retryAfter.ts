import * as Duration from "effect/Duration"

const seconds = /^\s*(\d{1,10})\s*$/

/**
 * Reads a `Retry-After` value: delta-seconds or an HTTP date (RFC 9110),
 * relative to `nowMillis`. A date in the past means "now"; nonsense means
 * no hint at all.
 */
export const parseRetryAfter = (value: string | undefined, nowMillis: number): Duration.Duration | undefined => {
  if (value === undefined) return undefined
  const delta = seconds.exec(value)
  if (delta !== null) return Duration.seconds(Number(delta[1]))
  const at = Date.parse(value)
  if (Number.isNaN(at)) return undefined
  return Duration.millis(Math.max(0, at - nowMillis))
}
