/**
 * `SharedLimiterMachine` driven directly: random sequences of calls asking
 * (Redis up or down, any longest wait), the shared budget failing, fallback
 * turns starting and ending, and the clock moving. The promises checked:
 *
 * - the shared budget is never used while a fallback turn is held or its
 *   window is still open (here the two budgets never add up in one window),
 *   nor while Redis is down once the fallback engaged;
 * - a wait never exceeds the caller's longest wait, and `Late` only when the
 *   time that must pass does;
 * - one warning when the fallback engages, one when the shared budget is
 *   back, alternating;
 * - once Redis is up, no fallback turn held and its window closed, a call
 *   goes back to the shared budget.
 */
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { SharedLimiterMachine } from "../src/index.js"

const fallbackWindow = 100

type Action =
  | { readonly _tag: "ask"; readonly redisReady: boolean; readonly maxWait: number }
  | { readonly _tag: "sharedFailed" }
  | { readonly _tag: "fallbackEnds"; readonly pick: number }
  | { readonly _tag: "advance"; readonly millis: number }

const action: fc.Arbitrary<Action> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({ redisReady: fc.boolean(), maxWait: fc.constantFrom(0, 10, 20, 50, 150, Infinity) }).map((
      a
    ) => ({ _tag: "ask", ...a }) as const)
  },
  { weight: 1, arbitrary: fc.constant({ _tag: "sharedFailed" } as const) },
  { weight: 2, arbitrary: fc.nat(5).map((pick) => ({ _tag: "fallbackEnds", pick }) as const) },
  { weight: 2, arbitrary: fc.constantFrom(1, 20, 50, 101).map((millis) => ({ _tag: "advance", millis }) as const) }
)

const fail = (message: string): never => {
  throw new Error(message)
}

const run = (actions: ReadonlyArray<Action>) => {
  let state = SharedLimiterMachine.initial(fallbackWindow)
  let now = 0
  let held = 0
  let lastFallbackEnd = -Infinity
  const warnings: Array<string> = []
  const feed = (event: SharedLimiterMachine.Event) => {
    const next = SharedLimiterMachine.step(state, event, now)
    state = next.state
    return next.commands
  }
  const use = (commands: ReadonlyArray<SharedLimiterMachine.Command>, a?: Extract<Action, { _tag: "ask" }>) => {
    const engaged = warnings.at(-1) === "WarnEngaged"
    for (const c of commands) {
      if (c._tag === "WarnEngaged" || c._tag === "WarnBack") {
        if (warnings.at(-1) === c._tag) fail(`${c._tag} twice in a row`)
        warnings.push(c._tag)
      }
      if (c._tag === "UseShared" && (held > 0 || now < lastFallbackEnd + fallbackWindow)) {
        fail(`shared budget used at ${now} with ${held} fallback turns held, the last ended at ${lastFallbackEnd}`)
      }
      if (c._tag === "UseShared" && a !== undefined && !a.redisReady && engaged) {
        fail("shared budget used while Redis is down after the fallback engaged")
      }
      if (c._tag === "UseFallback") {
        held++
        feed({ _tag: "FallbackStarted" })
      }
      if (
        c._tag === "WaitThenAsk" &&
        (a === undefined || c.millis > a.maxWait || c.maxWaitMillis !== a.maxWait - c.millis)
      ) {
        fail(`waits ${c.millis} ms beyond a longest wait of ${a?.maxWait}`)
      }
      if (c._tag === "Late" && a !== undefined && held === 0 && now + a.maxWait >= lastFallbackEnd + fallbackWindow) {
        fail(`late at ${now} though the fallback's window closes within the wait of ${a.maxWait}`)
      }
    }
  }
  for (const a of actions) {
    switch (a._tag) {
      case "ask": {
        const ready = a.redisReady && held === 0 && now >= lastFallbackEnd + fallbackWindow
        const commands = feed({ _tag: "Ask", redisReady: a.redisReady, maxWaitMillis: a.maxWait })
        use(commands, a)
        if (ready && !commands.some((c) => c._tag === "UseShared")) fail(`not back on the shared budget at ${now}`)
        break
      }
      case "sharedFailed":
        use(feed({ _tag: "SharedFailed" }))
        break
      case "fallbackEnds":
        if (held === 0) break
        held--
        lastFallbackEnd = now
        feed({ _tag: "FallbackEnded" })
        break
      case "advance":
        now += a.millis
    }
  }
}

describe("SharedLimiterMachine (model-based, pure)", () => {
  it("never adds the two budgets up in one window, waits within the caller's wait, warns once each way", () => {
    fc.assert(fc.property(fc.array(action, { maxLength: 40 }), run), { numRuns: 10_000 })
  })

  it("commandBound and afterAnswer keep to the caller's time", () => {
    fc.assert(
      fc.property(fc.integer({ min: -5, max: 2_000 }), fc.integer({ min: 1, max: 1_000 }), (left, timeout) => {
        const bound = SharedLimiterMachine.commandBound(left, timeout)
        expect(bound.millis).toBeGreaterThanOrEqual(1)
        expect(bound.millis).toBeLessThanOrEqual(timeout)
        expect(bound.callerBound).toBe(left < timeout)
        if (bound.callerBound) expect(bound.millis).toBe(Math.max(1, left))
      }),
      { numRuns: 10_000 }
    )
    fc.assert(
      fc.property(fc.nat(1_000), fc.nat(1_000), fc.nat(2_000), (wait, now, deadline) => {
        const next = SharedLimiterMachine.afterAnswer(wait, now, deadline)
        if (wait === 0) expect(next._tag).toBe("Granted")
        else if (next._tag === "SleepThenAsk") expect(now + next.millis).toBeLessThanOrEqual(deadline)
        else expect(next._tag === "Late" && now + wait > deadline).toBe(true)
      }),
      { numRuns: 10_000 }
    )
  })
})
