import type { UserAuthToken } from "../UserAuthToken.js"

/** sFOX's documented token lifetime: no token is served longer than this after it was minted. */
export const documentedLifetimeMillis = 24 * 60 * 60 * 1000

/**
 * A bounded in-memory LRU of tokens (never written anywhere else). A token is
 * served only while more than `refreshBeforeMillis` of its life remains, its
 * life ending at its `expires` or `documentedLifetimeMillis` after it was
 * asked for, whichever is first: an `expires` far in the future (a broken or
 * hostile answer, year 9999) is not trusted for ever. The token itself keeps
 * the `expires` sFOX sent.
 */
export interface TokenCache {
  readonly get: (userId: string, nowMillis: number) => UserAuthToken | undefined
  /** `askedAt`: when the request that minted it was asked for, no later than sFOX minted it. */
  readonly set: (token: UserAuthToken, askedAt: number) => void
  readonly invalidate: (userId: string) => void
}

interface Entry {
  readonly token: UserAuthToken
  /** Served while the clock is before this. */
  readonly until: number
}

export const make = (capacity: number, refreshBeforeMillis: number): TokenCache => {
  // A Map iterates in insertion order: re-inserting on use makes it an LRU.
  const entries = new Map<string, Entry>()
  return {
    get: (userId, nowMillis) => {
      const entry = entries.get(userId)
      if (entry === undefined) return undefined
      entries.delete(userId)
      if (entry.until <= nowMillis) return undefined
      entries.set(userId, entry)
      return entry.token
    },
    set: (token, askedAt) => {
      const end = Math.min(token.expires.epochMillis, askedAt + documentedLifetimeMillis)
      entries.delete(token.userId)
      entries.set(token.userId, { token, until: end - refreshBeforeMillis })
      if (entries.size > capacity) entries.delete(entries.keys().next().value!)
    },
    invalidate: (userId) => {
      entries.delete(userId)
    }
  }
}
