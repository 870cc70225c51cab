import * as Duration from "effect/Duration"
import * as Either from "effect/Either"
import type * as ParseResult from "effect/ParseResult"
import * as Schema from "effect/Schema"
import { HttpFailure, MalformedResponse, RateLimited, type RequestFailure, Unauthorized } from "../SfoxError.js"
import { BatchTokenResponse, SingleTokenResponse, type UserAuthToken } from "../UserAuthToken.js"
import { parseRetryAfter } from "./retryAfter.js"
import { maxScanned, scrub } from "./scrub.js"
import { unsafeFromWire } from "./userAuthToken.js"
import { clockSkewMillis, isToken, parseExpires } from "./wire.js"

/** sFOX locks a client out for 60 s when it crosses the rate limit; it sends no `Retry-After`. */
export const documentedLockout = Duration.seconds(60)

/** What is needed of an answer to judge it; no request. */
export interface Answer {
  readonly status: number
  /** Read only when the answer becomes an error (its `Retry-After`, its request id). */
  readonly headers: Readonly<Record<string, string | undefined>>
  readonly body: string
  /** When the answer arrived (epoch millis, the service's clock): an expiry is judged against it. */
  readonly receivedAt: number
}

/**
 * Headers that carry a request's id, most specific first. sFOX documents
 * none, so the common names are read: its own gateway's, a load balancer's
 * or a CDN's, whichever came.
 */
const requestIdHeaders = [
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

/** The answer's request id, when it gave one that is safe to show. */
export const requestIdOf = (
  headers: Readonly<Record<string, string | undefined>>,
  secrets: ReadonlyArray<string>
): string | undefined => {
  for (const name of requestIdHeaders) {
    const value = headers[name]
    if (value === undefined) continue
    if (!plainId.test(value) || credentialLike.test(value) || secrets.some((secret) => value.includes(secret))) {
      return undefined
    }
    return value
  }
  return undefined
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

/** An excerpt of a body that is not the JSON expected: scrubbed text, or what it is when it is not text. */
const excerpt = (answer: Answer, secrets: ReadonlyArray<string>): string => {
  if (!isNotText(answer.body)) return scrub(answer.body, secrets)
  const encoding = answer.headers["content-encoding"]
  const encoded = encoding !== undefined && plainEncoding.test(encoding) ? `, content-encoding ${encoding}` : ""
  return `a body that is not text (${answer.body.length} characters${encoded})`
}

const errorText = (answer: Answer, secrets: ReadonlyArray<string>): string => {
  const { body } = answer
  if (body.length === 0) return "empty body"
  try {
    const parsed: unknown = JSON.parse(body)
    if (typeof parsed === "object" && parsed !== null) {
      const error = (parsed as { error?: unknown }).error
      if (typeof error === "string" && error.length > 0) return scrub(error, secrets)
      const message = (parsed as { message?: unknown }).message
      if (typeof message === "string" && message.length > 0) return scrub(message, secrets)
    }
  } catch {
    // not JSON: an excerpt of whatever it is (an HTML error page, say)
  }
  return excerpt(answer, secrets)
}

/** Status to typed error, for every non-2xx answer; `origin` is where the key went (an `Unauthorized` names it). */
export const failureOf = (
  answer: Answer,
  nowMillis: number,
  secrets: ReadonlyArray<string>,
  origin?: string
): RequestFailure => {
  const { status } = answer
  // A redirect is never followed with the key (see originGuard.ts); its body is not read.
  const id = requestIdOf(answer.headers, secrets)
  const requestId = id === undefined ? {} : { requestId: id }
  if (status >= 300 && status < 400) {
    return new HttpFailure({
      status,
      description: "redirect refused: the enterprise key is sent to baseUrl only",
      ...requestId
    })
  }
  const description = errorText(answer, secrets)
  if (status === 401 || status === 403) {
    return new Unauthorized({ status, description, ...requestId, ...(origin === undefined ? {} : { origin }) })
  }
  const hint = parseRetryAfter(answer.headers["retry-after"], nowMillis)
  if (status === 429) return new RateLimited({ retryAfter: hint ?? documentedLockout, description, ...requestId })
  return new HttpFailure(
    hint === undefined ? { status, description, ...requestId } : { status, description, retryAfter: hint, ...requestId }
  )
}

// Schema issues name the path and the kind of problem, never the value: the
// value may be a token, and formatting it (as ParseResult's formatters do)
// walks it whole, which a deeply nested answer turns into a stack overflow.
// The walk below follows the issue tree only (as deep as the schema, a few
// levels) and reads nothing but paths and tags.
interface Found {
  readonly path: ReadonlyArray<PropertyKey>
  readonly missing: boolean
}

const collectIssues = (root: ParseResult.ParseIssue, limit: number): { found: Array<Found>; total: number } => {
  const found: Array<Found> = []
  let total = 0
  const stack: Array<[ParseResult.ParseIssue, ReadonlyArray<PropertyKey>]> = [[root, []]]
  // Bounded whatever the tree: a batch of 100,000 bad tokens has as many issues.
  for (let steps = 0; stack.length > 0 && steps < 10_000; steps++) {
    const [issue, path] = stack.pop()!
    switch (issue._tag) {
      case "Pointer": {
        const segment = Array.isArray(issue.path) ? issue.path : [issue.path as PropertyKey]
        stack.push([issue.issue, [...path, ...segment]])
        break
      }
      case "Refinement":
      case "Transformation":
        stack.push([issue.issue, path])
        break
      case "Composite": {
        const children = Array.isArray(issue.issues) ? issue.issues : [issue.issues as ParseResult.ParseIssue]
        for (let i = children.length - 1; i >= 0; i--) stack.push([children[i]!, path])
        break
      }
      default:
        total++
        if (found.length < limit) found.push({ path, missing: issue._tag === "Missing" })
    }
  }
  return { found, total }
}

const segmentText = (segment: PropertyKey): string =>
  typeof segment === "number" ? String(segment) : scrub(String(segment).slice(0, 40))

export const describeIssues = (error: ParseResult.ParseError): string => {
  const { found, total } = collectIssues(error.issue, 3)
  const shown = found.map((issue) => {
    const path = issue.path.length === 0 ? "body" : issue.path.map(segmentText).join(".")
    return `${path}: ${issue.missing ? "missing" : "unexpected value"}`
  })
  const more = total > 3 ? ` (+${total - 3} more)` : ""
  return `${shown.join("; ")}${more}`
}

const parseJson = (answer: Answer, secrets: ReadonlyArray<string>): Either.Either<unknown, MalformedResponse> => {
  try {
    return Either.right(JSON.parse(answer.body))
  } catch {
    return Either.left(
      new MalformedResponse({
        status: answer.status,
        description: answer.body.length === 0 ? "empty body" : `not JSON: ${excerpt(answer, secrets)}`
      })
    )
  }
}

const looksLikeError = (json: unknown): string | undefined =>
  typeof json === "object" && json !== null && typeof (json as { error?: unknown }).error === "string"
    ? (json as { error: string }).error
    : undefined

const decodeSingleSchema = Schema.decodeUnknownEither(SingleTokenResponse)
const decodeBatchSchema = Schema.decodeUnknownEither(BatchTokenResponse)

/**
 * The wire schema's decoding, inlined for the answers that pass it: the same
 * checks (a bearer token, a non-empty user id, an ISO-8601 UTC `expires`)
 * without the schema interpreter, about three times faster on large batches.
 * Whatever it does not accept goes through the schema itself, which then
 * describes the problem (or, should the two ever disagree, decides).
 */
const fastToken = (u: unknown): UserAuthToken | undefined => {
  if (typeof u !== "object" || u === null) return undefined
  const { expires, partner_user_id, token } = u as Record<string, unknown>
  if (typeof token !== "string" || !isToken(token)) return undefined
  if (typeof partner_user_id !== "string" || partner_user_id.length === 0) return undefined
  if (typeof expires !== "string") return undefined
  const at = parseExpires(expires)
  return at === undefined ? undefined : unsafeFromWire(token, partner_user_id, at)
}

const dataOf = (json: unknown): unknown =>
  typeof json === "object" && json !== null ? (json as { data?: unknown }).data : undefined

const decodeSingle = (json: unknown): Either.Either<{ readonly data: UserAuthToken }, ParseResult.ParseError> => {
  const token = fastToken(dataOf(json))
  return token === undefined ? decodeSingleSchema(json) : Either.right({ data: token })
}

const decodeBatch = (
  json: unknown
): Either.Either<{ readonly data: ReadonlyArray<UserAuthToken> }, ParseResult.ParseError> => {
  const data = dataOf(json)
  if (!Array.isArray(data)) return decodeBatchSchema(json)
  const tokens: Array<UserAuthToken> = new Array(data.length)
  for (let i = 0; i < data.length; i++) {
    const token = fastToken(data[i])
    if (token === undefined) return decodeBatchSchema(json)
    tokens[i] = token
  }
  return Either.right({ data: tokens })
}

const malformed = (answer: Answer, json: unknown, error: ParseResult.ParseError, secrets: ReadonlyArray<string>) => {
  const sfoxError = looksLikeError(json)
  return new MalformedResponse({
    status: answer.status,
    description: sfoxError !== undefined
      ? `success status with an error body: ${scrub(sfoxError, secrets)}`
      : describeIssues(error)
  })
}

const expiredText = "token already expired when the answer arrived (expires is before the answer's time, " +
  "beyond the allowed clock skew)"

const expired = (token: UserAuthToken, answer: Answer): boolean =>
  token.expiresAtMillis <= answer.receivedAt - clockSkewMillis

/**
 * Runs a decoder so that nothing an answer holds can end as a defect: the
 * checks above are written not to throw, and this is the proof that a throw
 * they missed (a stack or memory limit on a hostile body) still ends as a
 * typed failure. The thrown value is not kept: it could quote the body.
 */
const guarded = <A>(
  answer: Answer,
  secrets: ReadonlyArray<string>,
  decode: () => Either.Either<A, MalformedResponse>
): Either.Either<A, MalformedResponse> => {
  let decoded: Either.Either<A, MalformedResponse>
  try {
    decoded = decode()
  } catch {
    decoded = Either.left(new MalformedResponse({ status: answer.status, description: "answer could not be decoded" }))
  }
  if (Either.isRight(decoded)) return decoded
  // The one place a decoding failure learns the answer's id.
  const requestId = requestIdOf(answer.headers, secrets)
  return requestId === undefined ? decoded : Either.left(new MalformedResponse({ ...decoded.left, requestId }))
}

/** Decodes a 2xx answer to `POST /user-tokens/{id}` and checks it is for that user. */
export const decodeSingleAnswer = (
  answer: Answer,
  userId: string,
  secrets: ReadonlyArray<string>
): Either.Either<UserAuthToken, MalformedResponse> =>
  guarded(answer, secrets, () => decodeSingleUnguarded(answer, userId, secrets))

const decodeSingleUnguarded = (
  answer: Answer,
  userId: string,
  secrets: ReadonlyArray<string>
): Either.Either<UserAuthToken, MalformedResponse> =>
  Either.flatMap(parseJson(answer, secrets), (json) => {
    const decoded = decodeSingle(json)
    if (Either.isLeft(decoded)) return Either.left(malformed(answer, json, decoded.left, secrets))
    const token = decoded.right.data
    if (token.userId !== userId) {
      return Either.left(
        new MalformedResponse({
          status: answer.status,
          description: "token issued for a different user than requested"
        })
      )
    }
    if (expired(token, answer)) {
      return Either.left(new MalformedResponse({ status: answer.status, description: expiredText }))
    }
    return Either.right(token)
  })

/**
 * Decodes a 2xx batch answer and matches every token to its user by
 * `partner_user_id`. Any user missing, added or repeated fails the whole
 * answer: a token is never handed to the wrong user.
 */
export const decodeBatchAnswer = (
  answer: Answer,
  userIds: ReadonlyArray<string>,
  secrets: ReadonlyArray<string>
): Either.Either<ReadonlyMap<string, UserAuthToken>, MalformedResponse> =>
  guarded(answer, secrets, () => decodeBatchUnguarded(answer, userIds, secrets))

const decodeBatchUnguarded = (
  answer: Answer,
  userIds: ReadonlyArray<string>,
  secrets: ReadonlyArray<string>
): Either.Either<ReadonlyMap<string, UserAuthToken>, MalformedResponse> =>
  Either.flatMap(parseJson(answer, secrets), (json) => {
    const decoded = decodeBatch(json)
    if (Either.isLeft(decoded)) return Either.left(malformed(answer, json, decoded.left, secrets))
    const requested = new Set(userIds)
    const byUser = new Map<string, UserAuthToken>()
    const fail = (description: string) => Either.left(new MalformedResponse({ status: answer.status, description }))
    for (const token of decoded.right.data) {
      if (!requested.has(token.userId)) return fail("answer holds a token for a user that was not requested")
      if (byUser.has(token.userId)) return fail("answer holds two tokens for one user")
      if (expired(token, answer)) return fail(expiredText)
      byUser.set(token.userId, token)
    }
    if (byUser.size !== requested.size) {
      return fail(`answer misses ${requested.size - byUser.size} of ${requested.size} requested users`)
    }
    return Either.right(byUser)
  })

/** The status of the answer a failure is about, if there was one. */
export const statusOfFailure = (failure: RequestFailure): number | undefined =>
  failure._tag === "HttpFailure" || failure._tag === "Unauthorized" || failure._tag === "MalformedResponse"
    ? failure.status
    : failure._tag === "RateLimited"
    ? 429
    : undefined

/**
 * OpenTelemetry's `error.type`: the status code of a refusal (a 4xx or 5xx),
 * else a low-cardinality name for what went wrong (the error's tag).
 */
export const errorType = (failure: RequestFailure): string => {
  const status = statusOfFailure(failure)
  return status !== undefined && status >= 400 ? String(status) : failure._tag
}
