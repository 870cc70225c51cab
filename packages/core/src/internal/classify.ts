import * as DateTime from "effect/DateTime"
import * as Duration from "effect/Duration"
import * as Either from "effect/Either"
import * as ParseResult from "effect/ParseResult"
import * as Schema from "effect/Schema"
import { HttpFailure, MalformedResponse, RateLimited, type RequestFailure, Unauthorized } from "../SfoxError.js"
import { BatchTokenResponse, SingleTokenResponse, unsafeFromWire, type UserAuthToken } from "../UserAuthToken.js"
import { parseRetryAfter } from "./retryAfter.js"
import { scrub } from "./scrub.js"

/** sFOX locks a client out for 60 s when it crosses the rate limit; it sends no `Retry-After`. */
export const documentedLockout = Duration.seconds(60)

/** What is needed of an answer to judge it; no request, no headers object. */
export interface Answer {
  readonly status: number
  readonly retryAfter: string | undefined
  readonly body: string
}

const errorText = (body: string, secrets: ReadonlyArray<string>): string => {
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
  return scrub(body, secrets)
}

/** Status to typed error, for every non-2xx answer. */
export const failureOf = (answer: Answer, nowMillis: number, secrets: ReadonlyArray<string>): RequestFailure => {
  const description = errorText(answer.body, secrets)
  const { status } = answer
  if (status === 401 || status === 403) return new Unauthorized({ status, description })
  const hint = parseRetryAfter(answer.retryAfter, nowMillis)
  if (status === 429) return new RateLimited({ retryAfter: hint ?? documentedLockout, description })
  return new HttpFailure(hint === undefined ? { status, description } : { status, description, retryAfter: hint })
}

// Schema issues name the path and the kind of problem, never the value: the
// value may be a token.
const describeIssues = (error: ParseResult.ParseError): string => {
  const issues = ParseResult.ArrayFormatter.formatErrorSync(error)
  const shown = issues.slice(0, 3).map((issue) => {
    const path = issue.path.length === 0 ? "body" : issue.path.map(String).join(".")
    return `${path}: ${issue._tag === "Missing" ? "missing" : "unexpected value"}`
  })
  const more = issues.length > 3 ? ` (+${issues.length - 3} more)` : ""
  return `${shown.join("; ")}${more}`
}

const parseJson = (answer: Answer, secrets: ReadonlyArray<string>): Either.Either<unknown, MalformedResponse> => {
  try {
    return Either.right(JSON.parse(answer.body))
  } catch {
    return Either.left(
      new MalformedResponse({
        status: answer.status,
        description: answer.body.length === 0 ? "empty body" : `not JSON: ${scrub(answer.body, secrets)}`
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
 * checks (non-empty strings, `DateTime.unsafeMake` for `expires`) without the
 * schema interpreter, about three times faster on large batches. Whatever it
 * does not accept goes through the schema itself, which then describes the
 * problem (or, should the two ever disagree, decides).
 */
// sFOX's two documented forms, `2024-05-14T19:22:09.901Z` and
// `2022-02-08T03:28:56Z`: Date.parse reads them exactly as DateTime does.
// Anything else goes through DateTime itself.
const isoUtc = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,3})?Z$/

const expiresMillis = (expires: string): number | undefined => {
  if (isoUtc.test(expires)) {
    const millis = Date.parse(expires)
    if (!Number.isNaN(millis)) return millis
  }
  try {
    return DateTime.toEpochMillis(DateTime.unsafeMake(expires))
  } catch {
    return undefined
  }
}

const fastToken = (u: unknown): UserAuthToken | undefined => {
  if (typeof u !== "object" || u === null) return undefined
  const { expires, partner_user_id, token } = u as Record<string, unknown>
  if (typeof token !== "string" || token.length === 0) return undefined
  if (typeof partner_user_id !== "string" || partner_user_id.length === 0) return undefined
  if (typeof expires !== "string") return undefined
  const at = expiresMillis(expires)
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

/** Decodes a 2xx answer to `POST /user-tokens/{id}` and checks it is for that user. */
export const decodeSingleAnswer = (
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
  Either.flatMap(parseJson(answer, secrets), (json) => {
    const decoded = decodeBatch(json)
    if (Either.isLeft(decoded)) return Either.left(malformed(answer, json, decoded.left, secrets))
    const requested = new Set(userIds)
    const byUser = new Map<string, UserAuthToken>()
    const fail = (description: string) => Either.left(new MalformedResponse({ status: answer.status, description }))
    for (const token of decoded.right.data) {
      if (!requested.has(token.userId)) return fail("answer holds a token for a user that was not requested")
      if (byUser.has(token.userId)) return fail("answer holds two tokens for one user")
      byUser.set(token.userId, token)
    }
    if (byUser.size !== requested.size) {
      return fail(`answer misses ${requested.size - byUser.size} of ${requested.size} requested users`)
    }
    return Either.right(byUser)
  })
