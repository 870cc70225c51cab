/**
 * The implementation of `UserActionsApi`: who the caller is
 * (`AuthenticationLive`), and what `POST /deposits` does (`DepositsLive`):
 * mint the caller's sFOX token with `UserTokenService.get` (concurrent
 * requests share batch mints), forward the deposit with it, and turn every
 * failure into one of the API's errors.
 *
 * `layer` needs `UserTokenService`, `SfoxUserApi` and `Sessions`: `main.ts`
 * provides the real ones, the tests `FakeSfox` and fakes.
 */
import * as HttpApiBuilder from "@effect/platform/HttpApiBuilder"
import type { InvalidUserId, RequestFailure } from "@sfox-effect/core"
import { UserTokenService } from "@sfox-effect/core"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
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
import { type DepositFailed, SfoxUserApi } from "./SfoxUserApi.js"

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
 * What the client of this service is told, for every way minting or the
 * forwarded call can fail. The details go to the log (the library's errors
 * and `DepositFailed` are free of keys and tokens); the client gets a status
 * and a short message.
 */
export const toApiError = (
  error: InvalidUserId | RequestFailure | DepositFailed
): Effect.Effect<never, ApiError> => {
  switch (error._tag) {
    // A session that maps to an id sFOX cannot take is this service's bug: a 500.
    case "InvalidUserId":
      return Effect.die(error)
    // sFOX refused our enterprise key: the operator must fix it, the user can't.
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
      return Effect.zipRight(
        Effect.logWarning("minting a user token failed", error),
        Effect.fail(error.reason === "Timeout" ? timedOut : unavailable)
      )
    case "DepositFailed":
      switch (error.reason) {
        case "Rejected":
          return Effect.fail(new DepositRejected({ message: error.description }))
        case "RateLimited":
          return Effect.fail(busy(error.retryAfterSeconds ?? 60))
        case "Timeout":
          return Effect.zipRight(Effect.logWarning("the forwarded deposit failed", error), Effect.fail(timedOut))
        case "TokenRefused":
        case "Unavailable":
        case "Transport":
          return Effect.zipRight(Effect.logWarning("the forwarded deposit failed", error), Effect.fail(unavailable))
      }
  }
}

export const DepositsLive = HttpApiBuilder.group(
  UserActionsApi,
  "deposits",
  (handlers) =>
    Effect.gen(function*() {
      const tokens = yield* UserTokenService
      const sfox = yield* SfoxUserApi
      return handlers.handle("initiate", ({ payload }) =>
        Effect.gen(function*() {
          const { userId } = yield* CurrentUser
          // Minted when needed, never stored (sFOX's advice); concurrent requests share batch mints.
          const token = yield* tokens.get(userId)
          const deposit = yield* sfox.initiateAchDeposit(token, payload.amount)
          return new Deposit({ id: deposit.id, userId, amount: deposit.amount, status: deposit.status })
        }).pipe(
          Effect.catchAll(toApiError),
          Effect.withSpan("user_actions.initiate_deposit")
        ))
    })
)

/** The whole API, ready for `HttpApiBuilder.serve()` (or an in-memory handler in the tests). */
export const layer = HttpApiBuilder.api(UserActionsApi).pipe(
  Layer.provide(DepositsLive),
  Layer.provide(AuthenticationLive)
)
