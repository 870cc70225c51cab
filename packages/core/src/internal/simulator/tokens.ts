/** Token material the simulator hands out, in the seeds' wire shape. */
export interface WireToken {
  token: string
  expires: string
  partner_user_id: string
}

const hex = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"))

/** `count` random 64-hex-character tokens, from one draw of random bytes. */
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

export const randomToken = (): string => randomTokens(1)[0]!

// The seeds show both forms: milliseconds on the single answer, none on the batch.
export const isoMillis = (millis: number): string => new Date(millis).toISOString()
export const isoSeconds = (millis: number): string => new Date(millis).toISOString().replace(/\.\d{3}Z$/, "Z")

export const shuffleInPlace = <A>(items: Array<A>): Array<A> => {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1))
    const t = items[i]!
    items[i] = items[j]!
    items[j] = t
  }
  return items
}
