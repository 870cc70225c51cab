/**
 * The id a server gave its answer, read from the headers that commonly carry
 * one, and shown only when it is safe to show.
 *
 * @since 0.1.0
 */
import type { Scrubber } from "./Scrub.js"

/**
 * Headers that carry a request's id, most specific first. sFOX documents
 * none, so the common names are read: its own gateway's, a load balancer's
 * or a CDN's, whichever came.
 *
 * @since 0.1.0
 */
export const headers = [
  "x-request-id",
  "x-sfox-request-id",
  "request-id",
  "x-correlation-id",
  "correlation-id",
  "x-amzn-requestid",
  "x-amz-request-id",
  "cf-ray"
] as const

// An id is short and plain; anything else (a page of text, control
// characters, a value holding a secret the server echoed) is not shown.
const plainId = /^[A-Za-z0-9._:/+=-]{1,128}$/
// Request ids are short or cut into groups (a UUID's longest run is 12); a
// long unbroken run is what tokens and keys look like (sFOX's tokens are 64
// hex digits), and a server echoing one there must not put it in an error.
const credentialLike = /[A-Za-z0-9]{40}/

/**
 * The answer's request id, when it gave one that is safe to show: the first
 * of `headers` present decides.
 *
 * @since 0.1.0
 */
export const of = (
  answerHeaders: Readonly<Record<string, string | undefined>>,
  scrubber: Scrubber
): string | undefined => {
  for (const name of headers) {
    const value = answerHeaders[name]
    if (value === undefined) continue
    if (!plainId.test(value) || credentialLike.test(value) || scrubber.reveals(value)) return undefined
    return value
  }
  return undefined
}
