import type { UserAuthToken } from "../UserAuthToken.js"

/**
 * A bounded in-memory LRU of tokens (never written anywhere else). A token is
 * served only while more than `refreshBeforeMillis` of its life remains.
 */
export interface TokenCache {
  readonly get: (userId: string, nowMillis: number) => UserAuthToken | undefined
  readonly set: (token: UserAuthToken) => void
  readonly invalidate: (userId: string) => void
}

export const make = (capacity: number, refreshBeforeMillis: number): TokenCache => {
  // A Map iterates in insertion order: re-inserting on use makes it an LRU.
  const entries = new Map<string, UserAuthToken>()
  return {
    get: (userId, nowMillis) => {
      const token = entries.get(userId)
      if (token === undefined) return undefined
      entries.delete(userId)
      if (token.expires.epochMillis - refreshBeforeMillis <= nowMillis) return undefined
      entries.set(userId, token)
      return token
    },
    set: (token) => {
      entries.delete(token.userId)
      entries.set(token.userId, token)
      if (entries.size > capacity) entries.delete(entries.keys().next().value!)
    },
    invalidate: (userId) => {
      entries.delete(userId)
    }
  }
}
