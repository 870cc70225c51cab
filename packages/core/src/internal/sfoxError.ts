import { Failures } from "@sfox-effect/domain"
import type * as Duration from "effect/Duration"
import * as Predicate from "effect/Predicate"
import type { TransportError, UserTokenError } from "../SfoxError.js"

// Defined here, not in SfoxError.ts, so that this module imports no value
// from the public one (they import each other).
export const TypeId: unique symbol = Symbol.for("@sfox-effect/core/UserTokenError")

export const isUserTokenError = (u: unknown): u is UserTokenError => Predicate.hasProperty(u, TypeId)

/** A transport failure after which the request may be sent again (the rule: the domain's `Failures`). */
export const isResendable = (error: TransportError): boolean => Failures.isResendable(error.reason)

// The domain's `Failures.isTransient` takes every error of the family: a new
// error class does not compile here until the domain says whether it heals.
export const isTransient = (u: unknown): boolean => isUserTokenError(u) && Failures.isTransient(u)

export const retryAfterOf = (u: unknown): Duration.Duration | undefined => {
  if (!isUserTokenError(u)) return undefined
  if (u._tag === "RateLimited" || u._tag === "HttpFailure") return u.retryAfter
  return undefined
}
