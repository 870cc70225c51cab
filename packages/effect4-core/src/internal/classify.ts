import { RequestId, Scrub, Status, Wire } from "@sfox-effect/domain"
import * as Duration from "effect/Duration"
import * as Result from "effect/Result"
import * as Schema from "effect/Schema"
import type * as SchemaIssue from "effect/SchemaIssue"
import { HttpFailure, MalformedResponse, RateLimited, type RequestFailure, Unauthorized } from "../SfoxError.js"
import { BatchTokenResponse, SingleTokenResponse, type UserAuthToken } from "../UserAuthToken.js"
import { unsafeFromWire } from "./userAuthToken.js"

/**
 * The Effect shell of the domain's `Status` and `Wire`: what an answer means
 * becomes the error classes, and a token answer's decoding falls back on the
 * schema to say what is wrong.
 */

/** sFOX locks a client out for 60 s when it crosses the rate limit; it sends no `Retry-After`. */
export const documentedLockout = Duration.millis(Status.documentedLockoutMillis)

/** What is needed of an answer to judge it; no request. */
export type Answer = Status.Answer

/** Status to typed error, for every non-2xx answer; `origin` is where the key went (an `Unauthorized` names it). */
export const failureOf = (
  answer: Answer,
  nowMillis: number,
  scrubber: Scrub.Scrubber,
  origin?: string
): RequestFailure => errorOf(Status.failureOf(answer, nowMillis, scrubber, origin))

/** The error class of a failure's data. */
export const errorOf = (failure: Status.Failure): RequestFailure => {
  switch (failure._tag) {
    case "HttpFailure": {
      const { _tag, retryAfterMillis, ...fields } = failure
      return new HttpFailure(
        retryAfterMillis === undefined ? fields : { ...fields, retryAfter: Duration.millis(retryAfterMillis) }
      )
    }
    case "Unauthorized": {
      const { _tag, ...fields } = failure
      return new Unauthorized(fields)
    }
    case "RateLimited": {
      const { _tag, retryAfterMillis, ...fields } = failure
      return new RateLimited({ ...fields, retryAfter: Duration.millis(retryAfterMillis) })
    }
  }
}

// Schema issues name the path and the kind of problem, never the value: the
// value may be a token (Effect 4's issues keep no input unless asked to with
// `reportInput`, but a formatter may still describe one), and a formatter
// that walks a deeply nested answer can overflow the stack. The walk below
// follows the issue tree only (as deep as the schema, a few levels) and
// reads nothing but paths and tags.
interface Found {
  readonly path: ReadonlyArray<PropertyKey>
  readonly missing: boolean
}

const collectIssues = (root: SchemaIssue.Issue, limit: number): { found: Array<Found>; total: number } => {
  const found: Array<Found> = []
  let total = 0
  const stack: Array<[SchemaIssue.Issue, ReadonlyArray<PropertyKey>]> = [[root, []]]
  const leaf = (path: ReadonlyArray<PropertyKey>, missing: boolean) => {
    total++
    if (found.length < limit) found.push({ path, missing })
  }
  // Bounded whatever the tree: a batch of 100,000 bad tokens has as many issues.
  for (let steps = 0; stack.length > 0 && steps < 10_000; steps++) {
    const [issue, path] = stack.pop()!
    switch (issue._tag) {
      case "Pointer":
        stack.push([issue.issue, [...path, ...issue.path]])
        break
      case "Filter":
      case "Encoding":
        stack.push([issue.issue, path])
        break
      case "Composite":
      case "AnyOf":
        // A union that no member came near has no issues: it is one of its own.
        if (issue.issues.length === 0) leaf(path, false)
        for (let i = issue.issues.length - 1; i >= 0; i--) stack.push([issue.issues[i]!, path])
        break
      default:
        leaf(path, issue._tag === "MissingKey")
    }
  }
  return { found, total }
}

const segmentText = (segment: PropertyKey): string =>
  typeof segment === "number" ? String(segment) : Scrub.scrub(String(segment).slice(0, 40))

export const describeIssues = (error: Schema.SchemaError): string => {
  const { found, total } = collectIssues(error.issue, 3)
  const shown = found.map((issue) => {
    const path = issue.path.length === 0 ? "body" : issue.path.map(segmentText).join(".")
    return `${path}: ${issue.missing ? "missing" : "unexpected value"}`
  })
  const more = total > 3 ? ` (+${total - 3} more)` : ""
  return `${shown.join("; ")}${more}`
}

const parseJson = (answer: Answer, scrubber: Scrub.Scrubber): Result.Result<unknown, MalformedResponse> => {
  try {
    return Result.succeed(JSON.parse(answer.body))
  } catch {
    return Result.fail(
      new MalformedResponse({
        status: answer.status,
        description: answer.body.length === 0
          ? "empty body"
          : `not JSON: ${Status.excerpt(answer, scrubber)}`
      })
    )
  }
}

const looksLikeError = (json: unknown): string | undefined =>
  typeof json === "object" && json !== null && typeof (json as { error?: unknown }).error === "string"
    ? (json as { error: string }).error
    : undefined

const decodeSingleSchema = Schema.decodeUnknownResult(SingleTokenResponse)
const decodeBatchSchema = Schema.decodeUnknownResult(BatchTokenResponse)

/**
 * The wire schema's decoding, inlined for the answers that pass it (the
 * domain's `Wire.readToken`: the same checks without the schema
 * interpreter, about three times faster on large batches). Whatever it does
 * not accept goes through the schema itself, which then describes the
 * problem (or, should the two ever disagree, decides).
 */
const fastToken = (u: unknown): UserAuthToken | undefined => Wire.readToken(u, unsafeFromWire)

const dataOf = Wire.dataOf

const decodeSingle = (json: unknown): Result.Result<{ readonly data: UserAuthToken }, Schema.SchemaError> => {
  const token = fastToken(dataOf(json))
  return token === undefined ? decodeSingleSchema(json) : Result.succeed({ data: token })
}

const decodeBatch = (
  json: unknown
): Result.Result<{ readonly data: ReadonlyArray<UserAuthToken> }, Schema.SchemaError> => {
  const data = dataOf(json)
  if (!Array.isArray(data)) return decodeBatchSchema(json)
  const tokens: Array<UserAuthToken> = new Array(data.length)
  for (let i = 0; i < data.length; i++) {
    const token = fastToken(data[i])
    if (token === undefined) return decodeBatchSchema(json)
    tokens[i] = token
  }
  return Result.succeed({ data: tokens })
}

const malformed = (answer: Answer, json: unknown, error: Schema.SchemaError, scrubber: Scrub.Scrubber) => {
  const sfoxError = looksLikeError(json)
  return new MalformedResponse({
    status: answer.status,
    description: sfoxError !== undefined
      ? `success status with an error body: ${scrubber.scrub(sfoxError)}`
      : describeIssues(error)
  })
}

/**
 * Runs a decoder so that nothing an answer holds can end as a defect: the
 * checks above are written not to throw, and this is the proof that a throw
 * they missed (a stack or memory limit on a hostile body) still ends as a
 * typed failure. The thrown value is not kept: it could quote the body.
 */
const guarded = <A>(
  answer: Answer,
  scrubber: Scrub.Scrubber,
  decode: () => Result.Result<A, MalformedResponse>
): Result.Result<A, MalformedResponse> => {
  let decoded: Result.Result<A, MalformedResponse>
  try {
    decoded = decode()
  } catch {
    decoded = Result.fail(new MalformedResponse({ status: answer.status, description: "answer could not be decoded" }))
  }
  if (Result.isSuccess(decoded)) return decoded
  // The one place a decoding failure learns the answer's id.
  const requestId = RequestId.of(answer.headers, scrubber)
  return requestId === undefined ? decoded : Result.fail(new MalformedResponse({ ...decoded.failure, requestId }))
}

/** Decodes a 2xx answer to `POST /user-tokens/{id}` and checks it is for that user. */
export const decodeSingleAnswer = (
  answer: Answer,
  userId: string,
  scrubber: Scrub.Scrubber
): Result.Result<UserAuthToken, MalformedResponse> =>
  guarded(answer, scrubber, () => decodeSingleUnguarded(answer, userId, scrubber))

const decodeSingleUnguarded = (
  answer: Answer,
  userId: string,
  scrubber: Scrub.Scrubber
): Result.Result<UserAuthToken, MalformedResponse> =>
  Result.flatMap(parseJson(answer, scrubber), (json) => {
    const decoded = decodeSingle(json)
    if (Result.isFailure(decoded)) return Result.fail(malformed(answer, json, decoded.failure, scrubber))
    const token = decoded.success.data
    const wrong = Wire.checkSingle(token, userId, answer.receivedAt)
    if (wrong !== undefined) return Result.fail(new MalformedResponse({ status: answer.status, description: wrong }))
    return Result.succeed(token)
  })

/**
 * Decodes a 2xx batch answer and matches every token to its user by
 * `partner_user_id`. Any user missing, added or repeated fails the whole
 * answer: a token is never handed to the wrong user.
 */
export const decodeBatchAnswer = (
  answer: Answer,
  userIds: ReadonlyArray<string>,
  scrubber: Scrub.Scrubber
): Result.Result<ReadonlyMap<string, UserAuthToken>, MalformedResponse> =>
  guarded(answer, scrubber, () => decodeBatchUnguarded(answer, userIds, scrubber))

const decodeBatchUnguarded = (
  answer: Answer,
  userIds: ReadonlyArray<string>,
  scrubber: Scrub.Scrubber
): Result.Result<ReadonlyMap<string, UserAuthToken>, MalformedResponse> =>
  Result.flatMap(parseJson(answer, scrubber), (json) => {
    const decoded = decodeBatch(json)
    if (Result.isFailure(decoded)) return Result.fail(malformed(answer, json, decoded.failure, scrubber))
    const byUser = Wire.matchBatch(decoded.success.data, userIds, answer.receivedAt)
    if (typeof byUser === "string") {
      return Result.fail(new MalformedResponse({ status: answer.status, description: byUser }))
    }
    return Result.succeed(byUser)
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
