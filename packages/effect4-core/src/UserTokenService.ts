/**
 * `UserTokenService` mints sFOX Enterprise user auth tokens over any
 * `HttpClient`: one user at a time (`create`), many at once (`createMany`),
 * or auto-batched across fibers (`get`).
 *
 * @since 0.1.0
 */
import type * as Config from "effect/Config"
import * as Context from "effect/Context"
import type * as Duration from "effect/Duration"
import type * as Effect from "effect/Effect"
import type * as HttpClient from "effect/http/HttpClient"
import type * as HttpClientError from "effect/http/HttpClientError"
import * as Layer from "effect/Layer"
import type * as Redacted from "effect/Redacted"
import type * as Schedule from "effect/Schedule"
import type * as Scope from "effect/Scope"
import * as Options from "./internal/options.js"
import * as Internal from "./internal/userTokenService.js"
import type { EmptyBatch, InvalidUserId, RequestFailure, UserTokenError } from "./SfoxError.js"
import type { UserAuthToken } from "./UserAuthToken.js"

/**
 * The service that mints user auth tokens.
 *
 * @example
 * ```ts
 * import { UserTokenService } from "@sfox-effect/effect4-core"
 * import { FetchHttpClient } from "effect/http"
 * import { Effect, Redacted } from "effect"
 *
 * const program = Effect.gen(function*() {
 *   const tokens = yield* UserTokenService
 *   const token = yield* tokens.create("156c5beb-7c9f-4f68-83c0-9479703ac490")
 *   return token.expires
 * })
 *
 * program.pipe(
 *   Effect.provide(UserTokenService.layer({ apiKey: Redacted.make("my-enterprise-key") })),
 *   Effect.provide(FetchHttpClient.layer)
 * )
 * ```
 *
 * @since 0.1.0
 * @category services
 */
export class UserTokenService extends Context.Service<UserTokenService, UserTokenService.Service>()(
  "@sfox-effect/effect4-core/UserTokenService"
) {
  /**
   * Builds the service from explicit options. Fails with a `ConfigError`
   * when an option is out of range (a `baseUrl` that is not `https:`, say).
   * Scoped: the service's batcher and cache live as long as the scope, which
   * is what a test or a short script wants without building a layer.
   *
   * @example
   * ```ts
   * import { UserTokenService } from "@sfox-effect/effect4-core"
   * import { FetchHttpClient } from "effect/http"
   * import { Effect, Redacted } from "effect"
   *
   * const program = Effect.gen(function*() {
   *   const tokens = yield* UserTokenService.make({ apiKey: Redacted.make("my-enterprise-key"), timeout: "5 seconds" })
   *   return yield* tokens.createMany(["user-1", "user-2"])
   * }).pipe(Effect.scoped, Effect.provide(FetchHttpClient.layer))
   * ```
   *
   * @since 0.1.0
   */
  static readonly make: (
    options: UserTokenService.Options
  ) => Effect.Effect<UserTokenService.Service, Config.ConfigError, HttpClient.HttpClient | Scope.Scope> = Internal.make

  /**
   * The service as a layer over whatever `HttpClient` the program provides.
   * The client is left to the caller so that the same layer runs on Node,
   * in a browser, or over `FakeSfox` in tests.
   *
   * Like every Effect 4 layer, one layer value is built once for as long as
   * it is in use: providing the same value again inside a program that
   * already provides it (a nested `Effect.provide`) gives the service built
   * first, its batcher, cache and limiter included. Each `layer(...)` call is
   * a new value; `Layer.fresh` builds a second service from the same one.
   *
   * @example
   * ```ts
   * import { UserTokenService } from "@sfox-effect/effect4-core"
   * import { FetchHttpClient } from "effect/http"
   * import { Layer, Redacted } from "effect"
   *
   * const Tokens = UserTokenService.layer({
   *   apiKey: Redacted.make("my-enterprise-key"),
   *   baseUrl: "https://api.staging.sfox.com",
   *   cache: true
   * }).pipe(Layer.provide(FetchHttpClient.layer))
   * ```
   *
   * @since 0.1.0
   */
  static readonly layer = (
    options: UserTokenService.Options
  ): Layer.Layer<UserTokenService, Config.ConfigError, HttpClient.HttpClient> =>
    Layer.effect(UserTokenService, Internal.make(options))

  /**
   * The service from configuration: the API key from
   * `SFOX_ENTERPRISE_API_KEY` (or the seeds' `ENTERPRISE_API_KEY`), the base
   * URL from `SFOX_BASE_URL` (production when unset). Each can be replaced by
   * another `Config`; the other options are given as they are.
   *
   * @example
   * ```ts
   * import { UserTokenService } from "@sfox-effect/effect4-core"
   * import { FetchHttpClient } from "effect/http"
   * import { Config, Layer } from "effect"
   *
   * // The key from a secret of our own naming, everything else as usual.
   * const Tokens = UserTokenService.layerConfig({
   *   apiKey: Config.Redacted("PAYMENTS_SFOX_KEY"),
   *   maxBatchSize: 500
   * }).pipe(Layer.provide(FetchHttpClient.layer))
   * ```
   *
   * @since 0.1.0
   */
  static readonly layerConfig = (
    options: UserTokenService.ConfigOptions = {}
  ): Layer.Layer<UserTokenService, Config.ConfigError, HttpClient.HttpClient> =>
    Layer.effect(UserTokenService, Options.fromConfig(options, apiKeyConfig, baseUrlConfig, Internal.make))
}

/**
 * The API key from `SFOX_ENTERPRISE_API_KEY`, falling back to the
 * `ENTERPRISE_API_KEY` the sFOX documentation uses. An empty variable counts
 * as unset, so the fallback still applies.
 *
 * @example
 * ```ts
 * import { apiKeyConfig } from "@sfox-effect/effect4-core"
 * import { Config } from "effect"
 *
 * // Prefer a key of our own, then the usual variables.
 * const key = Config.Redacted("PAYMENTS_SFOX_KEY").pipe(Config.orElse(() => apiKeyConfig))
 * ```
 *
 * @since 0.1.0
 * @category config
 */
export const apiKeyConfig: Config.Config<Redacted.Redacted<string>> = Options.apiKeyConfig

/**
 * The base URL from `SFOX_BASE_URL`, when set (`undefined` means production).
 *
 * @example
 * ```ts
 * import { baseUrlConfig, productionUrl } from "@sfox-effect/effect4-core"
 * import { Config } from "effect"
 *
 * const url = baseUrlConfig.pipe(Config.map((url) => url ?? productionUrl))
 * ```
 *
 * @since 0.1.0
 * @category config
 */
export const baseUrlConfig: Config.Config<string | undefined> = Options.baseUrlConfig

/**
 * sFOX's production API, the default `baseUrl`.
 *
 * @example
 * ```ts
 * import { productionUrl } from "@sfox-effect/effect4-core"
 *
 * const isProduction = (baseUrl: string) => new URL(baseUrl).origin === productionUrl
 * ```
 *
 * @since 0.1.0
 * @category constants
 */
export const productionUrl = Options.productionUrl

/**
 * The types of `UserTokenService`: the service itself and its options.
 *
 * @example
 * ```ts
 * import { UserTokenService } from "@sfox-effect/effect4-core"
 *
 * // Tests and wrappers can name the service's shape without building it.
 * const firstTwo = (tokens: UserTokenService.Service) => tokens.createMany(["user-1", "user-2"])
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export declare namespace UserTokenService {
  /**
   * What `yield* UserTokenService` gives: the three ways to mint, cache
   * invalidation, and `clientFor` to call sFOX as a user.
   *
   * @example
   * ```ts
   * import { UserTokenService } from "@sfox-effect/effect4-core"
   * import { FakeSfox } from "@sfox-effect/effect4-core/testing"
   * import { Effect } from "effect"
   *
   * // `get` for request handlers: concurrent calls become a few batch POSTs.
   * const tokensFor = (userIds: ReadonlyArray<string>) =>
   *   Effect.flatMap(UserTokenService, (tokens) => Effect.forEach(userIds, tokens.get, { concurrency: "unbounded" }))
   *
   * // In a test (`it.effect`), over the fake: completes without moving TestClock.
   * const program = tokensFor(["user-1", "user-2"]).pipe(Effect.provide(FakeSfox.layerTest()))
   * ```
   *
   * @since 0.1.0
   * @category models
   */
  export interface Service {
    /**
     * Mints a token for one user with `POST /v1/enterprise/user-tokens/{userId}`.
     */
    readonly create: (userId: string) => Effect.Effect<UserAuthToken, InvalidUserId | RequestFailure>
    /**
     * Mints tokens for many users: distinct ids in first-seen order, sent in
     * chunks of `maxBatchSize`, up to `batchConcurrency` chunks at once. The
     * result holds one token per distinct id, in that order, each matched to
     * its user by `partner_user_id`.
     */
    readonly createMany: (
      userIds: Iterable<string>
    ) => Effect.Effect<ReadonlyArray<UserAuthToken>, InvalidUserId | EmptyBatch | RequestFailure>
    /**
     * A token for one user, auto-batched: calls from any number of fibers
     * within `batchWindow` (or until `maxBatchSize` ids wait) become one batch
     * request, and a batch waiting for its rate-limit turn (or for one of
     * `batchConcurrency`'s slots) takes later callers until it is full: its
     * request is built when its turn comes. Concurrent calls for the same
     * user share one mint. A failed
     * batch fails each of its callers with the same error; interrupting one
     * caller cancels nothing for the others. With `cache` on, a token with
     * more than `refreshBefore` of life left is served without a request.
     */
    readonly get: (userId: string) => Effect.Effect<UserAuthToken, InvalidUserId | RequestFailure>
    /**
     * Drops a user's cached token (a no-op without `cache`).
     */
    readonly invalidate: (userId: string) => Effect.Effect<void>
    /**
     * An `HttpClient` that acts as one end user, for the calls a token is
     * minted for (a balance, a deposit, an order):
     *
     * - paths are relative to `baseUrl` (`client.get("/v1/user/balance")`);
     *   an absolute URL to any other origin is refused (an
     *   `HttpClientError` whose `reason` is an `InvalidUrlError`) and
     *   nothing is sent;
     * - each request carries `Authorization: Bearer <token>`, the token from
     *   `get` (auto-batched, shared by concurrent requests, cached with
     *   `cache` on), never the enterprise key;
     * - each attempt takes a turn of the same rate limiter as the mints;
     * - a `401` invalidates the token, mints a new one and sends the request
     *   once more; a second `401` is returned as it is;
     * - a `429` is retried (its `Retry-After` within `maxRetryAfter`), and so
     *   is a connection that failed before the request was written; other
     *   failures (`5xx`, `408`, timeouts, connections cut after sending)
     *   are retried only for idempotent methods (`GET`, `HEAD`, `OPTIONS`,
     *   `PUT`, `DELETE`): a `POST` that may have reached sFOX is never sent
     *   twice; a request whose body is read as it is sent (`HttpBody.stream`,
     *   or `HttpBody.raw` of a `Readable`, an async iterable, a
     *   `ReadableStream`) is sent once, whatever happens: its first answer
     *   (a 503, a 401, whose token is then dropped) or failure is the
     *   caller's. Bytes, strings, `Blob`s and forms of them are sent again
     *   as they were;
     * - each read of the answer's body (`text`, `json`, `arrayBuffer`,
     *   `stream`, ...) takes at most `timeout`, and fails past it with an
     *   `HttpClientError` (its `reason` a `DecodeError`) whose `cause` is a
     *   `TransportError` `Timeout`;
     * - the response comes back as the platform's does, whatever its status
     *   (compose `HttpClient.filterStatusOk`, `HttpClientResponse.schemaBodyJson`);
     *   failures to get a token, or to get any answer, are the service's
     *   typed errors (`TransportError`, `Unauthorized`, ...).
     *
     * Neither the token nor the key appears in a response's `request`, an
     * error, a log line or a span.
     *
     * @example
     * ```ts
     * import { HttpClient, HttpClientResponse } from "effect/http"
     * import { UserTokenService } from "@sfox-effect/effect4-core"
     * import { Effect, Schema } from "effect"
     *
     * const Balance = Schema.Array(Schema.Struct({ currency: Schema.String, available: Schema.Number }))
     *
     * const balanceOf = (userId: string) =>
     *   Effect.gen(function*() {
     *     const tokens = yield* UserTokenService
     *     const client = tokens.clientFor(userId).pipe(HttpClient.filterStatusOk)
     *     const response = yield* client.get("/v1/user/balance")
     *     return yield* HttpClientResponse.schemaBodyJson(Balance)(response)
     *   })
     * ```
     *
     * @since 0.2.0
     */
    readonly clientFor: (
      userId: string
    ) => HttpClient.HttpClient.With<HttpClientError.HttpClientError | UserTokenError>
  }

  /**
   * Options of `make` and `layer`. Only `apiKey` is required. Every option is
   * checked when the layer is built: a wrong shape (`rateLimit: {}`, `true`)
   * or a value out of its documented range (`Infinity`, `batchWindow: "1
   * hour"`) fails the layer with a `ConfigError` whose path names the option.
   *
   * @example
   * ```ts
   * import { noRetry, UserTokenService } from "@sfox-effect/effect4-core"
   * import { Redacted } from "effect"
   *
   * const options: UserTokenService.Options = {
   *   apiKey: Redacted.make("my-enterprise-key"),
   *   timeout: "5 seconds",
   *   deadline: "20 seconds",
   *   retry: noRetry,
   *   rateLimit: { limit: 100, interval: "10 seconds" }
   * }
   * ```
   *
   * @since 0.1.0
   * @category models
   */
  export interface Options {
    /** The enterprise API key, sent as `Authorization: Bearer`. */
    readonly apiKey: Redacted.Redacted<string>
    /**
     * sFOX's base URL. `https:` only, or `http:` on a loopback host; no
     * credentials, query or fragment.
     * @default "https://api.sfox.com"
     */
    readonly baseUrl?: string | URL | undefined
    /**
     * Time allowed for one attempt, answer body included. A late attempt
     * fails with `TransportError` (`reason: "Timeout"`). For `clientFor`,
     * whose attempt ends with the answer's headers, each read of the body
     * is allowed this time too. At most 10 minutes.
     * @default "10 seconds"
     */
    readonly timeout?: Duration.Input | undefined
    /**
     * Time allowed for a whole call: rate-limit waits, attempts and retry
     * delays included. At most 1 hour.
     * @default "1 minute"
     */
    readonly deadline?: Duration.Input | undefined
    /**
     * The retry policy; replaces the default (`RetryPolicy.defaultRetry`).
     * Its input is the failure of the last attempt.
     */
    readonly retry?: Schedule.Schedule<unknown, UserTokenError> | undefined
    /**
     * The longest `Retry-After` the service will wait for. A longer hint on a
     * 429 fails at once with `RateLimited`; on a 5xx it is cut to this. At
     * most 1 hour.
     * @default "30 seconds"
     */
    readonly maxRetryAfter?: Duration.Input | undefined
    /**
     * Most user ids in one batch request (at most 100,000).
     * @default 100
     */
    readonly maxBatchSize?: number | undefined
    /**
     * Most batch requests of one `createMany` in flight at once (at most 1024).
     * For `get`, most batches starting at once: a batch counts from when it
     * asks for its rate-limit turn until its answer comes or one
     * `batchWindow` after its request left, whichever is first, so that
     * requests sFOX never answers do not hold back new users.
     * @default 4
     */
    readonly batchConcurrency?: number | undefined
    /**
     * Most ids one `createMany` call takes (at most 10,000,000). The input is
     * read inside the effect, a slice at a time with a return to the event
     * loop between slices; past this many ids the call fails with
     * `InvalidUserId` (its `index` is the first id too many) and sends
     * nothing, so an endless iterable ends there too.
     * @default 100000
     * @since 0.2.0
     */
    readonly maxIdsPerCall?: number | undefined
    /**
     * The client-side rate limit shared by every call of this service, or
     * `false` for none. Both fields are required: `limit` from 1 to
     * 1,000,000, `interval` positive and at most 1 hour.
     * @default { limit: 250, interval: "10 seconds" } (sFOX's documented limit)
     */
    readonly rateLimit?: { readonly limit: number; readonly interval: Duration.Input } | false | undefined
    /**
     * How long `get` gathers calls before sending them as one batch: zero to
     * 1 second.
     * @default "5 millis"
     */
    readonly batchWindow?: Duration.Input | undefined
    /**
     * An in-memory token cache for `get`, off by default: sFOX advises
     * minting tokens when needed. `true` for the defaults. Bounded to
     * `capacity` users (least recently used go first); a token is served only
     * while more than `refreshBefore` of its life remains, its life ending at
     * its `expires` or 24 h (sFOX's documented lifetime) after it was asked
     * for, whichever comes first: an `expires` far in the future is kept on
     * the token as sFOX said it, but never makes the cache serve it longer.
     * Nothing is ever written to disk. `capacity` is at most 10,000,000;
     * `refreshBefore` is shorter than a token's 24 h life.
     * @default false ({ capacity: 10000, refreshBefore: "5 minutes" } when on)
     */
    readonly cache?:
      | boolean
      | { readonly capacity?: number | undefined; readonly refreshBefore?: Duration.Input | undefined }
      | undefined
    /**
     * A last change to the `HttpClient` the service uses (tracing, a proxy
     * header, logging).
     */
    readonly transformClient?: ((client: HttpClient.HttpClient) => HttpClient.HttpClient) | undefined
  }

  /**
   * Options of `layerConfig`: the key and base URL as `Config`s, the rest as
   * plain values.
   *
   * @example
   * ```ts
   * import { UserTokenService } from "@sfox-effect/effect4-core"
   * import { Config } from "effect"
   *
   * const options: UserTokenService.ConfigOptions = {
   *   baseUrl: Config.String("PAYMENTS_SFOX_URL"),
   *   cache: { capacity: 1000, refreshBefore: "10 minutes" }
   * }
   * ```
   *
   * @since 0.1.0
   * @category models
   */
  export interface ConfigOptions extends Omit<Options, "apiKey" | "baseUrl"> {
    readonly apiKey?: Config.Config<Redacted.Redacted<string>> | undefined
    readonly baseUrl?: Config.Config<string | undefined> | undefined
  }
}
