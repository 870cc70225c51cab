/**
 * The example service's HTTP API, declared once with `HttpApi`: the server is
 * derived from it (`UserActions.ts`), and so could a typed client or an
 * OpenAPI document be.
 *
 * `POST /deposits` — the logged-in user asks for an ACH deposit; the service
 * mints that user's sFOX token and forwards the deposit to sFOX on their
 * behalf.
 */
import * as HttpApi from "@effect/platform/HttpApi"
import * as HttpApiEndpoint from "@effect/platform/HttpApiEndpoint"
import * as HttpApiGroup from "@effect/platform/HttpApiGroup"
import * as HttpApiMiddleware from "@effect/platform/HttpApiMiddleware"
import * as HttpApiSchema from "@effect/platform/HttpApiSchema"
import * as HttpApiSecurity from "@effect/platform/HttpApiSecurity"
import * as Context from "effect/Context"
import * as Schema from "effect/Schema"

// ---------------------------------------------------------------------------
// models

/** What the client sends: an amount in USD. */
export class DepositRequest extends Schema.Class<DepositRequest>("DepositRequest")({
  amount: Schema.Number.pipe(Schema.positive(), Schema.lessThanOrEqualTo(1_000_000))
}) {}

/** What the client gets back: the deposit as sFOX accepted it. */
export class Deposit extends Schema.Class<Deposit>("Deposit")({
  id: Schema.String,
  userId: Schema.String,
  amount: Schema.Number,
  status: Schema.String
}) {}

// ---------------------------------------------------------------------------
// errors: each one a status code and a JSON body; none carries a token, a key
// or sFOX's own wording about our credentials.

/** No session, or a session the service does not know. */
export class Unauthenticated extends Schema.TaggedError<Unauthenticated>()(
  "Unauthenticated",
  { message: Schema.String },
  HttpApiSchema.annotations({ status: 401 })
) {}

/** sFOX refused the deposit itself (amount over a limit, no linked bank…). */
export class DepositRejected extends Schema.TaggedError<DepositRejected>()(
  "DepositRejected",
  { message: Schema.String },
  HttpApiSchema.annotations({ status: 422 })
) {}

/** sFOX is rate limiting this service: come back later. */
export class SfoxBusy extends Schema.TaggedError<SfoxBusy>()(
  "SfoxBusy",
  { message: Schema.String, retryAfterSeconds: Schema.Number },
  HttpApiSchema.annotations({ status: 503 })
) {}

/** sFOX failed, refused this service's credentials, or answered nonsense. */
export class SfoxUnavailable extends Schema.TaggedError<SfoxUnavailable>()(
  "SfoxUnavailable",
  { message: Schema.String },
  HttpApiSchema.annotations({ status: 502 })
) {}

/** sFOX did not answer in time. */
export class SfoxTimeout extends Schema.TaggedError<SfoxTimeout>()(
  "SfoxTimeout",
  { message: Schema.String },
  HttpApiSchema.annotations({ status: 504 })
) {}

// ---------------------------------------------------------------------------
// authentication

/** The user the request acts for, provided by `Authentication`. */
export class CurrentUser extends Context.Tag("@sfox-effect/example-user-actions/CurrentUser")<
  CurrentUser,
  { readonly userId: string }
>() {}

/** `Authorization: Bearer <session>` → `CurrentUser`, or `Unauthenticated`. */
export class Authentication extends HttpApiMiddleware.Tag<Authentication>()("Authentication", {
  failure: Unauthenticated,
  provides: CurrentUser,
  security: { session: HttpApiSecurity.bearer }
}) {}

// ---------------------------------------------------------------------------
// the API

export class DepositsGroup extends HttpApiGroup.make("deposits")
  .add(
    HttpApiEndpoint.post("initiate", "/deposits")
      .setPayload(DepositRequest)
      .addSuccess(Deposit, { status: 201 })
      .addError(DepositRejected)
      .addError(SfoxBusy)
      .addError(SfoxUnavailable)
      .addError(SfoxTimeout)
  )
  .middleware(Authentication)
{}

export class UserActionsApi extends HttpApi.make("user-actions").add(DepositsGroup) {}
