/**
 * The token material the simulated sFOX hands out, in the seeds' wire shape,
 * and the ways a test may have it tamper with a batch answer.
 *
 * @since 0.1.0
 */
import type { WireToken } from "./Wire.js"

const hex = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"))

/**
 * `count` random 64-hex-character tokens, from one draw of random bytes.
 *
 * @since 0.1.0
 */
export const randomTokens = (count: number): Array<string> => {
  const bytes = new Uint8Array(32 * count)
  // getRandomValues fills at most 65,536 bytes a call.
  for (let offset = 0; offset < bytes.length; offset += 65_536) {
    globalThis.crypto.getRandomValues(bytes.subarray(offset, Math.min(bytes.length, offset + 65_536)))
  }
  const out: Array<string> = new Array(count)
  for (let t = 0; t < count; t++) {
    let token = ""
    for (let i = t * 32, end = i + 32; i < end; i++) token += hex[bytes[i]!]
    out[t] = token
  }
  return out
}

/**
 * One random token.
 *
 * @since 0.1.0
 */
export const randomToken = (): string => randomTokens(1)[0]!

/**
 * An expiry as the single answer shows it, with milliseconds (the seeds show both forms).
 *
 * @since 0.1.0
 */
export const isoMillis = (millis: number): string => new Date(millis).toISOString()

/**
 * An expiry as the batch answer shows it, without milliseconds.
 *
 * @since 0.1.0
 */
export const isoSeconds = (millis: number): string => new Date(millis).toISOString().replace(/\.\d{3}Z$/, "Z")

/**
 * Shuffles `items` in place (sFOX is free to answer a batch in any order).
 *
 * @since 0.1.0
 */
export const shuffleInPlace = <A>(items: Array<A>): Array<A> => {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1))
    const t = items[i]!
    items[i] = items[j]!
    items[j] = t
  }
  return items
}

/**
 * How a batch answer may be tampered with: a token dropped, one added for a
 * user not asked for, one user twice, the order reversed, one token
 * labelled for another user.
 *
 * @since 0.1.0
 */
export type BatchTamper = "drop" | "add" | "duplicate" | "reorder" | "mislabel"

/**
 * Tampers with a batch answer's tokens.
 *
 * @since 0.1.0
 */
export const tamper = (mode: BatchTamper, data: Array<WireToken>): Array<WireToken> => {
  const first = data[0]!
  switch (mode) {
    case "drop":
      return data.slice(0, -1)
    case "add":
      return [...data, { ...first, token: randomToken(), partner_user_id: `intruder-${randomToken().slice(0, 8)}` }]
    case "duplicate":
      return [...data, { ...first, token: randomToken() }]
    case "reorder":
      return data.length > 1 ? [...data].reverse() : data
    case "mislabel":
      return [{ ...first, partner_user_id: `${first.partner_user_id}-other` }, ...data.slice(1)]
  }
}
