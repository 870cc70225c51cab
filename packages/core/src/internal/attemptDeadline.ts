import type * as Fiber from "effect/Fiber"
import { globalValue } from "effect/GlobalValue"
import type { AttemptDeadline } from "./clientProtocol.js"

/**
 * The deadline of the attempt each fiber is running, for a client that
 * enforces it. An entry lives from the attempt's start to its end, whatever
 * the end (the pipeline removes it in the attempt's exit handler); weak, so
 * that a fiber is never held by it. Global, so that two copies of the
 * package in one program (ESM and CommonJS) share it.
 */
export const deadlines: WeakMap<Fiber.RuntimeFiber<unknown, unknown>, AttemptDeadline> = globalValue(
  Symbol.for("@sfox-effect/core/AttemptDeadline/deadlines"),
  () => new WeakMap<Fiber.RuntimeFiber<unknown, unknown>, AttemptDeadline>()
)
