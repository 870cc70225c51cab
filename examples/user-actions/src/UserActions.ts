/**
 * The implementation of `UserActionsApi`: who the caller is
 * (`AuthenticationLive`), and what `POST /deposits` does (`DepositsLive`):
 * post the deposit to sFOX as the caller, with `UserTokenService.clientFor`,
 * and turn every outcome into one of the API's answers.
 *
 * `clientFor` does all the token and retry work: it mints the caller's token
 * with `get` (concurrent requests share batch mints), takes a turn of the
 * rate limiter the mints use, re-mints a revoked token once, waits out a
 * short `429`, and never sends the deposit twice when sFOX may have acted on
 * it. What is left here is what sFOX's answer means to our client.
 *
 * `layer` needs `UserTokenService` and `Sessions`: `main.ts` provides the
 * real ones, the tests `FakeSfox` and a fixed table.
 */
import * as HttpApiBuilder from "@effect/platform/HttpApiBuilder"
import type * as HttpClient from "@effect/platform/HttpClient"
import type * as HttpClientError from "@effect/platform/HttpClientError"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import type { UserTokenError } from "@sfox-effect/core"
import { UserTokenService } from "@sfox-effect/core"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import {
  Authentication,
  CurrentUser,
  Deposit,
  DepositRejected,
  SfoxBusy,
  SfoxTimeout,
  SfoxUnavailable,
  Unauthenticated,
  UserActionsApi
} from "./Api.js"
import { Sessions } from "./Sessions.js"

export const AuthenticationLive: Layer.Layer<Authentication, never, Sessions> = Layer.effect(
  Authentication,
  Effect.map(Sessions, (sessions) =>
    Authentication.of({
      session: (token) =>
        Effect.flatMap(
          sessions.userIdOf(token),
          Option.match({
            onNone: () => Effect.fail(new Unauthenticated({ message: "missing or unknown session" })),
            onSome: (userId) => Effect.succeed({ userId })
          })
        )
    }))
)

type ApiError = DepositRejected | SfoxBusy | SfoxUnavailable | SfoxTimeout

const unavailable = new SfoxUnavailable({ message: "sFOX is unavailable; try again later" })
const timedOut = new SfoxTimeout({ message: "sFOX did not answer in time; try again later" })
const busy = (seconds: number) =>
  new SfoxBusy({ message: "sFOX is busy; try again later", retryAfterSeconds: Math.max(1, Math.ceil(seconds)) })

/**
 * What the client of this service is told when minting the token or reaching
 * sFOX fails. The details go to the log (the library's errors are free of
 * keys and tokens); the client gets a status and a short message. A user
 * call's own status never lands here: `clientFor` returns the response.
 */
export const toApiError = (
  error: UserTokenError | HttpClientError.HttpClientError
): Effect.Effect<never, ApiError> => {
  switch (error._tag) {
    // This service's bugs, a 500: a session that maps to an id sFOX cannot
    // take, an empty batch, a URL off sFOX's origin (`clientFor` refuses it).
    case "InvalidUserId":
    case "EmptyBatch":
    case "RequestError":
      return Effect.die(error)
    // Only a mint fails so (a user call's 401 is re-minted, then returned):
    // sFOX refused our enterprise key, which the operator must fix.
    case "Unauthorized":
      return Effect.zipRight(Effect.logError("sFOX refused the enterprise API key", error), Effect.fail(unavailable))
    case "RateLimited":
      return Effect.fail(busy(Duration.toSeconds(error.retryAfter)))
    case "HttpFailure":
      return error.status === 404
        ? Effect.fail(new DepositRejected({ message: "this user has no sFOX account" }))
        : Effect.zipRight(Effect.logWarning("minting a user token failed", error), Effect.fail(unavailable))
    case "MalformedResponse":
      return Effect.zipRight(Effect.logWarning("minting a user token failed", error), Effect.fail(unavailable))
    // The shared rate limiter (Redis) is down: nothing reached sFOX.
    case "RateLimiterUnavailable":
      return Effect.zipRight(Effect.logError("the shared sFOX rate limiter is down", error), Effect.fail(unavailable))
    case "TransportError":
    case "ResponseError":
      return Effect.zipRight(
        Effect.logWarning("a call to sFOX failed", error),
        Effect.fail(error._tag === "TransportError" && error.reason === "Timeout" ? timedOut : unavailable)
      )
  }
}

// ---------------------------------------------------------------------------
// the deposit, as the user

/** sFOX's answer to a deposit request. */
export class AchDeposit extends Schema.Class<AchDeposit>("AchDeposit")({
  id: Schema.String,
  amount: Schema.Number,
  status: Schema.String
}) {}

const ErrorBody = Schema.Struct({ error: Schema.String })

/** sFOX's `error` text, cut short; `fallback` when the body has none. */
const reasonOf = (response: HttpClientResponse.HttpClientResponse, fallback: string): Effect.Effect<string> =>
  HttpClientResponse.schemaBodyJson(ErrorBody)(response).pipe(
    Effect.map(({ error }) => error.slice(0, 200)),
    Effect.orElseSucceed(() => fallback)
  )

const deposited = (response: HttpClientResponse.HttpClientResponse) =>
  Effect.catchAll(
    HttpClientResponse.schemaBodyJson(AchDeposit)(response),
    (error) =>
      Effect.zipRight(Effect.logWarning("sFOX's answer to a deposit is not a deposit", error), Effect.fail(unavailable))
  )

const rejected = (response: HttpClientResponse.HttpClientResponse) =>
  Effect.flatMap(
    reasonOf(response, "sFOX rejected the deposit"),
    (message) => Effect.fail(new DepositRejected({ message }))
  )

// `clientFor` has already waited out any `Retry-After` short enough: this one
// is long, or absent (sFOX documents a 60 s lockout and no header). Seconds
// only; the client just needs a hint.
const rateLimited = (response: HttpClientResponse.HttpClientResponse) => {
  const hint = response.headers["retry-after"]
  return Effect.fail(busy(hint !== undefined && /^\d+$/.test(hint) ? Number(hint) : 60))
}

const failed = (response: HttpClientResponse.HttpClientResponse) =>
  Effect.flatMap(reasonOf(response, "no reason given"), (reason) => {
    const status = response.status
    // A 401 here is a freshly minted token refused as well: sFOX's side, not the user's.
    const log = status === 401 || status === 403
      ? Effect.logError("sFOX refused a user token for a deposit", { status, reason })
      : Effect.logWarning("sFOX did not take a deposit", { status, reason })
    return Effect.zipRight(log, Effect.fail(unavailable))
  })

/**
 * Starts an ACH deposit as the user `sfox` acts for (`clientFor(userId)`):
 * the handler names the user, this says what sFOX's answer means.
 */
const initiateAchDeposit = (
  sfox: HttpClient.HttpClient.With<HttpClientError.HttpClientError | UserTokenError>,
  amount: number
): Effect.Effect<AchDeposit, ApiError> =>
  sfox.execute(HttpClientRequest.post("/v1/user/bank/deposit").pipe(HttpClientRequest.bodyUnsafeJson({ amount }))).pipe(
    Effect.catchAll(toApiError),
    Effect.flatMap(HttpClientResponse.matchStatus({
      "2xx": deposited,
      400: rejected,
      422: rejected,
      429: rateLimited,
      orElse: failed
    }))
  )

export const DepositsLive = HttpApiBuilder.group(
  UserActionsApi,
  "deposits",
  (handlers) =>
    Effect.gen(function*() {
      const tokens = yield* UserTokenService
      return handlers.handle("initiate", ({ payload }) =>
        Effect.gen(function*() {
          const { userId } = yield* CurrentUser
          const deposit = yield* initiateAchDeposit(tokens.clientFor(userId), payload.amount)
          return new Deposit({ id: deposit.id, userId, amount: deposit.amount, status: deposit.status })
        }).pipe(Effect.withSpan("user_actions.initiate_deposit")))
    })
)

/** The whole API, ready for `HttpApiBuilder.serve()` (or an in-memory handler in the tests). */
export const layer = HttpApiBuilder.api(UserActionsApi).pipe(
  Layer.provide(DepositsLive),
  Layer.provide(AuthenticationLive)
)
