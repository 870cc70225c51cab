/**
 * Checks of the two fields of a minted token that the service hands on
 * without looking at: the token itself and its expiry. Both come from the
 * network, so both are refused unless they are exactly what sFOX documents.
 */

/**
 * Longest token accepted. sFOX's tokens are 64 hex characters; a bearer
 * token of more than 4 KiB would not fit the header limits of common
 * servers anyway.
 */
export const maxTokenLength = 4096

// RFC 6750 `b64token`: the only characters a Bearer credential may hold. No
// space, no control character (CR/LF would split the header it is put in,
// ESC would drive a terminal that prints it).
const b64token = /^[A-Za-z0-9\-._~+/]+=*$/

/** Whether `token` can travel as `Authorization: Bearer <token>` unchanged. */
export const isToken = (token: string): boolean => token.length <= maxTokenLength && b64token.test(token)

/**
 * How far behind the answer's moment an expiry may be and still be taken:
 * the two clocks (ours and sFOX's) need not agree to the second. A token
 * that expired more than this before it was received is refused.
 */
export const clockSkewMillis = 5 * 60 * 1000

// ISO-8601 in UTC, as the seeds show it: `2024-05-14T19:22:09.901Z`,
// `2022-02-08T03:28:56Z`; `+00:00` is the same instant. Nothing else (no
// other offset, no date without a time, no `Date.parse` guesswork).
const isoUtc = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(?:Z|\+00:00)$/

/** The instant an `expires` value names, in epoch milliseconds, or `undefined` when it is not ISO-8601 UTC. */
export const parseExpires = (expires: string): number | undefined => {
  if (expires.length > 40) return undefined
  const m = isoUtc.exec(expires)
  if (m === null) return undefined
  const year = Number(m[1])
  const month = Number(m[2])
  const day = Number(m[3])
  const hour = Number(m[4])
  const minute = Number(m[5])
  const second = Number(m[6])
  if (month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || second > 59) return undefined
  const millis = m[7] === undefined ? 0 : Number(m[7].slice(0, 3).padEnd(3, "0"))
  // 2024-02-30 would roll over to March: a day the month does not have.
  if (day > daysIn(year, month)) return undefined
  // Date.UTC reads years 0–99 as 1900–1999.
  if (year < 100) {
    const date = new Date(0)
    date.setUTCFullYear(year, month - 1, day)
    date.setUTCHours(hour, minute, second, millis)
    return date.getTime()
  }
  return Date.UTC(year, month - 1, day, hour, minute, second, millis)
}

const monthDays = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]

const daysIn = (year: number, month: number): number =>
  month === 2 && (year % 4 === 0 && year % 100 !== 0 || year % 400 === 0) ? 29 : monthDays[month - 1]!
