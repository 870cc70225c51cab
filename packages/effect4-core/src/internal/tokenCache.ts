import { TokenCachePolicy as Policy } from "@sfox-effect/domain"
import type { UserAuthToken } from "../UserAuthToken.js"

/** sFOX's documented token lifetime: no token is served longer than this after it was minted. */
export const documentedLifetimeMillis = Policy.documentedLifetimeMillis

/**
 * A bounded in-memory LRU of tokens (never written anywhere else), kept by
 * `@sfox-effect/domain`'s `TokenCachePolicy` (read it for how long a token
 * is served). The token itself keeps the `expires` sFOX sent.
 */
export interface TokenCache {
  readonly get: (userId: string, nowMillis: number) => UserAuthToken | undefined
  /** `askedAt`: when the request that minted it was asked for, no later than sFOX minted it. */
  readonly set: (token: UserAuthToken, askedAt: number) => void
  readonly invalidate: (userId: string) => void
}

// Lookups call the policy's `lookup`/`store` (its `Lookup`/`Store`
// transitions) directly: `get` pays no event object per call.
export const make = (capacity: number, refreshBeforeMillis: number): TokenCache => {
  const state = Policy.initial<UserAuthToken>(capacity, refreshBeforeMillis)
  return {
    get: (userId, nowMillis) => Policy.lookup(state, userId, nowMillis),
    set: (token, askedAt) => {
      Policy.store(state, token.userId, token, token.expires.epochMilliseconds, askedAt)
    },
    invalidate: (userId) => {
      Policy.step(state, { _tag: "Invalidate", key: userId }, 0)
    }
  }
}
