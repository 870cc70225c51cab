/**
 * The tokens the simulated sFOX has handed out and still honours: what its
 * user endpoints accept as `Authorization: Bearer <token>`. A token stops
 * counting when it expires or is revoked.
 *
 * @since 0.1.0
 */

/**
 * The live tokens of one simulation.
 *
 * @since 0.1.0
 */
export interface LiveTokens {
  readonly issue: (token: string, userId: string, expiresAt: number) => void
  /** The user a token acts for, when it is live at `now`. */
  readonly ownerOf: (token: string, now: number) => string | undefined
  /** Revokes the tokens of `userId`, or every token; how many were live. */
  readonly revoke: (userId: string | undefined, now: number) => number
  readonly clear: () => void
}

/**
 * Live tokens, kept only when `remember` (a load run that mints millions turns it off).
 *
 * @since 0.1.0
 */
export const make = (remember: boolean): LiveTokens => {
  const tokens = new Map<string, { readonly userId: string; readonly expiresAt: number }>()
  return {
    issue: (token, userId, expiresAt) => {
      if (remember) tokens.set(token, { userId, expiresAt })
    },
    ownerOf: (token, now) => {
      const live = tokens.get(token)
      if (live === undefined) return undefined
      if (live.expiresAt <= now) {
        tokens.delete(token)
        return undefined
      }
      return live.userId
    },
    revoke: (userId, now) => {
      let revoked = 0
      for (const [token, live] of tokens) {
        if (userId !== undefined && live.userId !== userId) continue
        if (live.expiresAt > now) revoked++
        tokens.delete(token)
      }
      return revoked
    },
    clear: () => tokens.clear()
  }
}
