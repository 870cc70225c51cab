/**
 * The batcher's pure machine, driven directly by random event sequences: a
 * harness plays the shell (it keeps the timers, the running batches and the
 * callers the commands speak of) and checks the rules after every event.
 */
import * as fc from "fast-check"
import * as assert from "node:assert/strict"
import { describe, it } from "vitest"
import { BatcherMachine as M } from "../src/index.js"

const byNumber = (x: number, y: number) => x - y
const maxBatchSize = 2
const concurrency = 2
const keys = ["a", "b", "c", "d", "e", "f", "g", "h"]

type Action =
  | { readonly _tag: "join"; readonly key: number }
  | { readonly _tag: "leave"; readonly pick: number }
  | { readonly _tag: "window"; readonly stale: number | undefined }
  | { readonly _tag: "turn"; readonly pick: number }
  | { readonly _tag: "hold"; readonly pick: number }
  | { readonly _tag: "settle"; readonly pick: number }
  | { readonly _tag: "close" }

const action: fc.Arbitrary<Action> = fc.oneof(
  { arbitrary: fc.record({ _tag: fc.constant("join" as const), key: fc.nat(keys.length - 1) }), weight: 6 },
  { arbitrary: fc.record({ _tag: fc.constant("leave" as const), pick: fc.nat() }), weight: 2 },
  {
    arbitrary: fc.record({ _tag: fc.constant("window" as const), stale: fc.option(fc.nat(20), { nil: undefined }) }),
    weight: 2
  },
  { arbitrary: fc.record({ _tag: fc.constant("turn" as const), pick: fc.nat() }), weight: 2 },
  { arbitrary: fc.record({ _tag: fc.constant("hold" as const), pick: fc.nat() }), weight: 1 },
  { arbitrary: fc.record({ _tag: fc.constant("settle" as const), pick: fc.nat() }), weight: 2 },
  { arbitrary: fc.constant({ _tag: "close" as const }), weight: 1 }
)

interface Caller {
  readonly id: number
  readonly key: string
  /** The batch of the mint it joined; `undefined` when it was turned away (closed). */
  readonly batch: number | undefined
  left: boolean
  resumed: { readonly batch: number | undefined; readonly key: string | undefined } | undefined
}

/** What a shell would hold, and the checks of the rules. */
class Harness {
  readonly state = M.initial<number>({ maxBatchSize, concurrency })
  readonly callers: Array<Caller> = []
  readonly known = new Set<number>()
  readonly windows = new Set<number>()
  readonly holds = new Set<number>()
  readonly running: Array<number> = []
  readonly sealed = new Map<number, ReadonlyArray<string>>()
  lastStarted = -1

  waiting(): Array<Caller> {
    return this.callers.filter((c) => !c.left && c.resumed === undefined)
  }

  feed(event: M.Event<number>): ReadonlyArray<M.Command<number>> {
    const { commands, state } = M.step(this.state, event)
    assert.strictEqual(state, this.state)
    for (const command of commands) this.run(command, event)
    this.check()
    return commands
  }

  run(command: M.Command<number>, event: M.Event<number>): void {
    switch (command._tag) {
      case "ArmWindow":
        assert.strictEqual(this.known.has(command.batch), false)
        this.known.add(command.batch)
        this.windows.add(command.batch)
        break
      case "ArmHold":
        assert.ok(this.running.includes(command.batch))
        this.holds.add(command.batch)
        break
      case "CancelTimer":
        assert.strictEqual(this.known.has(command.batch), true)
        this.windows.delete(command.batch)
        this.holds.delete(command.batch)
        break
      case "Start":
        // First queued, first started: batches queue in the order they opened.
        assert.ok(command.batch > this.lastStarted)
        this.lastStarted = command.batch
        this.running.push(command.batch)
        break
      case "Interrupt":
        assert.ok(this.running.includes(command.batch))
        // Nobody still waits for what it would carry.
        assert.deepStrictEqual(this.waiting().filter((c) => c.batch === command.batch), [])
        break
      case "Resume":
        assert.strictEqual(event._tag, "Settled")
        assert.ok(command.callers.length > 0, "a mint nobody waits for is not resumed")
        this.resume(command.callers, command.batch, command.key)
        break
      case "ResumeInterrupted":
        this.resume(command.callers, undefined, undefined)
        break
      case "Forget":
        assert.strictEqual(this.windows.has(command.batch) || this.holds.has(command.batch), false)
        this.known.delete(command.batch)
    }
  }

  resume(ids: ReadonlyArray<number>, batch: number | undefined, key: string | undefined): void {
    for (const id of ids) {
      const caller = this.callers[id]!
      assert.strictEqual(caller.left, false)
      assert.strictEqual(caller.resumed, undefined)
      if (batch !== undefined) assert.deepStrictEqual([caller.batch, caller.key], [batch, key])
      caller.resumed = { batch, key }
    }
  }

  check(): void {
    const s = this.state
    const batches = Array.from(s.batches.values())
    assert.ok(s.slots <= concurrency)
    assert.strictEqual(batches.filter((b) => b.slot).length, s.slots)
    // A batch waits for a slot only while every slot is held.
    if (s.queued.length > 0) assert.strictEqual(s.slots, concurrency)
    // A window is armed exactly while ids wait in it.
    assert.deepStrictEqual(Array.from(this.windows), s.gathering === undefined ? [] : [s.gathering.id])
    if (s.gathering !== undefined) assert.ok(s.gathering.mints.size > 0)
    // A hold is armed exactly while a sent batch holds its slot (until close).
    const holding = s.closed ? [] : batches.filter((b) => b.phase === "sent" && b.slot).map((b) => b.id)
    assert.deepStrictEqual(Array.from(this.holds).sort(byNumber), holding.sort(byNumber))
    // A sealed batch carries exactly the users it was sealed with.
    for (const [id, sealed] of this.sealed) {
      const batch = s.batches.get(id)
      if (batch !== undefined) assert.deepStrictEqual(Array.from(batch.mints.keys()), sealed)
    }
    for (const batch of batches) assert.ok(batch.mints.size <= maxBatchSize)
    if (s.closed) assert.deepStrictEqual(this.waiting(), [])
  }

  join(key: string): void {
    const id = this.callers.length
    const known = this.state.pending.get(key)?.batch.id
    const batch = this.state.closed
      ? undefined
      : (known ?? M.batchFor(this.state.open, maxBatchSize)?.id ?? this.state.nextId)
    const caller: Caller = { id, key, batch, left: false, resumed: undefined }
    this.callers.push(caller)
    this.feed({ _tag: "Join", caller: id, key })
    if (batch === undefined) return assert.deepStrictEqual(caller.resumed, { batch: undefined, key: undefined })
    // A sealed batch takes no joiner: a new user's mint goes into one not yet sealed.
    const joined = this.state.batches.get(batch)!
    if (known === undefined) assert.notStrictEqual(joined.phase, "sent")
    assert.strictEqual(joined.mints.has(key) && joined.mints.get(key)!.callers.has(id), true)
  }

  leave(pick: number): void {
    const waiting = this.waiting()
    if (waiting.length === 0) return
    const caller = waiting[pick % waiting.length]!
    const others = waiting.filter((c) => c !== caller).map((c) => [c.id, c.batch])
    caller.left = true
    const commands = this.feed({ _tag: "Leave", caller: caller.id, key: caller.key })
    // A caller that leaves changes no other caller's outcome: nobody resumed, nobody moved.
    assert.deepStrictEqual(commands.filter((c) => c._tag === "Resume" || c._tag === "ResumeInterrupted"), [])
    assert.deepStrictEqual(this.waiting().map((c) => [c.id, c.batch]), others)
  }

  turn(pick: number): void {
    if (this.running.length === 0) return
    const id = this.running[pick % this.running.length]!
    const before = this.state.batches.get(id)!
    const phase = this.state.closed && before.phase === "turn" ? "closed" : before.phase
    this.feed({ _tag: "TurnGranted", batch: id })
    const sealed = M.sealedKeys(this.state, id)
    if (phase === "turn") {
      assert.deepStrictEqual(sealed, Array.from(before.mints.keys()))
      this.sealed.set(id, sealed!)
    } else if (phase === "sent") {
      // A retry's request carries the same users.
      assert.strictEqual(sealed, this.sealed.get(id))
    } else {
      assert.strictEqual(sealed, undefined)
    }
  }

  settle(pick: number): void {
    if (this.running.length === 0) return
    const id = this.running.splice(pick % this.running.length, 1)[0]!
    const expected = this.waiting().filter((c) => c.batch === id).map((c) => c.id).sort(byNumber)
    const commands = this.feed({ _tag: "Settled", batch: id })
    // A settled batch resolves exactly the mints it carried: every caller still waiting on it, nobody else.
    const resumed = commands.flatMap((c) => c._tag === "Resume" ? c.callers : []).sort(byNumber)
    assert.deepStrictEqual(resumed, expected)
    const sealed = this.sealed.get(id)
    if (sealed !== undefined) {
      for (const c of commands) if (c._tag === "Resume") assert.ok(sealed.includes(c.key))
    }
    this.sealed.delete(id)
    assert.strictEqual(this.known.has(id), false)
  }

  apply(a: Action): void {
    switch (a._tag) {
      case "join":
        return this.join(keys[a.key]!)
      case "leave":
        return this.leave(a.pick)
      case "window": {
        // A stale window (cancelled, or of a batch long gone) finds nothing.
        const batch = a.stale ?? Array.from(this.windows)[0]
        if (batch === undefined) return
        this.windows.delete(batch)
        return void this.feed({ _tag: "WindowClosed", batch })
      }
      case "turn":
        return this.turn(a.pick)
      case "hold": {
        const holds = Array.from(this.holds)
        if (holds.length === 0) return
        const batch = holds[a.pick % holds.length]!
        this.holds.delete(batch)
        return void this.feed({ _tag: "HoldEnded", batch })
      }
      case "settle":
        return this.settle(a.pick)
      case "close":
        return this.close()
    }
  }

  close(): void {
    const commands = this.feed({ _tag: "Close" })
    // After close nobody waits, and every running batch is interrupted.
    assert.deepStrictEqual(
      commands.filter((c) => c._tag === "Interrupt").map((c) => c.batch).sort(byNumber),
      [...this.running].sort(byNumber)
    )
    assert.strictEqual(this.windows.size + this.holds.size, 0)
  }

  /** Closes and lets every interrupted batch end: nothing may be left. */
  finish(): void {
    this.close()
    while (this.running.length > 0) this.settle(0)
    assert.strictEqual(this.known.size, 0)
    assert.deepStrictEqual(this.waiting(), [])
    assert.strictEqual(this.state.batches.size + this.state.pending.size + this.state.slots, 0)
  }
}

describe("BatcherMachine", () => {
  it("every sequence of joins, leaves, windows, turns, holds, answers and close keeps the rules", () => {
    fc.assert(
      fc.property(fc.array(action, { maxLength: 40, size: "medium" }), (actions) => {
        const harness = new Harness()
        for (const a of actions) harness.apply(a)
        harness.finish()
      }),
      { numRuns: 10_000 }
    )
  })

  it("a burst fills batches up to maxBatchSize, concurrency at a time, the rest waiting in order and taking joiners", () => {
    const harness = new Harness()
    for (const key of ["a", "b", "c", "d", "e"]) harness.join(key)
    harness.apply({ _tag: "window", stale: undefined })
    const before = M.snapshot(harness.state)
    assert.deepStrictEqual([before.turn, before.waiting, before.slots], [[["a", "b"], ["c", "d"]], [["e"]], 2])
    harness.turn(0)
    harness.join("f")
    const after = M.snapshot(harness.state)
    assert.deepStrictEqual([after.turn, after.waiting], [[["c", "d"]], [["e", "f"]]])
    harness.finish()
  })
})
