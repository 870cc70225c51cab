import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import type { InvalidUserId, RequestFailure } from "../SfoxError.js"
import type { UserAuthToken } from "../UserAuthToken.js"
import { type Endpoint, mayBeBuiltAgain } from "./endpoint.js"
import type { Pipeline } from "./request.js"
import * as Telemetry from "./telemetry.js"

/** Where a user's token comes from, and how a refused one is forgotten. */
export interface Tokens {
  readonly get: (userId: string) => Effect.Effect<UserAuthToken, InvalidUserId | RequestFailure>
  readonly invalidate: (userId: string) => Effect.Effect<void>
}

/**
 * For an endpoint whose refusals are its caller's answers (`clientFor`):
 * whether `answer` is sFOX refusing the token (a 401), and then what frees
 * it before the request is sent again.
 */
export type RefusedToken<A> = (answer: A) => Effect.Effect<void> | undefined

/** The request sent as a user, as it is or with its `Authorization`. */
const bearer = (token: UserAuthToken): { readonly authorization: string } => ({
  authorization: `Bearer ${Redacted.value(token.token)}`
})

const isRefusal = (failure: InvalidUserId | RequestFailure): boolean =>
  failure._tag === "Unauthorized" && failure.status === 401

/**
 * An endpoint sent as a user: the token from `get`, and when sFOX refuses it
 * (a 401: revoked, say) the token forgotten and, once, a fresh one minted
 * and the request sent again; a request whose body cannot be sent again is
 * not, and its refusal is the answer. Every attempt goes through the
 * pipeline (turn, limit, retries, deadline, telemetry).
 */
export const make = (pipeline: Pipeline, tokens: Tokens) =>
<I, A>(
  endpoint: Endpoint<I, A>,
  refusedToken?: RefusedToken<A>
) =>
(userId: string, input: I): Effect.Effect<A, InvalidUserId | RequestFailure> => {
  const sendWith = (token: UserAuthToken) => pipeline.send(endpoint, input, bearer(token))
  const again = (released: Effect.Effect<void>) =>
    mayBeBuiltAgain(endpoint.request(input))
      ? released.pipe(
        Effect.andThen(tokens.invalidate(userId)),
        Effect.andThen(tokens.get(userId)),
        Effect.flatMap(sendWith)
      )
      : undefined
  return Effect.flatMap(tokens.get(userId), (token) =>
    Effect.matchEffect(sendWith(token), {
      onFailure: (failure) =>
        isRefusal(failure)
          ? again(Effect.void) ?? Effect.andThen(tokens.invalidate(userId), Effect.fail(failure))
          : Effect.fail(failure),
      onSuccess: (answer) => {
        const released = refusedToken?.(answer)
        if (released === undefined) return Effect.succeed(answer)
        return again(released) ?? Effect.as(tokens.invalidate(userId), answer)
      }
    })).pipe(Telemetry.userRequestSpan(endpoint.method))
}
