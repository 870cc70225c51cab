import { TokenCachePolicy as Policy } from "@sfox-effect/domain"
import type { UserAuthToken } from "../UserAuthToken.js"

/** sFOX's documented token lifetime: no token is served longer than this after it was minted. */
export const documentedLifetimeMillis = Policy.documentedLifetimeMillis

/**
 * A bounded in-memory LRU of tokens, kept by `@sfox-effect/domain`'s
 * `TokenCachePolicy` (read it for how long a token is served).
 */
export type TokenCache = Policy.Cache<UserAuthToken>

export const make = (capacity: number, refreshBeforeMillis: number): TokenCache =>
  Policy.cache<UserAuthToken>(capacity, refreshBeforeMillis)
