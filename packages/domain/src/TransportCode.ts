/**
 * What a transport error's `code` (Node's, undici's, OpenSSL's, ours) says
 * happened: whether the request can have reached the server, and whether
 * sending it again can help.
 *
 * @since 0.1.0
 */

/**
 * The kinds of transport failure.
 *
 * @since 0.1.0
 */
export type Reason = "Connect" | "Tls" | "Reset" | "Timeout" | "TooLarge" | "Request" | "Other"

const connectCodes = new Set([
  "ECONNREFUSED",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "EADDRNOTAVAIL",
  "UND_ERR_CONNECT_TIMEOUT",
  // @sfox-effect/node: the proxy closed the connection before the CONNECT
  // tunnel was open, so nothing reached the origin.
  "SFOX_PROXY_TUNNEL_CLOSED"
])
// The client refused the server's certificate (OpenSSL's verify codes as Node
// reports them, and Node's own host-name check). The same certificate would
// be refused again, so these are not retried; the request was never written.
const tlsCodes = new Set([
  "CERT_HAS_EXPIRED",
  "CERT_NOT_YET_VALID",
  "CERT_REVOKED",
  "CERT_UNTRUSTED",
  "CERT_REJECTED",
  "CERT_SIGNATURE_FAILURE",
  "CERT_CHAIN_TOO_LONG",
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "SELF_SIGNED_CERT_IN_CHAIN",
  "UNABLE_TO_GET_ISSUER_CERT",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "UNABLE_TO_DECRYPT_CERT_SIGNATURE",
  "UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY",
  "INVALID_CA",
  "INVALID_PURPOSE",
  "PATH_LENGTH_EXCEEDED",
  "HOSTNAME_MISMATCH",
  "ERR_TLS_CERT_ALTNAME_INVALID",
  "ERR_TLS_CERT_ALTNAME_FORMAT"
])
const resetCodes = new Set([
  "ECONNRESET",
  "EPIPE",
  "ECONNABORTED",
  "UND_ERR_SOCKET",
  "UND_ERR_CLOSED",
  "UND_ERR_RES_CONTENT_LENGTH_MISMATCH",
  "UND_ERR_REQ_CONTENT_LENGTH_MISMATCH",
  "ERR_STREAM_PREMATURE_CLOSE",
  "UND_ERR_ABORTED"
])
const timeoutCodes = new Set(["ETIMEDOUT", "UND_ERR_HEADERS_TIMEOUT", "UND_ERR_BODY_TIMEOUT"])
// A body over the client's limit, or headers over undici's (16 KiB by
// default): the same answer would come again, as big, so neither is retried.
const tooLargeCodes = new Set(["UND_ERR_RES_EXCEEDED_MAX_SIZE", "SFOX_RESPONSE_TOO_LARGE", "UND_ERR_HEADERS_OVERFLOW"])
// undici's own argument checks: the request itself is wrong, so sending it
// again cannot help (a pitfall of HttpClient.retryTransient).
const requestCodes = new Set([
  "UND_ERR_INVALID_ARG",
  "UND_ERR_NOT_SUPPORTED",
  "ERR_INVALID_ARG_TYPE",
  "ERR_INVALID_URL",
  // The service's own guard: a request that would take the key to another origin.
  "SFOX_FOREIGN_ORIGIN"
])

/**
 * The first `code` along an error's `cause` chain (undici and Node put it at different depths).
 *
 * @since 0.1.0
 */
export const codeOf = (error: unknown): string | undefined => {
  let current: unknown = error
  for (let depth = 0; depth < 5 && typeof current === "object" && current !== null; depth++) {
    const code = (current as { code?: unknown }).code
    if (typeof code === "string") return code
    current = (current as { cause?: unknown }).cause
  }
  return undefined
}

/**
 * The reason a known code names, or `undefined` for a code (or none) not in the tables.
 *
 * @since 0.1.0
 */
export const reasonOf = (code: string | undefined): Exclude<Reason, "Other"> | undefined => {
  if (code === undefined) return undefined
  if (connectCodes.has(code)) return "Connect"
  if (tlsCodes.has(code)) return "Tls"
  if (resetCodes.has(code)) return "Reset"
  if (timeoutCodes.has(code)) return "Timeout"
  if (tooLargeCodes.has(code)) return "TooLarge"
  if (requestCodes.has(code)) return "Request"
  return undefined
}
