/**
 * The sFOX call this service makes on a user's behalf: "initiate an ACH
 * deposit", authorized with that user's auth token (never the enterprise
 * key). A service over any `HttpClient`, like `UserTokenService`.
 *
 * The path and body follow the shape of sFOX's user endpoints
 * (`POST /v1/user/bank/deposit`, `{ "amount": 100 }`); check sFOX's reference
 * for the exact contract before pointing this at the real API.
 */
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import type * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import type { UserAuthToken } from "@sfox-effect/core"
import * as Config from "effect/Config"
import type * as ConfigError from "effect/ConfigError"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"

/** sFOX's answer to a deposit request. */
export class AchDeposit extends Schema.Class<AchDeposit>("AchDeposit")({
  id: Schema.String,
  amount: Schema.Number,
  status: Schema.String
}) {}

/**
 * Why a forwarded call failed. It never holds the request (whose
 * `Authorization` header carries the user's token) nor a platform error
 * (which holds the request).
 */
export class DepositFailed extends Schema.TaggedError<DepositFailed>()("DepositFailed", {
  reason: Schema.Literal("Rejected", "TokenRefused", "RateLimited", "Unavailable", "Transport", "Timeout"),
  status: Schema.optional(Schema.Number),
  retryAfterSeconds: Schema.optional(Schema.Number),
  description: Schema.String
}) {}

export interface SfoxUserApiOptions {
  /** @default "https://api.sfox.com" */
  readonly baseUrl?: string | undefined
  /** @default "10 seconds" */
  readonly timeout?: Duration.DurationInput | undefined
}

export class SfoxUserApi extends Context.Tag("@sfox-effect/example-user-actions/SfoxUserApi")<
  SfoxUserApi,
  {
    /**
     * Starts an ACH deposit into the token's user's sFOX account. Not
     * retried: a deposit is not idempotent.
     */
    readonly initiateAchDeposit: (token: UserAuthToken, amount: number) => Effect.Effect<AchDeposit, DepositFailed>
  }
>() {
  static readonly make = (
    options: SfoxUserApiOptions = {}
  ): Effect.Effect<SfoxUserApi["Type"], never, HttpClient.HttpClient> =>
    Effect.map(HttpClient.HttpClient, (base) => {
      const baseUrl = (options.baseUrl ?? "https://api.sfox.com").replace(/\/+$/, "")
      const timeout = Duration.decode(options.timeout ?? "10 seconds")
      const client = base.pipe(HttpClient.mapRequest(HttpClientRequest.prependUrl(baseUrl)))
      return {
        initiateAchDeposit: (token, amount) => {
          const secret = Redacted.value(token.token)
          return HttpClientRequest.post("/v1/user/bank/deposit").pipe(
            HttpClientRequest.setHeaders({ authorization: `Bearer ${secret}`, accept: "application/json" }),
            HttpClientRequest.bodyUnsafeJson({ amount }),
            client.execute,
            Effect.flatMap((response) => classify(response, secret)),
            Effect.catchTags({
              RequestError: () => Effect.fail(failed("Transport", "could not reach sFOX")),
              ResponseError: () => Effect.fail(failed("Transport", "sFOX's answer was cut short"))
            }),
            Effect.timeoutFail({
              duration: timeout,
              onTimeout: () => failed("Timeout", `no answer from sFOX within ${Duration.format(timeout)}`)
            }),
            Effect.withSpan("sfox.user_api.initiate_ach_deposit", {
              kind: "client",
              attributes: { "sfox.amount": amount }
            })
          )
        }
      }
    })

  static readonly layer = (options: SfoxUserApiOptions = {}): Layer.Layer<SfoxUserApi, never, HttpClient.HttpClient> =>
    Layer.effect(SfoxUserApi, SfoxUserApi.make(options))

  /** The base URL from `SFOX_USER_API_URL` (production when unset). */
  static readonly layerConfig: Layer.Layer<SfoxUserApi, ConfigError.ConfigError, HttpClient.HttpClient> = Layer
    .unwrapEffect(
      Effect.map(
        Config.string("SFOX_USER_API_URL").pipe(Config.withDefault("https://api.sfox.com")),
        (baseUrl) => SfoxUserApi.layer({ baseUrl })
      )
    )
}

const failed = (
  reason: DepositFailed["reason"],
  description: string,
  extra: { readonly status?: number; readonly retryAfterSeconds?: number } = {}
) => new DepositFailed({ reason, description, ...extra })

const ErrorBody = Schema.Struct({ error: Schema.String })

/** sFOX's `error` text, short and without the token in case sFOX echoes it. */
const reasonOf = (body: string, secret: string): string => {
  const decoded = Schema.decodeUnknownOption(Schema.parseJson(ErrorBody))(body)
  const text = decoded._tag === "Some" ? decoded.value.error : "no reason given"
  return text.split(secret).join("[token]").slice(0, 200)
}

const classify = (
  response: HttpClientResponse.HttpClientResponse,
  secret: string
): Effect.Effect<AchDeposit, DepositFailed, never> =>
  Effect.flatMap(
    Effect.mapError(response.text, () => failed("Transport", "sFOX's answer was cut short")),
    (body): Effect.Effect<AchDeposit, DepositFailed> => {
      const status = response.status
      if (status >= 200 && status < 300) {
        return Effect.mapError(
          Schema.decodeUnknown(Schema.parseJson(AchDeposit))(body),
          () => failed("Unavailable", "sFOX's answer is not a deposit", { status })
        )
      }
      const reason = reasonOf(body, secret)
      if (status === 400 || status === 422) return Effect.fail(failed("Rejected", reason, { status }))
      if (status === 401 || status === 403) return Effect.fail(failed("TokenRefused", reason, { status }))
      if (status === 429) {
        const hint = response.headers["retry-after"]
        const retryAfterSeconds = hint !== undefined && /^\d+$/.test(hint) ? Number(hint) : 60
        return Effect.fail(failed("RateLimited", reason, { status, retryAfterSeconds }))
      }
      return Effect.fail(failed("Unavailable", reason, { status }))
    }
  )
