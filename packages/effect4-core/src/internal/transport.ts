import type * as HttpClientError from "effect/http/HttpClientError"
import { TransportCode } from "@sfox-effect/domain"
import { TransportError } from "../SfoxError.js"

/** The first `code` along an error's `cause` chain (kept here for the tests that read it from core). */
export const codeOf = TransportCode.codeOf

// Only the innermost error travels on as `cause`: the platform error holds the
// request, whose headers carry the API key in plain text.
const rootCause = (error: HttpClientError.HttpClientError): unknown => error.cause

/** Maps a platform client error (no status involved) to a `TransportError`. */
export const fromHttpClientError = (error: HttpClientError.HttpClientError): TransportError => {
  const cause = rootCause(error)
  const code = codeOf(cause)
  const known = TransportCode.reasonOf(code)
  const detail = code === undefined ? "" : ` (${code})`
  if (error._tag === "RequestError") {
    const reason = error.reason === "Transport" ? known ?? "Other" : "Request"
    return new TransportError({
      reason,
      description: `${error.reason === "Transport" ? "request failed" : `request not sent: ${error.reason}`}${detail}`,
      cause
    })
  }
  // A ResponseError here means the body could not be read to its end.
  return new TransportError({
    reason: known ?? "Reset",
    description: known === "TooLarge"
      ? `answer ${error.response.status} is larger than accepted${detail}`
      : `answer ${error.response.status} cut short while reading the body${detail}`,
    cause
  })
}

/** The error for an attempt that ran past its time. */
export const timeout = (what: string, millis: number) =>
  new TransportError({ reason: "Timeout", description: `${what} took longer than ${millis} ms` })
