/**
 * sFOX's token answers as they travel: the path of both token endpoints, the
 * checks of the two fields of a minted token that the service hands on
 * without looking at (the token itself and its expiry: both come from the
 * network, so both are refused unless they are exactly what sFOX documents),
 * and the matching of a batch answer's tokens to the users asked for.
 *
 * @since 0.1.0
 */

/**
 * The path of both user-token endpoints: the service calls it, the simulator answers it.
 *
 * @since 0.1.0
 */
export const tokensPath = "/v1/enterprise/user-tokens"

/**
 * Longest token accepted. sFOX's tokens are 64 hex characters; a bearer
 * token of more than 4 KiB would not fit the header limits of common
 * servers anyway.
 *
 * @since 0.1.0
 */
export const maxTokenLength = 4096

// RFC 6750 `b64token`: the only characters a Bearer credential may hold. No
// space, no control character (CR/LF would split the header it is put in,
// ESC would drive a terminal that prints it).
const b64token = /^[A-Za-z0-9\-._~+/]+=*$/

/**
 * Whether `token` can travel as `Authorization: Bearer <token>` unchanged.
 *
 * @since 0.1.0
 */
export const isToken = (token: string): boolean => token.length <= maxTokenLength && b64token.test(token)

/**
 * Why a token is refused: a fixed text, since the value may be a token and
 * is never shown.
 *
 * @since 0.3.0
 */
export const notATokenText = `not a bearer token (RFC 6750 b64token characters, 1 to ${maxTokenLength} of them)`

/**
 * How far behind the answer's moment an expiry may be and still be taken:
 * the two clocks (ours and sFOX's) need not agree to the second. A token
 * that expired more than this before it was received is refused.
 *
 * @since 0.1.0
 */
export const clockSkewMillis = 5 * 60 * 1000

// ISO-8601 in UTC, as the seeds show it: `2024-05-14T19:22:09.901Z`,
// `2022-02-08T03:28:56Z`; `+00:00` is the same instant. Nothing else (no
// other offset, no date without a time, no `Date.parse` guesswork): that is
// `^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|\+00:00)$`, read here
// character by character rather than by a regular expression, since a
// batch answer has one per token (packages/domain/test/Wire.test.ts holds the
// expression as the reference it is checked against).

/** The number the ASCII digits of `text` from `from` to `to` write, or -1 if any is not one. */
const digits = (text: string, from: number, to: number): number => {
  let n = 0
  for (let i = from; i < to; i++) {
    const d = text.charCodeAt(i) - 48
    if (d < 0 || d > 9) return -1
    n = n * 10 + d
  }
  return n
}

// The last value read, and what it named: the tokens of one batch answer
// were minted together, and their `expires` are, as a rule, the same text.
let lastText = ""
let lastMillis: number | undefined = undefined

/**
 * Why an `expires` value is refused.
 *
 * @since 0.3.0
 */
export const notADateText = "not an ISO-8601 UTC date-time"

/**
 * The instant an `expires` value names, in epoch milliseconds, or `undefined` when it is not ISO-8601 UTC.
 *
 * @since 0.1.0
 */
export const parseExpires = (expires: string): number | undefined => {
  if (expires === lastText) return lastMillis
  const millis = read(expires)
  lastText = expires
  lastMillis = millis
  return millis
}

const read = (expires: string): number | undefined => {
  const length = expires.length
  if (length < 20 || length > 40) return undefined
  if (
    expires.charCodeAt(4) !== 45 /* - */ || expires.charCodeAt(7) !== 45 || expires.charCodeAt(10) !== 84 /* T */ ||
    expires.charCodeAt(13) !== 58 /* : */ || expires.charCodeAt(16) !== 58
  ) return undefined
  const year = digits(expires, 0, 4)
  const month = digits(expires, 5, 7)
  const day = digits(expires, 8, 10)
  const hour = digits(expires, 11, 13)
  const minute = digits(expires, 14, 16)
  const second = digits(expires, 17, 19)
  if (year < 0 || month < 0 || day < 0 || hour < 0 || minute < 0 || second < 0) return undefined
  let end = 19
  let millis = 0
  if (expires.charCodeAt(19) === 46 /* . */) {
    while (end + 1 < length && digits(expires, end + 1, end + 2) >= 0) end++
    const fraction = end - 19
    if (fraction < 1 || fraction > 9) return undefined
    // Milliseconds: the first three digits of the fraction, padded with zeros.
    millis = digits(expires, 20, 20 + Math.min(fraction, 3)) * (fraction === 1 ? 100 : fraction === 2 ? 10 : 1)
    end++
  }
  const zone = length - end
  if (
    !(zone === 1 && expires.charCodeAt(end) === 90 /* Z */) &&
    !(zone === 6 && expires.endsWith("+00:00"))
  ) return undefined
  if (month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || second > 59) return undefined
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

/**
 * A token as sFOX sends it: `{ token, expires, partner_user_id }`.
 *
 * @since 0.1.0
 */
export interface WireToken {
  token: string
  expires: string
  partner_user_id: string
}

/**
 * Reads one element of an answer's `data` as a token, without a schema: a
 * bearer token, a non-empty `partner_user_id`, an ISO-8601 UTC `expires`.
 * `make` builds the shell's value from the three (no object in between: a
 * batch answer has thousands); `undefined` when anything is off, and the
 * shell's schema then says what.
 *
 * @since 0.1.0
 */
export const readToken = <A>(
  u: unknown,
  make: (token: string, userId: string, expiresAtMillis: number) => A
): A | undefined => {
  if (typeof u !== "object" || u === null) return undefined
  const { expires, partner_user_id, token } = u as Record<string, unknown>
  if (typeof token !== "string" || !isToken(token)) return undefined
  if (typeof partner_user_id !== "string" || partner_user_id.length === 0) return undefined
  if (typeof expires !== "string") return undefined
  const at = parseExpires(expires)
  return at === undefined ? undefined : make(token, partner_user_id, at)
}

/**
 * `readToken` over a batch answer's `data`: every element read, or
 * `undefined` when `data` is not an array or any element is off (the
 * shell's schema then says what).
 *
 * @since 0.3.0
 */
export const readTokens = <A>(
  data: unknown,
  make: (token: string, userId: string, expiresAtMillis: number) => A
): Array<A> | undefined => {
  if (!Array.isArray(data)) return undefined
  const tokens: Array<A> = new Array(data.length)
  for (let i = 0; i < data.length; i++) {
    const token = readToken(data[i], make)
    if (token === undefined) return undefined
    tokens[i] = token
  }
  return tokens
}

/**
 * The `data` field of a JSON answer, if it is an object.
 *
 * @since 0.1.0
 */
export const dataOf = (json: unknown): unknown =>
  typeof json === "object" && json !== null ? (json as { data?: unknown }).data : undefined

/**
 * A minted token as the checks below need it.
 *
 * @since 0.1.0
 */
export interface Minted {
  readonly userId: string
  readonly expiresAtMillis: number
}

/**
 * Why a token that expired on arrival is refused.
 *
 * @since 0.1.0
 */
export const expiredText = "token already expired when the answer arrived (expires is before the answer's time, " +
  "beyond the allowed clock skew)"

/**
 * Whether a token had expired, beyond the clock skew, when its answer arrived at `receivedAt`.
 *
 * @since 0.1.0
 */
export const expired = (token: Minted, receivedAt: number): boolean =>
  token.expiresAtMillis <= receivedAt - clockSkewMillis

/**
 * What is wrong with the token of a single answer for `userId`, or `undefined`.
 *
 * @since 0.1.0
 */
export const checkSingle = (token: Minted, userId: string, receivedAt: number): string | undefined =>
  token.userId !== userId
    ? "token issued for a different user than requested"
    : expired(token, receivedAt)
    ? expiredText
    : undefined

/**
 * Matches every token of a batch answer to its user by `partner_user_id`:
 * the tokens by user, or what is wrong. Any user missing, added or repeated
 * fails the whole answer: a token is never handed to the wrong user.
 *
 * @since 0.1.0
 */
export const matchBatch = <A extends Minted>(
  tokens: ReadonlyArray<A>,
  userIds: ReadonlyArray<string>,
  receivedAt: number
): ReadonlyMap<string, A> | string => {
  const requested = new Set(userIds)
  const byUser = new Map<string, A>()
  for (const token of tokens) {
    if (!requested.has(token.userId)) return "answer holds a token for a user that was not requested"
    if (byUser.has(token.userId)) return "answer holds two tokens for one user"
    if (expired(token, receivedAt)) return expiredText
    byUser.set(token.userId, token)
  }
  if (byUser.size !== requested.size) {
    return `answer misses ${requested.size - byUser.size} of ${requested.size} requested users`
  }
  return byUser
}
