/**
 * `LimiterMachine.step` driven directly: random sequences of callers asking
 * (with or without a longest wait), granted callers starting their request or
 * interrupted before it, requests ending, waiters interrupted, the clock
 * moving (timers firing at their instant, ties in any order) and the scope
 * closing. A small world runs the machine's commands as a shell would, and
 * after every step checks the limiter's promises:
 *
 * - no window of `window` ms holds more than `limit` requests, each counted
 *   from its start until `window` after it ended;
 * - turns go to waiters first come first served, and none is free while
 *   someone waits; no turn is lost nor made up;
 * - a caller fails late only once its wait is over, never while a turn is due
 *   back; no caller waits past its longest wait;
 * - a wait timer is armed exactly for each waiter with a bound, the release
 *   timer exactly while a turn is due back, and never after the first of them;
 * - in the end every waiter ends: granted, late, or unavailable at close.
 */
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { LimiterMachine } from "../src/index.js"

const window = 100

type Status = "waiting" | "granted" | "running" | "done" | "late" | "unavailable" | "interrupted" | "unused"

interface Caller {
  readonly id: number
  readonly deadline: number
  status: Status
  start?: number
  end?: number
}

interface World {
  machine: LimiterMachine.State
  now: number
  readonly callers: Array<Caller>
  readonly waitTimers: Map<number, number>
  releaseTimer: number | undefined
}

type Action =
  | { readonly _tag: "ask"; readonly maxWait: number }
  | { readonly _tag: "start" | "unused" | "finish" | "interrupt"; readonly pick: number }
  | { readonly _tag: "advance"; readonly millis: number; readonly ties: number }
  | { readonly _tag: "close" }
  /** The earliest timer fires a millisecond early, as a real one can. */
  | { readonly _tag: "fireEarly" }

const fail = (message: string): never => {
  throw new Error(message)
}

const runCommand = (w: World, command: LimiterMachine.Command) => {
  switch (command._tag) {
    case "Grant": {
      const c = w.callers[command.id]!
      if (c.status !== "waiting") fail(`granted caller ${c.id}, ${c.status}`)
      const first = w.callers.find((o) => o.status === "waiting")!
      if (first.id !== c.id) fail(`granted ${c.id} before ${first.id}, who waits longer`)
      c.status = "granted"
      w.waitTimers.delete(c.id)
      return
    }
    case "Fail": {
      const c = w.callers[command.id]!
      if (c.status !== "waiting") fail(`failed caller ${c.id}, ${c.status}`)
      if (command.reason === "late" && w.now < c.deadline) fail(`caller ${c.id} late at ${w.now}, before ${c.deadline}`)
      if (command.reason === "unavailable" && !w.machine.closed) fail(`caller ${c.id} unavailable while open`)
      c.status = command.reason
      w.waitTimers.delete(c.id)
      return
    }
    case "ArmWaitTimer":
      if (command.at !== w.callers[command.id]!.deadline) fail(`wait timer of ${command.id} at ${command.at}`)
      w.waitTimers.set(command.id, command.at)
      return
    case "ArmReleaseTimer":
      w.releaseTimer = command.at
      return
    case "DisarmReleaseTimer":
      w.releaseTimer = undefined
  }
}

const feed = (w: World, event: LimiterMachine.Event) => {
  const { commands, state } = LimiterMachine.step(w.machine, event, w.now)
  w.machine = state
  for (const command of commands) runCommand(w, command)
  const due = LimiterMachine.nextRelease(w.machine)
  if (commands.some((c) => c._tag === "Fail" && c.reason === "late") && due !== undefined && due <= w.now) {
    fail(`a caller failed late at ${w.now} while a turn was due back at ${due}`)
  }
}

const pick = (w: World, status: Status, at: number) => {
  const some = w.callers.filter((c) => c.status === status)
  return some.length === 0 ? undefined : some[at % some.length]
}

/** Fires every timer due by `to`, earliest first, ties in the order `ties` picks. */
const advance = (w: World, to: number, ties: number) => {
  for (let round = 0;; round++) {
    const due: Array<[number | "release", number]> = [...w.waitTimers].filter(([, at]) => at <= to)
    if (w.releaseTimer !== undefined && w.releaseTimer <= to) due.push(["release", w.releaseTimer])
    if (due.length === 0) break
    if (round > 1_000) fail(`timers fire for ever at ${w.now}`)
    const at = Math.min(...due.map(([, at]) => at))
    const now = due.filter(([, t]) => t === at)
    const [which] = now[(ties + round) % now.length]!
    w.now = Math.max(w.now, at)
    if (which === "release") {
      w.releaseTimer = undefined
      feed(w, { _tag: "ReleaseTimer" })
    } else {
      w.waitTimers.delete(which)
      feed(w, { _tag: "WaitTimer", id: which })
    }
  }
  w.now = Math.max(w.now, to)
}

const fireEarly = (w: World) => {
  const timers: Array<[number | "release", number]> = [...w.waitTimers]
  if (w.releaseTimer !== undefined) timers.push(["release", w.releaseTimer])
  if (timers.length === 0) return
  const [which, at] = timers.reduce((a, b) => (b[1] < a[1] ? b : a))
  w.now = Math.max(w.now, at - 1)
  if (which === "release") {
    w.releaseTimer = undefined
    return feed(w, { _tag: "ReleaseTimer" })
  }
  w.waitTimers.delete(which)
  return feed(w, { _tag: "WaitTimer", id: which })
}

const act = (w: World, a: Action) => {
  switch (a._tag) {
    case "ask": {
      const id = w.callers.length
      w.callers.push({ id, deadline: w.now + a.maxWait, status: "waiting" })
      return feed(w, { _tag: "Ask", id, maxWaitMillis: a.maxWait })
    }
    case "start":
    case "unused": {
      const c = pick(w, "granted", a.pick)
      if (c === undefined) return
      if (a._tag === "unused") {
        c.status = "unused"
        return feed(w, { _tag: "Unused" })
      }
      c.status = "running"
      c.start = w.now
      return
    }
    case "finish": {
      const c = pick(w, "running", a.pick)
      if (c === undefined) return
      c.status = "done"
      c.end = w.now
      return feed(w, { _tag: "Done" })
    }
    case "interrupt": {
      const c = pick(w, "waiting", a.pick)
      if (c === undefined) return
      c.status = "interrupted"
      w.waitTimers.delete(c.id)
      return feed(w, { _tag: "Interrupted", id: c.id })
    }
    case "advance":
      return advance(w, w.now + a.millis, a.ties)
    case "close":
      return feed(w, { _tag: "Close" })
    case "fireEarly":
      return fireEarly(w)
  }
}

const check = (w: World, limit: number, afterAdvance: boolean) => {
  const view = LimiterMachine.view(w.machine)
  const waiting = w.callers.filter((c) => c.status === "waiting")
  if (view.waiting.map((x) => x.id).join() !== waiting.map((c) => c.id).join()) {
    fail("queue is not the waiters in order")
  }
  if (view.free > 0 && waiting.length > 0) fail(`${view.free} turns free while ${waiting.length} wait`)
  const held = w.callers.filter((c) => c.status === "granted" || c.status === "running").length
  if (!view.closed && view.free + held + view.releases.length !== limit) fail("a turn was lost or made up")
  for (const c of w.callers) {
    if (c.start === undefined) continue
    const open = w.callers.filter((o) =>
      o.start !== undefined && o.start <= c.start! && (o.end === undefined || o.end + window > c.start!)
    )
    if (open.length > limit) fail(`${open.length} requests in the window at ${c.start}`)
  }
  const timed = waiting.filter((c) => Number.isFinite(c.deadline)).map((c) => c.id).join()
  if ([...w.waitTimers.keys()].sort((a, b) => a - b).join() !== timed) fail("wait timers are not the bounded waits")
  const first = view.releases[0]
  if (!view.closed && (first === undefined) !== (w.releaseTimer === undefined)) fail("release timer armed wrongly")
  if (first !== undefined && w.releaseTimer !== undefined && w.releaseTimer > first) fail("release timer too late")
  if (afterAdvance && waiting.some((c) => c.deadline <= w.now)) fail(`a caller waits past its wait at ${w.now}`)
}

/** Lets every request run and end, time pass, then closes: nobody may still wait. */
const drain = (w: World, limit: number) => {
  for (
    let round = 0;
    round < 1_000 && (w.callers.some(isLive) || (!w.machine.closed && w.machine.releases.size > 0));
    round++
  ) {
    for (const c of w.callers) if (c.status === "granted") act(w, { _tag: "start", pick: 0 })
    for (const c of w.callers) if (c.status === "running") act(w, { _tag: "finish", pick: 0 })
    act(w, { _tag: "advance", millis: window, ties: round })
    check(w, limit, true)
  }
  if (!w.machine.closed && LimiterMachine.view(w.machine).free !== limit) fail("turns missing once every window closed")
  act(w, { _tag: "close" })
  if (w.callers.some(isLive)) fail("a caller still waits after close")
}

const isLive = (c: Caller) => c.status === "waiting" || c.status === "granted" || c.status === "running"

const action: fc.Arbitrary<Action> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.constantFrom(0, 50, 100, 150, 250, Infinity).map((maxWait) => ({ _tag: "ask", maxWait }) as const)
  },
  { weight: 2, arbitrary: fc.nat(9).map((pick) => ({ _tag: "start", pick }) as const) },
  { weight: 1, arbitrary: fc.nat(9).map((pick) => ({ _tag: "unused", pick }) as const) },
  { weight: 2, arbitrary: fc.nat(9).map((pick) => ({ _tag: "finish", pick }) as const) },
  { weight: 1, arbitrary: fc.nat(9).map((pick) => ({ _tag: "interrupt", pick }) as const) },
  {
    weight: 3,
    arbitrary: fc.record({ millis: fc.constantFrom(0, 1, 49, 50, 100), ties: fc.nat(3) }).map((a) =>
      ({ _tag: "advance", ...a }) as const
    )
  },
  { weight: 1, arbitrary: fc.constant({ _tag: "close" } as const) },
  { weight: 1, arbitrary: fc.constant({ _tag: "fireEarly" } as const) }
)

export const runScenario = (limit: number, actions: ReadonlyArray<Action>) => {
  const w: World = {
    machine: LimiterMachine.initial(limit, window),
    now: 0,
    callers: [],
    waitTimers: new Map(),
    releaseTimer: undefined
  }
  for (const a of actions) {
    act(w, a)
    check(w, limit, a._tag === "advance")
  }
  drain(w, limit)
}

describe("LimiterMachine.step (model-based, pure)", () => {
  it("keeps the window, FIFO, every waiter's end and its timers, over any sequence of events", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 3 }), fc.array(action, { maxLength: 40 }), (limit, actions) => {
        runScenario(limit, actions)
      }),
      { numRuns: 10_000 }
    )
  })

  it("a caller whose wait ends at the instant a turn comes back gets it, whichever timer fires first", () => {
    for (const ties of [0, 1]) {
      const w: World = {
        machine: LimiterMachine.initial(1, window),
        now: 0,
        callers: [],
        waitTimers: new Map(),
        releaseTimer: undefined
      }
      act(w, { _tag: "ask", maxWait: 0 })
      act(w, { _tag: "start", pick: 0 })
      act(w, { _tag: "finish", pick: 0 })
      act(w, { _tag: "ask", maxWait: window })
      act(w, { _tag: "advance", millis: window, ties })
      expect(w.callers[1]!.status).toBe("granted")
    }
  })

  it("a snapshot counts the free turns, the callers waiting and the turns due back", () => {
    let state = LimiterMachine.initial(1, 1_000)
    expect(LimiterMachine.snapshot(state)).toEqual({ free: 1, waiting: 0, releases: [] })
    state = LimiterMachine.step(state, { _tag: "Ask", id: 1, maxWaitMillis: Infinity }, 0).state
    state = LimiterMachine.step(state, { _tag: "Ask", id: 2, maxWaitMillis: Infinity }, 0).state
    expect(LimiterMachine.snapshot(state)).toEqual({ free: 0, waiting: 1, releases: [] })
    state = LimiterMachine.step(state, { _tag: "Done" }, 10).state
    expect(LimiterMachine.snapshot(state)).toMatchObject({ free: 0, waiting: 1 })
    expect(LimiterMachine.snapshot(state).releases).toHaveLength(1)
  })
})
