/**
 * `PlainClient`: an `HttpClient` that sends exactly the request it is given,
 * follows no redirect and records no header anywhere (no span, no log).
 *
 * Around any other client the service adds, on every request, what keeps the
 * key where it belongs: `FetchHttpClient.RequestInit` set to
 * `redirect: "manual"` (so that fetch does not follow a redirect with the
 * key), and every header name marked redacted (so that a tracing client's
 * span shows none of their values). Both are set on the fiber for the request
 * and put back after it, which costs a noticeable share of a mint's CPU. A
 * client declared with `declare` needs neither: `NodeSfox`'s lean client is
 * one. Redirect answers are refused and the origin checked for every client
 * alike. Only implementers of an `HttpClient` need this module, and only for
 * a client that truly neither follows redirects nor records headers.
 *
 * The declaration holds for one client value: a client made from it by any
 * combinator (`HttpClient.followRedirects`, `HttpClient.withTracerPropagation`,
 * …) is not declared.
 *
 * @since 0.2.0
 */
import type * as HttpClient from "@effect/platform/HttpClient"
import { globalValue } from "effect/GlobalValue"

const plain = globalValue(
  Symbol.for("@sfox-effect/core/PlainClient/plain"),
  () => new WeakSet<object>()
)

/**
 * Declares that `client` follows no redirect and records no header (no span
 * attributes, no logs of requests). Returns `client` itself.
 *
 * @example
 * ```ts
 * import { PlainClient } from "@sfox-effect/core"
 * import { HttpClient, HttpClientResponse } from "@effect/platform"
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
export const declare = <E, R>(client: HttpClient.HttpClient.With<E, R>): HttpClient.HttpClient.With<E, R> => {
  plain.add(client)
  return client
}

/**
 * Whether `client` itself was declared with `declare`.
 *
 * @example
 * ```ts
 * import { PlainClient } from "@sfox-effect/core"
 * import { FetchHttpClient, HttpClient } from "@effect/platform"
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
export const isDeclared = (client: HttpClient.HttpClient.With<unknown, unknown>): boolean => plain.has(client)
