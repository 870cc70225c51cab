/** Longest excerpt of a foreign body that an error message may carry. */
export const maxExcerpt = 200

// Values of keys that name secrets, in JSON or form-like text.
const secretField =
  /("?(?:token|access_token|api_?key|secret|password|authorization)"?\s*[:=]\s*)("(?:[^"\\]|\\.)*"|[^\s,;&}]+)/gi
// sFOX tokens are 64 hex characters; keys and other bearer secrets are long
// unbroken runs. UUID-style ids (with dashes) stay readable.
const secretLike = /\b[A-Fa-f0-9]{32,}\b|[A-Za-z0-9+/_=]{40,}/g
const bearer = /(bearer\s+)\S+/gi

/**
 * Turns text from an untrusted answer into something safe to put in an error:
 * secrets blanked, whitespace collapsed, length capped.
 */
export const scrub = (text: string, secrets: ReadonlyArray<string> = []): string => {
  let out = text
  for (const secret of secrets) {
    if (secret.length > 0) out = out.split(secret).join("<redacted>")
  }
  out = out
    .replace(secretField, "$1\"<redacted>\"")
    .replace(bearer, "$1<redacted>")
    .replace(secretLike, "<redacted>")
    .replace(/\s+/g, " ")
    .trim()
  return out.length > maxExcerpt ? `${out.slice(0, maxExcerpt)}…` : out
}
