import { Wire } from "@sfox-effect/domain"
import type * as Context from "effect/Context"
import type * as Headers from "effect/http/Headers"
import * as HttpBody from "effect/http/HttpBody"
import * as HttpClientRequest from "effect/http/HttpClientRequest"
import * as Result from "effect/Result"
import type { RequestFailure } from "../SfoxError.js"
import type { UserAuthToken } from "../UserAuthToken.js"
import { bodyLimit } from "./answerBody.js"
import type * as Batcher from "./batcher.js"
import { decodeBatchAnswer, decodeSingleAnswer } from "./classify.js"
import type { Endpoint, Received } from "./endpoint.js"
import type { Scrubber } from "./scrub.js"
import * as Telemetry from "./telemetry.js"

/** A mint for one user: the id, and its path segment (checked and URL-encoded before anything is sent). */
export interface OneUser {
  readonly userId: string
  readonly encoded: string
}

/**
 * A batch of `get`: it takes joiners until its rate-limit turn comes, and its
 * body is built then, from its users at that moment (`seal`); its retries
 * send the same users. `userIds` holds them once sealed.
 */
export interface AtTurn {
  readonly sealable: Batcher.Sealable
  userIds: ReadonlyArray<string>
}

/** The service's three token endpoints: one user, a batch, a batch built at its turn. */
export interface TokenEndpoints {
  readonly oneUser: Endpoint<OneUser, UserAuthToken>
  readonly batch: Endpoint<ReadonlyArray<string>, ReadonlyMap<string, UserAuthToken>>
  readonly atTurn: Endpoint<AtTurn, ReadonlyMap<string, UserAuthToken>>
}

/** A decoded answer counts its tokens as minted, in the caller's context. */
const counted = <A>(
  decoded: Result.Result<A, RequestFailure>,
  users: number,
  context: Context.Context<never>
): Result.Result<A, RequestFailure> => {
  if (Result.isSuccess(decoded)) Telemetry.minted(users, context)
  return decoded
}

/**
 * The token endpoints of a service on `baseUrl` with the key in `headers`.
 * Their answers' bodies are read in full, within the bound for their status
 * and size; any non-2xx is a failure.
 */
export const make = (baseUrl: string, headers: Headers.Headers, scrubber: Scrubber): TokenEndpoints => {
  // Built once: a mint only sets its URL (the headers are not parsed again).
  const tokenRequest = HttpClientRequest.post(`${baseUrl}${Wire.tokensPath}`, { headers })
  const batchRequest = (userIds: ReadonlyArray<string>) =>
    HttpClientRequest.post(`${baseUrl}${Wire.tokensPath}`, {
      headers,
      body: HttpBody.text(JSON.stringify({ data: userIds }), "application/json")
    })
  const decodeBatch = (answer: Received, userIds: ReadonlyArray<string>, context: Context.Context<never>) =>
    counted(decodeBatchAnswer(answer, userIds, scrubber), userIds.length, context)
  const batch = { method: "POST", template: Wire.tokensPath, keyed: true } as const
  return {
    oneUser: {
      method: "POST",
      template: `${Wire.tokensPath}/{user_id}`,
      keyed: true,
      request: ({ encoded }) => HttpClientRequest.setUrl(tokenRequest, `${baseUrl}${Wire.tokensPath}/${encoded}`),
      bodyLimit: (status) => bodyLimit(status, 1),
      decode: (answer, { userId }, context) => counted(decodeSingleAnswer(answer, userId, scrubber), 1, context),
      batchSize: () => 1
    },
    batch: {
      ...batch,
      request: batchRequest,
      bodyLimit: (status, userIds) => bodyLimit(status, userIds.length),
      decode: decodeBatch,
      batchSize: (userIds) => userIds.length
    },
    atTurn: {
      ...batch,
      request: (turn) => (context) => {
        const sealed = turn.sealable.seal()
        if (sealed === undefined) return undefined
        if (sealed !== turn.userIds) Telemetry.batched(sealed.length, context)
        turn.userIds = sealed
        return batchRequest(sealed)
      },
      bodyLimit: (status, turn) => bodyLimit(status, turn.userIds.length),
      decode: (answer, turn, context) => decodeBatch(answer, turn.userIds, context),
      batchSize: (turn) => () => turn.userIds.length
    }
  }
}
