/**
 * Scrubbing: text from an untrusted answer made safe to put in an error
 * (secrets blanked, length capped, unprintable characters escaped).
 *
 * @since 0.1.0
 */
import { printable } from "./Printable.js"

/**
 * Longest excerpt of a foreign body that an error message may carry (escapes included).
 *
 * @since 0.1.0
 */
export const maxExcerpt = 200

// Values of keys that name secrets, in JSON or form-like text.
const secretField =
  /("?(?:token|access_token|api_?key|secret|password|authorization)"?\s*[:=]\s*)("(?:[^"\\]|\\.)*"|[^\s,;&}]+)/gi
// sFOX tokens are 64 hex characters; keys and other bearer secrets are long
// unbroken runs. UUID-style ids (with dashes) stay readable.
const secretLike = /\b[A-Fa-f0-9]{32,}\b|[A-Za-z0-9+/_=]{40,}/g
const bearer = /(bearer\s+)\S+/gi

/**
 * How much of a text is looked at: the excerpt, plus room for what scrubbing
 * removes before it (a secret replaced by `<redacted>`, a run of whitespace
 * collapsed). Past it nothing can reach the excerpt in a useful way, and
 * the work (and the regular expressions' input) stays bounded whatever the
 * size of the body: a 10 MB page costs what 4 KB does.
 */
export const maxScanned = 4096

// Characters of a bearer token (RFC 6750 b64token).
const tokenChar = /[A-Za-z0-9\-._~+/=]/

/**
 * Cuts `text` to `end` characters without leaving a part of a secret at the
 * edge: a part of the key (a prefix of it ends the cut) or of a token-like
 * run (the cut falls inside one) would no longer be recognised by the
 * patterns below, and could reach the excerpt once scrubbing has shortened
 * what comes before it.
 */
const cutAt = (text: string, end: number, secrets: ReadonlyArray<string>): string => {
  let cut = end
  if (tokenChar.test(text[end]!)) {
    while (cut > 0 && tokenChar.test(text[cut - 1]!)) cut--
  }
  for (const secret of secrets) {
    // The longest tail of the cut text that is a prefix of the secret goes.
    for (let start = Math.max(0, cut - secret.length + 1); start < cut; start++) {
      if (text.charCodeAt(start) === secret.charCodeAt(0) && secret.startsWith(text.slice(start, cut))) {
        cut = start
        break
      }
    }
  }
  return text.slice(0, cut)
}

/**
 * Turns text from an untrusted answer into something safe to put in an error:
 * secrets blanked, whitespace collapsed, length capped, and every control,
 * bidi or other unprintable character escaped (see `printable`), so that
 * printing the error on a terminal or in a log cannot act on either.
 *
 * The text is cut to `maxScanned` (plus the longest secret) before it is
 * scrubbed, so that the cost is bounded whatever its size; the cut never
 * leaves a part of a secret at its edge (see `cutAt`).
 *
 * @since 0.1.0
 */
export const scrub = (text: string, secrets: ReadonlyArray<string> = []): string => {
  let longest = 0
  for (const secret of secrets) longest = Math.max(longest, secret.length)
  const window = maxScanned + longest
  let out = text.length > window ? cutAt(text, window, secrets) : text
  for (const secret of secrets) {
    if (secret.length > 0) out = out.split(secret).join("<redacted>")
  }
  out = out
    .replace(secretField, "$1\"<redacted>\"")
    .replace(bearer, "$1<redacted>")
    .replace(secretLike, "<redacted>")
    .replace(/\s+/g, " ")
    .trim()
  // Cutting the scrubbed text is safe: every secret in it was whole when
  // scrubbed. The cut counts what is shown, escapes included, and falls
  // between two characters: never inside an escape or a surrogate pair.
  const shown = printable(out)
  if (shown.length <= maxExcerpt) return shown
  let end = 0
  let length = 0
  for (const c of out) {
    const width = printable(c).length
    if (length + width > maxExcerpt) break
    length += width
    end += c.length
  }
  return `${printable(out.slice(0, end))}…`
}

/**
 * One value that knows the secrets of a service (its key, say): what the
 * shell threads through instead of the list of secrets.
 *
 * @since 0.1.0
 */
export interface Scrubber {
  /** The secrets it blanks. */
  readonly secrets: ReadonlyArray<string>
  /** `text` scrubbed (see `scrub`). */
  readonly scrub: (text: string) => string
  /** Whether `value` holds one of the secrets whole. */
  readonly reveals: (value: string) => boolean
}

/**
 * The scrubber of `secrets`.
 *
 * @since 0.1.0
 */
export const make = (secrets: ReadonlyArray<string> = []): Scrubber => ({
  secrets,
  scrub: (text) => scrub(text, secrets),
  reveals: (value) => secrets.some((secret) => value.includes(secret))
})

/**
 * The scrubber that knows no secret (it still blanks what looks like one).
 *
 * @since 0.1.0
 */
export const none: Scrubber = make([])
