/**
 * What an answer that is not a success means, as data: the shell turns each
 * kind into its error class. Also what a foreign body may show of itself in
 * such an error (scrubbed text, or what it is when it is not text).
 *
 * @since 0.1.0
 */
import * as RequestId from "./RequestId.js"
import * as RetryAfter from "./RetryAfter.js"
import { maxScanned, type Scrubber } from "./Scrub.js"

/**
 * sFOX locks a client out for 60 s when it crosses the rate limit; it sends
 * no `Retry-After`. In milliseconds.
 *
 * @since 0.1.0
 */
export const documentedLockoutMillis = 60_000

/**
 * What is needed of an answer to judge it; no request.
 *
 * @since 0.1.0
 */
export interface Answer {
  readonly status: number
  /** Read only when the answer becomes an error (its `Retry-After`, its request id). */
  readonly headers: Readonly<Record<string, string | undefined>>
  readonly body: string
  /** When the answer arrived (epoch millis, the service's clock): an expiry is judged against it. */
  readonly receivedAt: number
}

/**
 * A refusal, as data (waits in milliseconds; absent fields are absent).
 *
 * @since 0.1.0
 */
export type Failure =
  | {
    readonly _tag: "HttpFailure"
    readonly status: number
    readonly description: string
    readonly retryAfterMillis?: number
    readonly requestId?: string
  }
  | {
    readonly _tag: "Unauthorized"
    readonly status: number
    readonly description: string
    readonly requestId?: string
    readonly origin?: string
  }
  | {
    readonly _tag: "RateLimited"
    readonly retryAfterMillis: number
    readonly description: string
    readonly requestId?: string
  }

// A body that is not text (a compressed body nobody asked for, an image)
// decodes to NULs, controls and replacement characters: it is described,
// not quoted. One stray character in a page of text is still text.
const isNotText = (body: string): boolean => {
  const end = Math.min(body.length, maxScanned)
  let odd = 0
  for (let i = 0; i < end; i++) {
    const c = body.charCodeAt(i)
    if (c === 0) return true
    if ((c < 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) || c === 0xfffd) odd++
  }
  return odd * 16 > end
}

const plainEncoding = /^[A-Za-z0-9._, -]{1,40}$/

/**
 * An excerpt of a body that is not the JSON expected: scrubbed text, or what
 * it is when it is not text.
 *
 * @since 0.1.0
 */
export const excerpt = (answer: Pick<Answer, "headers" | "body">, scrubber: Scrubber): string => {
  if (!isNotText(answer.body)) return scrubber.scrub(answer.body)
  const encoding = answer.headers["content-encoding"]
  const encoded = encoding !== undefined && plainEncoding.test(encoding) ? `, content-encoding ${encoding}` : ""
  return `a body that is not text (${answer.body.length} characters${encoded})`
}

/**
 * What an error body says: its JSON `error` or `message`, else an excerpt.
 *
 * @since 0.1.0
 */
export const errorText = (answer: Pick<Answer, "headers" | "body">, scrubber: Scrubber): string => {
  const { body } = answer
  if (body.length === 0) return "empty body"
  try {
    const parsed: unknown = JSON.parse(body)
    if (typeof parsed === "object" && parsed !== null) {
      const error = (parsed as { error?: unknown }).error
      if (typeof error === "string" && error.length > 0) return scrubber.scrub(error)
      const message = (parsed as { message?: unknown }).message
      if (typeof message === "string" && message.length > 0) return scrubber.scrub(message)
    }
  } catch {
    // not JSON: an excerpt of whatever it is (an HTML error page, say)
  }
  return excerpt(answer, scrubber)
}

/**
 * Status to failure, for every non-2xx answer; `origin` is where the key
 * went (an `Unauthorized` names it). A redirect is never followed with the
 * key; its body is not read.
 *
 * @since 0.1.0
 */
export const failureOf = (answer: Answer, nowMillis: number, scrubber: Scrubber, origin?: string): Failure => {
  const { status } = answer
  const id = RequestId.of(answer.headers, scrubber)
  const requestId = id === undefined ? {} : { requestId: id }
  if (status >= 300 && status < 400) {
    return {
      _tag: "HttpFailure",
      status,
      description: "redirect refused: the enterprise key is sent to baseUrl only",
      ...requestId
    }
  }
  const description = errorText(answer, scrubber)
  if (status === 401 || status === 403) {
    return { _tag: "Unauthorized", status, description, ...requestId, ...(origin === undefined ? {} : { origin }) }
  }
  const hint = RetryAfter.parse(answer.headers["retry-after"], nowMillis)
  if (status === 429) {
    return { _tag: "RateLimited", retryAfterMillis: hint ?? documentedLockoutMillis, description, ...requestId }
  }
  return hint === undefined
    ? { _tag: "HttpFailure", status, description, ...requestId }
    : { _tag: "HttpFailure", status, description, retryAfterMillis: hint, ...requestId }
}
