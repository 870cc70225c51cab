/**
 * The in-process rate limiter as a pure transition function:
 * `step(state, event, now)` returns the next state and the commands the
 * shell runs (wake a caller, fail it, arm a timer). Nothing here reads a
 * clock, sleeps or resumes anything: the shell (core's
 * `internal/rateLimiter.ts`) holds the state, runs the commands and feeds
 * events back.
 *
 * The window: a request is counted from the moment it is granted a turn
 * until `windowMillis` after it *ended* (the `Done` event), so no window of
 * `windowMillis` on a server's clock sees more than `limit` requests,
 * whatever the latency. Turns come back in the order they were given back
 * (`now + window` only grows), each to the longest-waiting caller: FIFO.
 *
 * @since 0.1.0
 */
import * as Fifo from "./internal/fifo.js"

/**
 * A caller waiting for a turn, and the instant its wait runs out
 * (`Infinity`: never).
 *
 * @since 0.1.0
 */
export interface Waiter {
  readonly id: number
  readonly deadline: number
}

/**
 * The limiter's state: plain data, never changed in place.
 *
 * @since 0.1.0
 */
export interface State {
  readonly limit: number
  readonly windowMillis: number
  /** Turns free now. */
  readonly free: number
  /** Callers waiting, first come first served. */
  readonly waiting: Fifo.Fifo<Waiter>
  /** When each turn given back comes free again, in order. */
  readonly releases: Fifo.Fifo<number>
  /** The scope closed: no turn comes back, every caller fails as unavailable. */
  readonly closed: boolean
}

/**
 * What happens to the limiter.
 *
 * - `Ask`: a caller asks for a turn, waiting at most `maxWaitMillis`.
 * - `Done`: a request that held a turn ended (however): its turn comes back a window later.
 * - `Unused`: a caller granted a turn was interrupted before its request began: the turn goes on now.
 * - `Interrupted`: a waiting caller was interrupted.
 * - `ReleaseTimer`: the timer armed by `ArmReleaseTimer` fired.
 * - `WaitTimer`: the timer of one waiting caller fired.
 * - `Close`: the limiter's scope closed.
 *
 * @since 0.1.0
 */
export type Event =
  | { readonly _tag: "Ask"; readonly id: number; readonly maxWaitMillis: number }
  | { readonly _tag: "Done" }
  | { readonly _tag: "Unused" }
  | { readonly _tag: "Interrupted"; readonly id: number }
  | { readonly _tag: "ReleaseTimer" }
  | { readonly _tag: "WaitTimer"; readonly id: number }
  | { readonly _tag: "Close" }

/**
 * What the shell does. A caller's wait ends with exactly one `Grant` or
 * `Fail` (or its interruption), and its timer (if any) ends with the wait.
 * The release timer is armed while a turn is due back, at the first one.
 *
 * @since 0.1.0
 */
export type Command =
  | { readonly _tag: "Grant"; readonly id: number }
  | { readonly _tag: "Fail"; readonly id: number; readonly reason: "late" | "unavailable" }
  | { readonly _tag: "ArmWaitTimer"; readonly id: number; readonly at: number }
  | { readonly _tag: "ArmReleaseTimer"; readonly at: number }
  | { readonly _tag: "DisarmReleaseTimer" }

/**
 * The next state and the commands to run, in order.
 *
 * @since 0.1.0
 */
export interface Transition {
  readonly state: State
  readonly commands: ReadonlyArray<Command>
}

/**
 * A limiter with every turn free.
 *
 * @since 0.1.0
 */
export const initial = (limit: number, windowMillis: number): State => ({
  limit,
  windowMillis,
  free: limit,
  waiting: Fifo.empty,
  releases: Fifo.empty,
  closed: false
})

const none: ReadonlyArray<Command> = []

// One object literal of one shape: cheaper than a spread, on the path of every request.
const with_ = (
  state: State,
  change: {
    readonly free?: number
    readonly waiting?: Fifo.Fifo<Waiter>
    readonly releases?: Fifo.Fifo<number>
    readonly closed?: boolean
  }
): State => ({
  limit: state.limit,
  windowMillis: state.windowMillis,
  free: change.free ?? state.free,
  waiting: change.waiting ?? state.waiting,
  releases: change.releases ?? state.releases,
  closed: change.closed ?? state.closed
})

/**
 * The transition function.
 *
 * @since 0.1.0
 */
export const step = (state: State, event: Event, now: number): Transition => {
  switch (event._tag) {
    case "Ask":
      return ask(state, event.id, event.maxWaitMillis, now)
    case "Done":
      return done(state, now)
    case "Unused":
      return handBack(state, [])
    case "Interrupted":
      return { state: with_(state, { waiting: Fifo.remove(state.waiting, (w) => w.id === event.id) }), commands: none }
    case "ReleaseTimer":
      return releaseTimer(state, now)
    case "WaitTimer":
      return waitTimer(state, event.id, now)
    case "Close":
      return close(state)
  }
}

const ask = (state: State, id: number, maxWaitMillis: number, now: number): Transition => {
  if (state.closed) return { state, commands: [{ _tag: "Fail", id, reason: "unavailable" }] }
  if (state.free > 0) return { state: with_(state, { free: state.free - 1 }), commands: [{ _tag: "Grant", id }] }
  const deadline = now + maxWaitMillis
  return {
    state: with_(state, { waiting: Fifo.push(state.waiting, { id, deadline }) }),
    commands: Number.isFinite(deadline) ? [{ _tag: "ArmWaitTimer", id, at: deadline }] : none
  }
}

const done = (state: State, now: number): Transition => {
  // Once closed no turn comes back: there is nothing to count.
  if (state.closed) return { state, commands: none }
  const at = now + state.windowMillis
  const releases = Fifo.push(state.releases, at)
  return {
    state: with_(state, { releases }),
    commands: releases.size === 1 ? [{ _tag: "ArmReleaseTimer", at }] : none
  }
}

/** A turn comes back: to the caller waiting longest, else to the free ones. */
const handBack = (state: State, commands: Array<Command>): Transition => {
  const next = Fifo.peek(state.waiting)
  if (next === undefined) return { state: with_(state, { free: state.free + 1 }), commands }
  commands.push({ _tag: "Grant", id: next.id })
  return { state: with_(state, { waiting: Fifo.pop(state.waiting) }), commands }
}

/** Every turn whose window closed by `now` comes back, in order. */
const releaseDue = (state: State, now: number, commands: Array<Command>): Transition => {
  let current = state
  while (!current.closed) {
    const first = Fifo.peek(current.releases)
    if (first === undefined || first > now) break
    current = handBack(with_(current, { releases: Fifo.pop(current.releases) }), commands).state
  }
  if (current.releases.size === 0 && state.releases.size > 0) commands.push({ _tag: "DisarmReleaseTimer" })
  return { state: current, commands }
}

const releaseTimer = (state: State, now: number): Transition => {
  const released = releaseDue(state, now, [])
  const first = Fifo.peek(released.state.releases)
  // Fired early (or more came due since): sleep again until the first.
  if (first !== undefined && !released.state.closed) {
    return { state: released.state, commands: [...released.commands, { _tag: "ArmReleaseTimer", at: first }] }
  }
  return released
}

/**
 * Turns due by `now` go back first, so that a caller whose wait ends at the
 * instant a turn comes free gets it, whichever of the two timers fires first.
 */
const waitTimer = (state: State, id: number, now: number): Transition => {
  const released = releaseDue(state, now, [])
  const waiter = Fifo.find(released.state.waiting, (w) => w.id === id)
  if (waiter === undefined) return released
  const commands = [...released.commands]
  // A timer that fires before the wait's end (a clock that runs early) is armed again.
  if (now < waiter.deadline) {
    commands.push({ _tag: "ArmWaitTimer", id, at: waiter.deadline })
    return { state: released.state, commands }
  }
  commands.push({ _tag: "Fail", id, reason: "late" })
  return {
    state: with_(released.state, { waiting: Fifo.remove(released.state.waiting, (w) => w.id === id) }),
    commands
  }
}

const close = (state: State): Transition => {
  if (state.closed) return { state, commands: none }
  const commands: Array<Command> = Fifo.toArray(state.waiting).map((w) => ({
    _tag: "Fail",
    id: w.id,
    reason: "unavailable"
  }))
  if (state.releases.size > 0) commands.push({ _tag: "DisarmReleaseTimer" })
  return { state: with_(state, { waiting: Fifo.empty, closed: true }), commands }
}

/**
 * When the first turn given back comes free again, if any.
 *
 * @since 0.1.0
 */
export const nextRelease = (state: State): number | undefined => Fifo.peek(state.releases)

/**
 * The state as arrays, for tests and snapshots.
 *
 * @since 0.1.0
 */
export const view = (state: State): {
  readonly free: number
  readonly waiting: ReadonlyArray<Waiter>
  readonly releases: ReadonlyArray<number>
  readonly closed: boolean
} => ({
  free: state.free,
  waiting: Fifo.toArray(state.waiting),
  releases: Fifo.toArray(state.releases),
  closed: state.closed
})

/**
 * The limiter's state as its tests read it: free turns, callers waiting,
 * and when each turn given back comes free again (in order).
 *
 * @since 0.3.0
 */
export interface Snapshot {
  readonly free: number
  readonly waiting: number
  /** When each turn given back comes free again, in order (when the limiter shows them). */
  readonly releases?: ReadonlyArray<number>
}

/**
 * The snapshot of a state.
 *
 * @since 0.3.0
 */
export const snapshot = (state: State): Snapshot => {
  const { free, releases, waiting } = view(state)
  return { free, waiting: waiting.length, releases }
}
