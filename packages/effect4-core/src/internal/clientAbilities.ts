import type * as Fiber from "effect/Fiber"

/**
 * What an `HttpClient` may declare of itself to the service, and what the
 * request pipeline reads: whether it ends an attempt at its deadline itself
 * (then the attempt runs on the caller's fiber, under one plain timer) and
 * whether it is plain (follows no redirect, records no header: then the
 * origin guard skips its per-request context settings). The one place both
 * the pipeline and a client's declarations (`AttemptDeadline`, `PlainClient`,
 * NodeSfox's lean client) meet; not for users.
 *
 * Global values, so that two copies of the package in one program (ESM and
 * CommonJS) agree.
 */

/** The end of the attempt in progress, as a client that enforces it sees it. */
export interface AttemptDeadline {
  /** Calls `abort` once when the attempt's time is up (at once if it is); never once the attempt is over. */
  readonly onExpiry: (abort: () => void) => void
}

// Effect 4 has no `GlobalValue` module: the one shared store is `globalThis`,
// under a registered symbol both copies of the package name alike.
const globalValue = <A>(key: string, make: () => A): A => {
  const store = globalThis as { [key: symbol]: unknown }
  const symbol = Symbol.for(key)
  if (!(symbol in store)) store[symbol] = make()
  return store[symbol] as A
}

/**
 * The deadline of the attempt each fiber is running, for a client that
 * enforces it. An entry lives from the attempt's start to its end, whatever
 * the end (the attempt's exit handler removes it); weak, so that a fiber is
 * never held by it.
 */
export const deadlines: WeakMap<Fiber.Fiber<unknown, unknown>, AttemptDeadline> = globalValue(
  "@sfox-effect/effect4-core/AttemptDeadline/deadlines",
  () => new WeakMap<Fiber.Fiber<unknown, unknown>, AttemptDeadline>()
)

const enforcing = globalValue("@sfox-effect/effect4-core/AttemptDeadline/enforcing", () => new WeakSet<object>())

const plain = globalValue("@sfox-effect/effect4-core/PlainClient/plain", () => new WeakSet<object>())

/** Declares that `client` aborts its requests when the attempt's deadline (`deadlines`) expires. */
export const declareEnforcesDeadline = <C extends object>(client: C): C => {
  enforcing.add(client)
  return client
}

/** Whether `client` itself was declared with `declareEnforcesDeadline` (a client made from it is not). */
export const enforcesDeadline = (client: object): boolean => enforcing.has(client)

/** Declares that `client` follows no redirect and records no header. */
export const declarePlain = <C extends object>(client: C): C => {
  plain.add(client)
  return client
}

/** Whether `client` itself was declared with `declarePlain`. */
export const isPlain = (client: object): boolean => plain.has(client)
