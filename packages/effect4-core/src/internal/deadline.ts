import type { RequestFailure } from "../SfoxError.js"
import { timeout as timeoutError } from "./transport.js"

/**
 * When a call, retries included, must be over: the one time bound of a
 * call, carried to each of its waits (the rate-limit turn, each attempt,
 * each retry delay). Not a race around the call: a race forks two fibers on
 * the path of every mint.
 */
export interface Deadline {
  /** Epoch millis, on the call's clock. */
  readonly at: number
  /** The call's whole allowance (the `deadline` option), named in the Timeout past it. */
  readonly millis: number
}

/** The deadline of a call that starts at `now` and may take `millis`. */
export const start = (now: number, millis: number): Deadline => ({ at: now + millis, millis })

/** What is left of `deadline` at `now`. */
export const left = (deadline: Deadline, now: number): number => deadline.at - now

/** The failure of a call whose deadline passed. */
export const passed = (deadline: Deadline): RequestFailure =>
  timeoutError("the call, retries included,", deadline.millis)

/**
 * What one attempt may take and what it fails with past it: its own
 * `timeout`, or, when less is left of the call's deadline, that.
 */
export interface Limit {
  readonly millis: number
  readonly onTimeout: () => RequestFailure
}

/** The limit of an attempt's own `timeout`: made once per service. */
export const attemptTimeout = (millis: number): Limit => ({
  millis,
  onTimeout: () => timeoutError("an attempt", millis)
})

/** The limit of an attempt that starts at `now`: `timeout`, or the rest of the deadline when that is shorter. */
export const limitAt = (deadline: Deadline, now: number, timeout: Limit): Limit => {
  const rest = deadline.at - now
  return rest <= timeout.millis ? { millis: rest, onTimeout: () => passed(deadline) } : timeout
}
