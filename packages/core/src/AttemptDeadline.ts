/**
 * `AttemptDeadline`: an `HttpClient` that ends an attempt at its deadline
 * itself, so that the service need not race the attempt against a timer.
 *
 * Every attempt of the service's request pipeline has a time limit (the
 * `timeout` option, or what is left of the call's `deadline`). For any
 * `HttpClient` the attempt runs in a fiber of its own that is interrupted at
 * the limit. A client that declares itself with `enforcedBy` is trusted
 * instead to abort its requests when the attempt's `AttemptDeadline` (read
 * with `unsafeCurrent` on the fiber that runs the request) expires: the attempt then runs on the caller's fiber, and
 * fails with the same `TransportError` when its time is up. `NodeSfox`'s
 * client is one; only implementers of an `HttpClient` need this module.
 *
 * The declaration holds for one client value: a client made from it by any
 * combinator (`HttpClient.mapRequest`, `HttpClient.retry`, the service's
 * `transformClient`, …) is not declared, and its attempts are raced against
 * a timer as any other client's, since what it adds (a wait, another request)
 * may be beyond the reach of the abort. Under a `Clock` other than the live
 * one (`TestClock`) every attempt is raced too, on that clock.
 *
 * @since 0.2.0
 */
import type * as HttpClient from "@effect/platform/HttpClient"
import * as Effect from "effect/Effect"
import type * as Fiber from "effect/Fiber"
import { globalValue } from "effect/GlobalValue"
import * as Option from "effect/Option"
import * as Internal from "./internal/attemptDeadline.js"

/**
 * The end of the attempt in progress, as a client that enforces it sees it.
 *
 * @example
 * ```ts
 * import type { AttemptDeadline } from "@sfox-effect/core"
 *
 * // A request's own abort, hooked to the attempt's end.
 * const abortAtDeadline = (deadline: AttemptDeadline.AttemptDeadline, controller: AbortController): void =>
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
 * (`Effect.withFiberRuntime`), on the fiber that runs it: the attempt's
 * deadline belongs to that fiber alone, and a fiber the client forks does
 * not see it.
 *
 * Kept beside the fiber rather than in a `FiberRef`: setting and restoring a
 * `FiberRef` around every attempt copies the fiber's refs twice, a cost the
 * benchmark could see on every mint.
 *
 * @example
 * ```ts
 * import { AttemptDeadline } from "@sfox-effect/core"
 * import { Effect } from "effect"
 *
 * // Inside a declared client's request: is there an attempt deadline to honour?
 * const hasDeadline = Effect.withFiberRuntime((fiber) =>
 *   Effect.succeed(AttemptDeadline.unsafeCurrent(fiber) !== undefined)
 * )
 * ```
 *
 * @since 0.2.0
 * @category getters
 */
export const unsafeCurrent = (fiber: Fiber.RuntimeFiber<unknown, unknown>): AttemptDeadline | undefined =>
  Internal.deadlines.get(fiber)

/**
 * The deadline of the attempt the current fiber is running, when its client
 * enforces it; `None` anywhere else. The effect form of `unsafeCurrent`.
 *
 * @example
 * ```ts
 * import { AttemptDeadline } from "@sfox-effect/core"
 * import { Effect, Option } from "effect"
 *
 * // Inside a declared client's request: is there an attempt deadline to honour?
 * const hasDeadline = Effect.map(AttemptDeadline.current, Option.isSome)
 * ```
 *
 * @since 0.2.0
 * @category getters
 */
export const current: Effect.Effect<Option.Option<AttemptDeadline>> = Effect.withFiberRuntime((fiber) =>
  Effect.succeed(Option.fromNullable(Internal.deadlines.get(fiber)))
)

const enforcing = globalValue(
  Symbol.for("@sfox-effect/core/AttemptDeadline/enforcing"),
  () => new WeakSet<object>()
)

/**
 * Declares that `client` enforces the attempt's deadline: every request it
 * makes while `unsafeCurrent` shows one is aborted at it, whether it waits
 * for its answer or its body is being read, and the effect waiting on it
 * fails. Returns `client` itself.
 *
 * @example
 * ```ts
 * import { AttemptDeadline } from "@sfox-effect/core"
 * import { HttpClient, HttpClientError, HttpClientResponse } from "@effect/platform"
 * import { Effect } from "effect"
 *
 * // A client over `fetch` that aborts its request when the attempt's time is up.
 * const client = AttemptDeadline.enforcedBy(
 *   HttpClient.makeWith(
 *     Effect.flatMap((request) =>
 *       Effect.withFiberRuntime<HttpClientResponse.HttpClientResponse, HttpClientError.HttpClientError>((fiber) => {
 *         const controller = new AbortController()
 *         AttemptDeadline.unsafeCurrent(fiber)?.onExpiry(() => controller.abort())
 *         return Effect.tryPromise({
 *           try: () => fetch(request.url, { method: request.method, signal: controller.signal }),
 *           catch: (cause) => new HttpClientError.RequestError({ request, reason: "Transport", cause })
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
export const enforcedBy = <E, R>(client: HttpClient.HttpClient.With<E, R>): HttpClient.HttpClient.With<E, R> => {
  enforcing.add(client)
  return client
}

/**
 * Whether `client` was declared with `enforcedBy`.
 *
 * @example
 * ```ts
 * import { AttemptDeadline } from "@sfox-effect/core"
 * import { FetchHttpClient, HttpClient } from "@effect/platform"
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
export const isEnforcedBy = <E, R>(client: HttpClient.HttpClient.With<E, R>): boolean => enforcing.has(client)
