import { Failures, MalformedAnswer, type Scrub, Status, TokenAnswer } from "@sfox-effect/domain"
import * as Duration from "effect/Duration"
import * as Either from "effect/Either"
import type * as ParseResult from "effect/ParseResult"
import * as Schema from "effect/Schema"
import { HttpFailure, MalformedResponse, RateLimited, type RequestFailure, Unauthorized } from "../SfoxError.js"
import { BatchTokenResponse, SingleTokenResponse, type UserAuthToken } from "../UserAuthToken.js"
import { unsafeFromWire } from "./userAuthToken.js"

/**
 * The Effect shell of the domain's `Status`, `TokenAnswer` and `Failures`:
 * what an answer means becomes the error classes, and a token answer's
 * reading falls back on the schema to say what is wrong.
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
// walk and the text are the domain's `MalformedAnswer.describeIssues`; here
// ParseResult's issues are told apart for it.
const viewOf = (issue: ParseResult.ParseIssue): MalformedAnswer.IssueView<ParseResult.ParseIssue> => {
  switch (issue._tag) {
    case "Pointer":
      return {
        _tag: "Pointer",
        path: Array.isArray(issue.path) ? issue.path : [issue.path as PropertyKey],
        issue: issue.issue
      }
    case "Refinement":
    case "Transformation":
      return { _tag: "Wrapper", issue: issue.issue }
    case "Composite":
      return {
        _tag: "Group",
        issues: Array.isArray(issue.issues) ? issue.issues : [issue.issues as ParseResult.ParseIssue]
      }
    default:
      return { _tag: "Leaf", missing: issue._tag === "Missing" }
  }
}

export const describeIssues = (error: ParseResult.ParseError): string =>
  MalformedAnswer.describeIssues(error.issue, viewOf)

const decodeSingleSchema = Schema.decodeUnknownEither(SingleTokenResponse)
const decodeBatchSchema = Schema.decodeUnknownEither(BatchTokenResponse)

// The domain's `TokenAnswer` reads an answer with `Wire.readToken` (the same
// checks as the wire schema, without the schema interpreter: about three
// times faster on large batches); whatever it does not accept comes here,
// and the schema says what is wrong (or, should the two ever disagree, decides).
const singleBySchema = (json: unknown): UserAuthToken | string => {
  const decoded = decodeSingleSchema(json)
  return Either.isRight(decoded) ? decoded.right.data : describeIssues(decoded.left)
}

const batchBySchema = (json: unknown): ReadonlyArray<UserAuthToken> | string => {
  const decoded = decodeBatchSchema(json)
  return Either.isRight(decoded) ? decoded.right.data : describeIssues(decoded.left)
}

const orMalformed = <A>(decoded: A | TokenAnswer.Malformed): Either.Either<A, MalformedResponse> =>
  decoded instanceof TokenAnswer.Malformed ? Either.left(new MalformedResponse(decoded.fields)) : Either.right(decoded)

/** Decodes a 2xx answer to `POST /user-tokens/{id}` and checks it is for that user. */
export const decodeSingleAnswer = (
  answer: Answer,
  userId: string,
  scrubber: Scrub.Scrubber
): Either.Either<UserAuthToken, MalformedResponse> =>
  orMalformed(TokenAnswer.single(answer, userId, scrubber, unsafeFromWire, singleBySchema))

/**
 * Decodes a 2xx batch answer and matches every token to its user by
 * `partner_user_id`. Any user missing, added or repeated fails the whole
 * answer: a token is never handed to the wrong user.
 */
export const decodeBatchAnswer = (
  answer: Answer,
  userIds: ReadonlyArray<string>,
  scrubber: Scrub.Scrubber
): Either.Either<ReadonlyMap<string, UserAuthToken>, MalformedResponse> =>
  orMalformed(TokenAnswer.batch(answer, userIds, scrubber, unsafeFromWire, batchBySchema))

/** The status of the answer a failure is about, if there was one (the domain's `Failures.statusOf`). */
export const statusOfFailure: (failure: RequestFailure) => number | undefined = Failures.statusOf

/**
 * OpenTelemetry's `error.type`: the status code of a refusal (a 4xx or 5xx),
 * else a low-cardinality name for what went wrong (the domain's `Failures.errorType`).
 */
export const errorType: (failure: RequestFailure) => string = Failures.errorType
