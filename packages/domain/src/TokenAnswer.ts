/**
 * How a 2xx answer to a token request is read: its JSON, each token through
 * `Wire.readToken` (no schema interpreter on the path of every mint), the
 * shell's schema for whatever that does not accept (the schema then says
 * what is wrong, or, should the two ever disagree, decides), and the checks
 * that the tokens are for the users asked for. An answer that fails any of
 * it is `Malformed`: no token from it is ever handed out.
 *
 * @since 0.3.0
 */
import { errorBody, notJson, undecodable } from "./MalformedAnswer.js"
import * as RequestId from "./RequestId.js"
import type { Scrubber } from "./Scrub.js"
import type { Answer } from "./Status.js"
import * as Wire from "./Wire.js"

/**
 * A 2xx answer that is not what sFOX documents: the fields of the shell's
 * `MalformedResponse` (a `requestId` only when the answer had one).
 *
 * @since 0.3.0
 */
export class Malformed {
  constructor(
    readonly fields: { readonly status: number; readonly description: string; readonly requestId?: string }
  ) {}
}

/**
 * Builds the shell's token from values `Wire.readToken` has checked.
 *
 * @since 0.3.0
 */
export type Make<T> = (token: string, userId: string, expiresAtMillis: number) => T

/**
 * The shell's schema over the whole JSON answer, for what the fast reader
 * did not accept: the token(s), or the description of what is wrong
 * (`MalformedAnswer.describeIssues`).
 *
 * @since 0.3.0
 */
export type BySchema<A> = (json: unknown) => A | string

const noJson: unique symbol = Symbol("noJson")

const parse = (body: string): unknown => {
  try {
    return JSON.parse(body)
  } catch {
    return noJson
  }
}

/**
 * Runs a decoder so that nothing an answer holds can end as a defect: the
 * checks are written not to throw, and this is the proof that a throw they
 * missed (a stack or memory limit on a hostile body) still ends as
 * `Malformed`. The thrown value is not kept: it could quote the body. The
 * one place a decoding failure learns the answer's request id.
 */
const guarded = <A>(answer: Answer, scrubber: Scrubber, decode: () => A | Malformed): A | Malformed => {
  let decoded: A | Malformed
  try {
    decoded = decode()
  } catch {
    decoded = new Malformed({ status: answer.status, description: undecodable })
  }
  if (!(decoded instanceof Malformed)) return decoded
  const requestId = RequestId.of(answer.headers, scrubber)
  return requestId === undefined ? decoded : new Malformed({ ...decoded.fields, requestId })
}

const malformed = (answer: Answer, description: string) => new Malformed({ status: answer.status, description })

// A schema's refusal, unless the body is sFOX's error (then that is what it says).
const refused = (answer: Answer, json: unknown, issues: string, scrubber: Scrubber) =>
  malformed(answer, errorBody(json, scrubber) ?? issues)

/**
 * A 2xx answer to `POST /user-tokens/{id}`: its token, checked to be for
 * `userId` and not expired on arrival.
 *
 * @since 0.3.0
 */
export const single = <T extends Wire.Minted>(
  answer: Answer,
  userId: string,
  scrubber: Scrubber,
  make: Make<T>,
  bySchema: BySchema<T>
): T | Malformed =>
  guarded(answer, scrubber, () => {
    const json = parse(answer.body)
    if (json === noJson) return malformed(answer, notJson(answer, scrubber))
    const token = Wire.readToken(Wire.dataOf(json), make) ?? bySchema(json)
    if (typeof token === "string") return refused(answer, json, token, scrubber)
    const wrong = Wire.checkSingle(token, userId, answer.receivedAt)
    return wrong === undefined ? token : malformed(answer, wrong)
  })

/**
 * A 2xx batch answer: every token matched to its user by
 * `partner_user_id`. Any user missing, added or repeated fails the whole
 * answer: a token is never handed to the wrong user.
 *
 * @since 0.3.0
 */
export const batch = <T extends Wire.Minted>(
  answer: Answer,
  userIds: ReadonlyArray<string>,
  scrubber: Scrubber,
  make: Make<T>,
  bySchema: BySchema<ReadonlyArray<T>>
): ReadonlyMap<string, T> | Malformed =>
  guarded(answer, scrubber, () => {
    const json = parse(answer.body)
    if (json === noJson) return malformed(answer, notJson(answer, scrubber))
    const tokens = Wire.readTokens(Wire.dataOf(json), make) ?? bySchema(json)
    if (typeof tokens === "string") return refused(answer, json, tokens, scrubber)
    const byUser = Wire.matchBatch(tokens, userIds, answer.receivedAt)
    return typeof byUser === "string" ? malformed(answer, byUser) : byUser
  })
