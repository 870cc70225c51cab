/**
 * The token cache's policy as a pure transition function:
 * `step(state, event, now) → { state, commands }`.
 *
 * A bounded LRU of tokens. A token is served only while more than
 * `refreshBeforeMillis` of its life remains, its life ending at its
 * `expires` or `documentedLifetimeMillis` after it was asked for, whichever
 * is first: an `expires` far in the future (a broken or hostile answer, year
 * 9999) is not trusted for ever. Past `capacity` the least recently used
 * token goes. The state is the policy's own: a transition updates it in
 * place.
 *
 * @since 0.1.0
 */

/**
 * sFOX's documented token lifetime: no token is served longer than this after it was minted.
 *
 * @since 0.1.0
 */
export const documentedLifetimeMillis = 24 * 60 * 60 * 1000

/**
 * Until when a token is served: `min(expires, askedAt + 24 h) - refreshBefore`.
 *
 * @since 0.1.0
 */
export const servedUntil = (expiresMillis: number, askedAt: number, refreshBeforeMillis: number): number =>
  Math.min(expiresMillis, askedAt + documentedLifetimeMillis) - refreshBeforeMillis

/**
 * One cached value, served while the clock is before `until`.
 *
 * @since 0.1.0
 */
export interface Entry<T> {
  readonly value: T
  readonly until: number
}

/**
 * The cache's state: its entries, least recently used first.
 *
 * @since 0.1.0
 */
export interface State<T> {
  readonly capacity: number
  readonly refreshBeforeMillis: number
  readonly entries: Map<string, Entry<T>>
}

/**
 * `Lookup`: a caller wants `key`'s token. `Store`: a token was minted;
 * `askedAt` is when its request was asked for, no later than sFOX minted it.
 * `Invalidate`: forget `key`'s token.
 *
 * @since 0.1.0
 */
export type Event<T> =
  | { readonly _tag: "Lookup"; readonly key: string }
  | {
    readonly _tag: "Store"
    readonly key: string
    readonly value: T
    readonly expiresMillis: number
    readonly askedAt: number
  }
  | { readonly _tag: "Invalidate"; readonly key: string }

/**
 * `Serve`: the cached token answers the lookup. `Mint`: none does; mint one.
 * `Evicted`: the least recently used token went to make room.
 *
 * @since 0.1.0
 */
export type Command<T> =
  | { readonly _tag: "Serve"; readonly value: T }
  | { readonly _tag: "Mint" }
  | { readonly _tag: "Evicted"; readonly key: string }

/**
 * A transition's result.
 *
 * @since 0.1.0
 */
export interface Step<T> {
  readonly state: State<T>
  readonly commands: ReadonlyArray<Command<T>>
}

/**
 * An empty cache.
 *
 * @since 0.1.0
 */
export const initial = <T>(capacity: number, refreshBeforeMillis: number): State<T> => ({
  capacity,
  refreshBeforeMillis,
  entries: new Map()
})

/**
 * The transition function.
 *
 * @since 0.1.0
 */
export const step = <T>(state: State<T>, event: Event<T>, now: number): Step<T> => {
  switch (event._tag) {
    case "Lookup": {
      const value = lookup(state, event.key, now)
      return { state, commands: [value === undefined ? mint : { _tag: "Serve", value }] }
    }
    case "Store": {
      const evicted = store(state, event.key, event.value, event.expiresMillis, event.askedAt)
      return { state, commands: evicted === undefined ? [] : [{ _tag: "Evicted", key: evicted }] }
    }
    case "Invalidate":
      state.entries.delete(event.key)
      return { state, commands: [] }
  }
}

const mint: Command<never> = { _tag: "Mint" }

/**
 * `Lookup` without the allocation of an event: the value served, if any.
 * A lookup makes the entry the most recently used; an entry past its time
 * goes.
 *
 * @since 0.1.0
 */
export const lookup = <T>(state: State<T>, key: string, now: number): T | undefined => {
  const entry = state.entries.get(key)
  if (entry === undefined) return undefined
  // A Map iterates in insertion order: re-inserting on use makes it an LRU.
  state.entries.delete(key)
  if (entry.until <= now) return undefined
  state.entries.set(key, entry)
  return entry.value
}

/**
 * `Store` without the allocation of an event: the key evicted, if any.
 *
 * @since 0.1.0
 */
export const store = <T>(
  state: State<T>,
  key: string,
  value: T,
  expiresMillis: number,
  askedAt: number
): string | undefined => {
  state.entries.delete(key)
  state.entries.set(key, { value, until: servedUntil(expiresMillis, askedAt, state.refreshBeforeMillis) })
  if (state.entries.size <= state.capacity) return undefined
  const oldest = state.entries.keys().next().value!
  state.entries.delete(oldest)
  return oldest
}

/**
 * A minted token as the cache keeps it: whose it is and when it expires.
 *
 * @since 0.3.0
 */
export interface Token {
  readonly userId: string
  readonly expiresAtMillis: number
}

/**
 * A bounded in-memory LRU of tokens (never written anywhere else) under
 * this policy. The token itself keeps the `expires` sFOX sent.
 *
 * @since 0.3.0
 */
export interface Cache<T extends Token> {
  readonly get: (userId: string, nowMillis: number) => T | undefined
  /** `askedAt`: when the request that minted it was asked for, no later than sFOX minted it. */
  readonly set: (token: T, askedAt: number) => void
  readonly invalidate: (userId: string) => void
}

/**
 * A cache of `capacity` tokens, each served until `refreshBeforeMillis`
 * before its life ends. `get` and `set` call `lookup` and `store` directly
 * (the `Lookup` and `Store` transitions): no event object per call.
 *
 * @since 0.3.0
 */
export const cache = <T extends Token>(capacity: number, refreshBeforeMillis: number): Cache<T> => {
  const state = initial<T>(capacity, refreshBeforeMillis)
  return {
    get: (userId, nowMillis) => lookup(state, userId, nowMillis),
    set: (token, askedAt) => {
      store(state, token.userId, token, token.expiresAtMillis, askedAt)
    },
    invalidate: (userId) => {
      step(state, { _tag: "Invalidate", key: userId }, 0)
    }
  }
}
