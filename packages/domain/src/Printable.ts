/**
 * Terminal-safe text: whatever a server or a caller wrote, shown so that
 * printing it cannot act on the terminal or log that prints it.
 *
 * @since 0.1.0
 */

// Every code point that prints nothing or acts on what prints it: controls
// (C0, DEL, C1: ESC starts a terminal sequence, BEL rings), format characters
// (the bidi overrides and isolates U+202A–U+202E and U+2066–U+2069 reorder a
// line, zero-width and tag characters hide text), lone surrogates, private-use
// and unassigned code points, and the line and paragraph separators.
const unprintable = /[\p{C}\p{Zl}\p{Zp}]/gu

const escape = (c: string): string => {
  let out = ""
  for (let i = 0; i < c.length; i++) out += `\\u${c.charCodeAt(i).toString(16).padStart(4, "0")}`
  return out
}

/**
 * `text` with every unprintable code point written as `\uXXXX` escapes (one
 * per UTF-16 unit, so that a JSON or JavaScript reader reads the same text
 * back): safe to print on a terminal or in a log line, whoever wrote it.
 * Printable text, non-ASCII letters included, is left as it is.
 *
 * @since 0.1.0
 */
export const printable = (text: string): string => text.replace(unprintable, escape)
