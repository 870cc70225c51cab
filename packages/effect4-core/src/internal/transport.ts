import { TransportCode } from "@sfox-effect/domain"
import type * as HttpClientError from "effect/http/HttpClientError"
import { TransportError } from "../SfoxError.js"

/** The first `code` along an error's `cause` chain (kept here for the tests that read it from core). */
export const codeOf = TransportCode.codeOf

/** The 3.x names of the reasons a request was not sent: the words of the description stay the same. */
const notSent = {
  EncodeError: "Encode",
  InvalidUrlError: "InvalidUrl"
} as const

/**
 * Maps a platform client error (no status involved) to a `TransportError`.
 *
 * Only the innermost error travels on as `cause`: the platform error's
 * reason holds the request, whose headers carry the API key in plain text.
 */
export const fromHttpClientError = (error: HttpClientError.HttpClientError): TransportError => {
  const reason = error.reason
  const cause = reason.cause
  const code = codeOf(cause)
  const known = TransportCode.reasonOf(code)
  const detail = code === undefined ? "" : ` (${code})`
  switch (reason._tag) {
    case "TransportError":
      return new TransportError({ reason: known ?? "Other", description: `request failed${detail}`, cause })
    case "EncodeError":
    case "InvalidUrlError":
      return new TransportError({
        reason: "Request",
        description: `request not sent: ${notSent[reason._tag]}${detail}`,
        cause
      })
    // A response error here means the body could not be read to its end.
    case "DecodeError":
    case "EmptyBodyError":
    case "StatusCodeError":
      return new TransportError({
        reason: known ?? "Reset",
        description: known === "TooLarge"
          ? `answer ${reason.response.status} is larger than accepted${detail}`
          : `answer ${reason.response.status} cut short while reading the body${detail}`,
        cause
      })
  }
}

/** The error for an attempt that ran past its time. */
export const timeout = (what: string, millis: number) =>
  new TransportError({ reason: "Timeout", description: `${what} took longer than ${millis} ms` })
