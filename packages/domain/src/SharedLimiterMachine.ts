/**
 * The client side of the limiter shared through Redis, as pure decisions:
 * which budget a call takes its turn from (the shared one, or this process's
 * fallback while Redis is out of reach), how long one command to Redis may
 * take, and what an answer of the acquire script means for the caller
 * waiting. The shell (`@sfox-effect/redis`'s `internal/`) talks to Redis,
 * sleeps and logs; these functions decide.
 *
 * @since 0.1.0
 */

/**
 * Which budget calls take their turns from.
 *
 * - `mode`: `shared` (Redis) or `fallback` (engaged when a Redis call failed).
 * - `inFallback`: calls holding a fallback turn now.
 * - `fallbackEndsAt`: when the last fallback turn's window closes.
 *
 * @since 0.1.0
 */
export interface State {
  readonly mode: "shared" | "fallback"
  readonly inFallback: number
  readonly fallbackEndsAt: number
  /** The fallback budget's window, in milliseconds. */
  readonly fallbackWindowMillis: number
}

/**
 * What happens.
 *
 * - `Ask`: a call wants a turn; `redisReady` says whether the connection is up.
 * - `SharedFailed`: the shared budget failed a call as unavailable (Redis down or too slow).
 * - `FallbackStarted` / `FallbackEnded`: a call took / gave back a fallback turn.
 *
 * @since 0.1.0
 */
export type Event =
  | { readonly _tag: "Ask"; readonly redisReady: boolean; readonly maxWaitMillis: number }
  | { readonly _tag: "SharedFailed" }
  | { readonly _tag: "FallbackStarted" }
  | { readonly _tag: "FallbackEnded" }

/**
 * What the shell does with the call.
 *
 * - `UseShared` / `UseFallback`: take the turn from that budget.
 * - `WaitThenAsk`: sleep `millis`, then ask again with `maxWaitMillis` left.
 * - `Late`: the caller's wait cannot cover what must pass first.
 * - `WarnEngaged` / `WarnBack`: log that the fallback engaged / that Redis answers again.
 *
 * @since 0.1.0
 */
export type Command =
  | { readonly _tag: "UseShared" }
  | { readonly _tag: "UseFallback" }
  | { readonly _tag: "WaitThenAsk"; readonly millis: number; readonly maxWaitMillis: number }
  | { readonly _tag: "Late" }
  | { readonly _tag: "WarnEngaged" }
  | { readonly _tag: "WarnBack" }

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
 * On the shared budget, nothing held in the fallback.
 *
 * @since 0.1.0
 */
export const initial = (fallbackWindowMillis: number): State => ({
  mode: "shared",
  inFallback: 0,
  fallbackEndsAt: 0,
  fallbackWindowMillis
})

/**
 * How often a call waiting for the fallback's turns in flight to end looks again.
 *
 * @since 0.1.0
 */
export const drainPollMillis = 20

/**
 * The transition function.
 *
 * @since 0.1.0
 */
export const step = (state: State, event: Event, now: number): Transition => {
  switch (event._tag) {
    case "Ask":
      return ask(state, event.redisReady, event.maxWaitMillis, now)
    case "SharedFailed":
      return {
        state: { ...state, mode: "fallback" },
        commands: state.mode === "shared"
          ? [{ _tag: "WarnEngaged" }, { _tag: "UseFallback" }]
          : [{ _tag: "UseFallback" }]
      }
    case "FallbackStarted":
      return { state: { ...state, inFallback: state.inFallback + 1 }, commands: [] }
    case "FallbackEnded":
      return {
        state: {
          ...state,
          inFallback: state.inFallback - 1,
          fallbackEndsAt: Math.max(state.fallbackEndsAt, now + state.fallbackWindowMillis)
        },
        commands: []
      }
  }
}

const ask = (state: State, redisReady: boolean, maxWaitMillis: number, now: number): Transition => {
  if (state.mode === "shared") return { state, commands: [{ _tag: "UseShared" }] }
  if (!redisReady) return { state, commands: [{ _tag: "UseFallback" }] }
  if (state.inFallback > 0 || now < state.fallbackEndsAt) {
    // Redis is back. This process's fallback turns are unknown to it: let
    // them run out before taking shared turns, so that here the two budgets
    // never add up in one window.
    const millis = state.inFallback > 0 ? drainPollMillis : state.fallbackEndsAt - now
    return {
      state,
      commands: [
        millis > maxWaitMillis
          ? { _tag: "Late" }
          : { _tag: "WaitThenAsk", millis, maxWaitMillis: maxWaitMillis - millis }
      ]
    }
  }
  return { state: { ...state, mode: "shared" }, commands: [{ _tag: "WarnBack" }, { _tag: "UseShared" }] }
}

/**
 * The bound of one command to Redis: `commandTimeout`, or the caller's time
 * left when that is shorter (then running out is the caller's lateness, not
 * Redis's slowness).
 *
 * @since 0.1.0
 */
export const commandBound = (
  leftMillis: number,
  commandTimeoutMillis: number
): { readonly millis: number; readonly callerBound: boolean } =>
  leftMillis < commandTimeoutMillis
    ? { millis: Math.max(1, leftMillis), callerBound: true }
    : { millis: commandTimeoutMillis, callerBound: false }

/**
 * What an answer of the acquire script means: `wait` 0 is a turn taken;
 * otherwise no turn can free for `wait` ms, and the caller sleeps that long
 * and asks again, unless that passes its deadline.
 *
 * @since 0.1.0
 */
export const afterAnswer = (
  wait: number,
  now: number,
  deadlineAt: number
):
  | { readonly _tag: "Granted" }
  | { readonly _tag: "Late" }
  | { readonly _tag: "SleepThenAsk"; readonly millis: number } =>
  wait === 0
    ? { _tag: "Granted" }
    : now + wait > deadlineAt
    ? { _tag: "Late" }
    : { _tag: "SleepThenAsk", millis: wait }
