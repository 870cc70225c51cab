/**
 * `Retry-After` (RFC 9110 §10.2.3) read into a wait in milliseconds.
 *
 * @since 0.1.0
 */

// RFC 9110 §10.2.3: `Retry-After = HTTP-date / delay-seconds`, and
// `delay-seconds = 1*DIGIT`. Nothing else counts as a hint: `-5`, `1.5`,
// `+5` or `1, 2` are not "now" (as `Date.parse` would read some of them) but
// no hint at all.
const delaySeconds = /^\d+$/

const months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
const shortDays = "(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)"
const longDays = "(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)"
const month = "(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)"
const time = "(\\d{2}):(\\d{2}):(\\d{2})"
// IMF-fixdate: `Sun, 06 Nov 1994 08:49:37 GMT`
const imfFixdate = new RegExp(`^${shortDays}, (\\d{2}) ${month} (\\d{4}) ${time} GMT$`)
// obsolete RFC 850: `Sunday, 06-Nov-94 08:49:37 GMT`
const rfc850 = new RegExp(`^${longDays}, (\\d{2})-${month}-(\\d{2}) ${time} GMT$`)
// obsolete asctime: `Sun Nov  6 08:49:37 1994`
const asctime = new RegExp(`^${shortDays} ${month} ([ \\d]\\d) ${time} (\\d{4})$`)

const utc = (
  year: number,
  monthName: string,
  day: number,
  hour: number,
  minute: number,
  second: number
): number | undefined => {
  const monthIndex = months.indexOf(monthName)
  if (day < 1 || hour > 23 || minute > 59 || second > 60) return undefined
  const date = new Date(0)
  date.setUTCFullYear(year, monthIndex, day)
  date.setUTCHours(hour, minute, Math.min(second, 59), 0)
  return date.getUTCDate() === day ? date.getTime() : undefined
}

/**
 * The instant an HTTP-date names (any of its three forms), in epoch millis.
 *
 * @since 0.1.0
 */
export const parseHttpDate = (value: string, nowMillis: number): number | undefined => {
  let m = imfFixdate.exec(value)
  if (m !== null) return utc(Number(m[3]), m[2]!, Number(m[1]), Number(m[4]), Number(m[5]), Number(m[6]))
  m = rfc850.exec(value)
  if (m !== null) {
    // RFC 9110: a two-digit year more than 50 years in the future is in the past century.
    const thisYear = new Date(nowMillis).getUTCFullYear()
    let year = Math.floor(thisYear / 100) * 100 + Number(m[3])
    if (year > thisYear + 50) year -= 100
    return utc(year, m[2]!, Number(m[1]), Number(m[4]), Number(m[5]), Number(m[6]))
  }
  m = asctime.exec(value)
  if (m !== null) return utc(Number(m[6]), m[1]!, Number(m[2]!.trim()), Number(m[3]), Number(m[4]), Number(m[5]))
  return undefined
}

/**
 * Reads a `Retry-After` value: delay-seconds (digits only) or an HTTP-date
 * (IMF-fixdate, RFC 850 or asctime), relative to `nowMillis`. A date in the
 * past means "now"; anything else means no hint at all. The wait is in
 * milliseconds.
 *
 * @since 0.1.0
 */
export const parse = (value: string | undefined, nowMillis: number): number | undefined => {
  if (value === undefined) return undefined
  // Field values come without surrounding whitespace (RFC 9110 §5.5); a
  // client that left it is forgiven, nothing more.
  const trimmed = value.trim()
  if (trimmed.length > 64) return undefined
  if (delaySeconds.test(trimmed)) return Number(trimmed) * 1000
  const at = parseHttpDate(trimmed, nowMillis)
  return at === undefined ? undefined : Math.max(0, at - nowMillis)
}
