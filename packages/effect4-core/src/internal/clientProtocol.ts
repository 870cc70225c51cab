/**
 * The protocol between core's request pipeline and an `HttpClient` that
 * declares abilities of its own (`NodeSfox`'s lean undici client is the one
 * such client). NOT FOR USERS: reached through the subpath
 * `@sfox-effect/effect4-core/internal/clientProtocol`, it is not covered by
 * semver and may change in any release.
 *
 * Two declarations, each holding for one client value (a client made from
 * it by any combinator — `HttpClient.mapRequest`, `HttpClient.retry`, the
 * service's `transformClient`, … — is not declared):
 *
 * - `enforcedBy`: the client ends each attempt at its deadline itself (it
 *   reads the attempt's `AttemptDeadline` with `unsafeCurrent` on the fiber
 *   that runs the request and aborts at its expiry), so the service runs the
 *   attempt on the caller's fiber with a plain timer instead of racing it in
 *   a fiber of its own. Under a `Clock` other than the live one
 *   (`TestClock`) every attempt is raced anyway, on that clock.
 * - `declare`: the client follows no redirect and records no header (no
 *   span, no log), so the service need not set fetch's `redirect: "manual"`
 *   nor mark header names redacted around each request. Redirects are
 *   refused and the origin checked for every client alike.
 *
 * @since 0.2.0
 */
import * as Effect from "effect/Effect"
import type * as Fiber from "effect/Fiber"
import type * as HttpClient from "effect/http/HttpClient"
import * as Option from "effect/Option"
import * as Abilities from "./clientAbilities.js"

/**
 * The end of the attempt in progress, as a client that enforces it sees it.
 *
 * @example
 * ```ts
 * import type { AttemptDeadline } from "@sfox-effect/effect4-core/internal/clientProtocol"
 *
 * // A request's own abort, hooked to the attempt's end.
 * const abortAtDeadline = (deadline: AttemptDeadline, controller: AbortController): void =>
 *   deadline.onExpiry(() => controller.abort())
 * ```
 *
 * @since 0.2.0
 * @category models
 */
export interface AttemptDeadline {
  /**
   * Calls `abort` once, when the attempt's time is up (at once if it is
   * already): the client aborts the request there, and every effect still
   * waiting on it (the response, its body) fails soon after. Once the
   * attempt is over, `abort` is never called.
   */
  readonly onExpiry: (abort: () => void) => void
}

/**
 * The deadline of the attempt `fiber` is running, when its client enforces
 * it; `undefined` anywhere else. Read it inside the client's request effect
 * (`Effect.withFiber`, or the fiber `HttpClient.make` hands its runner), on
 * the fiber that runs it: the attempt's deadline belongs to that fiber alone,
 * and a fiber the client forks does not see it.
 *
 * Kept beside the fiber rather than in a `Context.Reference`: providing a
 * reference around every attempt copies the fiber's context, a cost on every
 * mint, where a weak map's entry is two steps.
 *
 * @example
 * ```ts
 * import * as AttemptDeadline from "@sfox-effect/effect4-core/internal/clientProtocol"
 * import { Effect } from "effect"
 *
 * // Inside a declared client's request: is there an attempt deadline to honour?
 * const hasDeadline = Effect.withFiber((fiber) =>
 *   Effect.succeed(AttemptDeadline.unsafeCurrent(fiber) !== undefined)
 * )
 * ```
 *
 * @since 0.2.0
 * @category getters
 */
export const unsafeCurrent = (fiber: Fiber.Fiber<unknown, unknown>): AttemptDeadline | undefined =>
  Abilities.deadlines.get(fiber)

/**
 * The deadline of the attempt the current fiber is running, when its client
 * enforces it; `None` anywhere else. The effect form of `unsafeCurrent`.
 *
 * @example
 * ```ts
 * import * as AttemptDeadline from "@sfox-effect/effect4-core/internal/clientProtocol"
 * import { Effect, Option } from "effect"
 *
 * // Inside a declared client's request: is there an attempt deadline to honour?
 * const hasDeadline = Effect.map(AttemptDeadline.current, Option.isSome)
 * ```
 *
 * @since 0.2.0
 * @category getters
 */
export const current: Effect.Effect<Option.Option<AttemptDeadline>> = Effect.withFiber((fiber) =>
  Effect.succeed(Option.fromUndefinedOr(Abilities.deadlines.get(fiber)))
)

/**
 * Declares that `client` enforces the attempt's deadline: every request it
 * makes while `unsafeCurrent` shows one is aborted at it, whether it waits
 * for its answer or its body is being read, and the effect waiting on it
 * fails. Returns `client` itself.
 *
 * @example
 * ```ts
 * import * as AttemptDeadline from "@sfox-effect/effect4-core/internal/clientProtocol"
 * import { HttpClient, HttpClientError, HttpClientResponse } from "effect/http"
 * import { Effect } from "effect"
 *
 * // A client over `fetch` that aborts its request when the attempt's time is up.
 * const client = AttemptDeadline.enforcedBy(
 *   HttpClient.makeWith(
 *     Effect.flatMap((request) =>
 *       Effect.withFiber<HttpClientResponse.HttpClientResponse, HttpClientError.HttpClientError>((fiber) => {
 *         const controller = new AbortController()
 *         AttemptDeadline.unsafeCurrent(fiber)?.onExpiry(() => controller.abort())
 *         return Effect.tryPromise({
 *           try: () => fetch(request.url, { method: request.method, signal: controller.signal }),
 *           catch: (cause) =>
 *             new HttpClientError.HttpClientError({ reason: new HttpClientError.TransportError({ request, cause }) })
 *         }).pipe(Effect.map((response) => HttpClientResponse.fromWeb(request, response)))
 *       })
 *     ),
 *     Effect.succeed
 *   )
 * )
 * ```
 *
 * @since 0.2.0
 * @category combinators
 */
export const enforcedBy = <E, R>(client: HttpClient.HttpClient.With<E, R>): HttpClient.HttpClient.With<E, R> =>
  Abilities.declareEnforcesDeadline(client)

/**
 * Whether `client` was declared with `enforcedBy`.
 *
 * @example
 * ```ts
 * import * as AttemptDeadline from "@sfox-effect/effect4-core/internal/clientProtocol"
 * import { FetchHttpClient, HttpClient } from "effect/http"
 * import { Effect } from "effect"
 *
 * // fetch's client is not declared: the service races its attempts against a timer.
 * const enforces = Effect.map(
 *   Effect.provide(HttpClient.HttpClient, FetchHttpClient.layer),
 *   AttemptDeadline.isEnforcedBy
 * )
 * ```
 *
 * @since 0.2.0
 * @category guards
 */
export const isEnforcedBy = <E, R>(client: HttpClient.HttpClient.With<E, R>): boolean =>
  Abilities.enforcesDeadline(client)

/**
 * Declares that `client` follows no redirect and records no header (no span
 * attributes, no logs of requests). Returns `client` itself.
 *
 * @example
 * ```ts
 * import * as PlainClient from "@sfox-effect/effect4-core/internal/clientProtocol"
 * import { HttpClient, HttpClientResponse } from "effect/http"
 * import { Effect } from "effect"
 *
 * // A client that answers every request itself: it follows nothing and records nothing.
 * const client = PlainClient.declare(
 *   HttpClient.make((request) =>
 *     Effect.succeed(HttpClientResponse.fromWeb(request, new Response("{}", { status: 200 })))
 *   )
 * )
 * ```
 *
 * @since 0.2.0
 * @category combinators
 */
export const declare = <E, R>(client: HttpClient.HttpClient.With<E, R>): HttpClient.HttpClient.With<E, R> =>
  Abilities.declarePlain(client)

/**
 * Whether `client` itself was declared with `declare`.
 *
 * @example
 * ```ts
 * import * as PlainClient from "@sfox-effect/effect4-core/internal/clientProtocol"
 * import { FetchHttpClient, HttpClient } from "effect/http"
 * import { Effect } from "effect"
 *
 * // fetch follows redirects unless told otherwise: it is not a plain client.
 * const isPlain = Effect.map(
 *   Effect.provide(HttpClient.HttpClient, FetchHttpClient.layer),
 *   PlainClient.isDeclared
 * )
 * ```
 *
 * @since 0.2.0
 * @category guards
 */
export const isDeclared = <E, R>(client: HttpClient.HttpClient.With<E, R>): boolean => Abilities.isPlain(client)
