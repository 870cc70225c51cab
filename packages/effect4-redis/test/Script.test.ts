/**
 * The Lua sliding log against a model, on a real `redis-server`, on a
 * virtual clock: the scripts take `now` from the test instead of Redis's
 * `TIME` (the only difference from production), so fast-check can play any
 * interleaving of reservations, completions, crashes and waits.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import * as fc from "fast-check"
import { Redis } from "ioredis"
import { skipRedis, startRedis } from "../../../test-effect4/utils/redisServer.js"
import * as Script from "../src/internal/script.js"

interface Caller {
  readonly startAt: number
  /** How long its request runs: at most the hold (the attempt's timeout bounds it). */
  readonly duration: number
  /** Its process dies while the request runs: no completion ever reaches Redis. */
  readonly crashes: boolean
}

interface Scenario {
  readonly limit: number
  readonly window: number
  readonly hold: number
  readonly callers: ReadonlyArray<Caller>
}

const scenario: fc.Arbitrary<Scenario> = fc.record({
  limit: fc.integer({ min: 1, max: 4 }),
  window: fc.integer({ min: 1, max: 300 }),
  hold: fc.integer({ min: 1, max: 400 })
}).chain(({ hold, limit, window }) =>
  fc.record({
    limit: fc.constant(limit),
    window: fc.constant(window),
    hold: fc.constant(hold),
    callers: fc.array(
      fc.record({
        startAt: fc.integer({ min: 0, max: 1_500 }),
        duration: fc.integer({ min: 0, max: hold }),
        crashes: fc.boolean()
      }),
      { minLength: 1, maxLength: 25 }
    )
  })
)

interface Turn {
  readonly member: string
  readonly granted: number
  /** When the request really ended (a crash ends it too). */
  readonly ended: number
  /** When Redis heard of the end; never for a crashed process. */
  readonly released: number | undefined
}

/**
 * Plays a scenario event by event on the virtual clock: a caller asks at
 * `startAt`; told to wait, it asks again after the wait; granted, its
 * completion reaches Redis `duration` later, unless its process crashed.
 *
 * Checked at every step, against the model of the turns granted so far:
 * - the script grants exactly when fewer than `limit` turns are open (a turn
 *   is open until `window` after its completion reached Redis, or, with no
 *   completion, `hold + window` after it was granted): never more, and no
 *   turn withheld for nothing;
 * - a wait it announces is never longer than the model's earliest free turn;
 * - no window of `window` ms holds more than `limit` requests, counted from
 *   grant to real end: the guarantee on sFOX's side;
 * - a crashed process's turn is free `hold + window` after it was taken.
 */
const play = (scripts: Script.Scripts, key: string, s: Scenario) =>
  Effect.promise(async () => {
    const turns: Array<Turn> = []
    const queue: Array<{ at: number; run: () => Promise<void> }> = []
    const schedule = (at: number, run: () => Promise<void>) => {
      queue.push({ at, run })
      // Stable: events at one instant keep their order.
      queue.sort((a, b) => a.at - b.at)
    }
    const openAt = (now: number) =>
      turns.filter((t) =>
        t.granted <= now && (t.released !== undefined && t.released <= now
          ? t.released + s.window > now
          : t.granted + s.hold + s.window > now)
      )
    const ask = (i: number, caller: Caller) => async (now: number) => {
      const member = `m${i}`
      const open = openAt(now)
      const wait = await scripts.acquire(key, s.limit, s.window, s.hold, member, now)
      if (wait === 0) {
        assert.isBelow(open.length, s.limit, `granted at ${now} with ${open.length} open`)
        const ended = now + caller.duration
        const turn: Turn = { member, granted: now, ended, released: caller.crashes ? undefined : ended }
        turns.push(turn)
        if (!caller.crashes) schedule(ended, () => scripts.release(key, member, s.window, ended))
      } else {
        assert.isAtLeast(open.length, s.limit, `refused at ${now} with ${open.length} open`)
        // When each open turn really frees: a window after its request
        // ended, or after its hold for a process that died. The wait the
        // script announces must not be longer than the first of them.
        const earliest = Math.min(
          ...open.map((t) => (t.released === undefined ? t.granted + s.hold : t.released) + s.window)
        )
        assert.isAtMost(now + wait, Math.ceil(earliest) + 1, `wait ${wait} at ${now}`)
        schedule(now + wait, () => ask(i, caller)(now + wait))
      }
    }
    s.callers.forEach((caller, i) => schedule(caller.startAt, () => ask(i, caller)(caller.startAt)))
    while (queue.length > 0) await queue.shift()!.run()

    assert.strictEqual(turns.length, s.callers.length, "every caller got its turn")
    for (const turn of turns) {
      const inWindow = turns.filter((t) => t.granted <= turn.granted && t.ended + s.window > turn.granted)
      assert.isAtMost(inWindow.length, s.limit, `${inWindow.length} requests in the window at ${turn.granted}`)
    }
  })

describe.skipIf(skipRedis)("the Lua sliding log against a model (real redis-server, virtual clock)", () => {
  it.live("grants exactly when the model has a free turn; no window over the limit; crashed turns expire", () =>
    Effect.gen(function*() {
      const server = yield* startRedis()
      const redis = yield* Effect.acquireRelease(
        Effect.promise(async () => {
          const client = new Redis(server.url, { lazyConnect: true })
          await client.connect()
          return client
        }),
        (client) => Effect.promise(() => client.quit())
      )
      const scripts = Script.define(redis)
      let run = 0
      yield* Effect.promise(() =>
        fc.assert(
          fc.asyncProperty(scenario, (s) => Effect.runPromise(play(scripts, `test:${run++}`, s))),
          { numRuns: 300 }
        )
      )
    }))

  it.live("a process that dies holding a turn frees it `hold + window` after taking it, not later", () =>
    Effect.gen(function*() {
      const server = yield* startRedis()
      const redis = yield* Effect.acquireRelease(
        Effect.promise(async () => {
          const client = new Redis(server.url, { lazyConnect: true })
          await client.connect()
          return client
        }),
        (client) => Effect.promise(() => client.quit())
      )
      const scripts = Script.define(redis)
      const t0 = 1_000_000
      assert.strictEqual(yield* Effect.promise(() => scripts.acquire("k", 1, 2_000, 5_000, "dead", t0)), 0)
      // Refused for as long as the dead request could have run, plus a window.
      const wait = yield* Effect.promise(() => scripts.acquire("k", 1, 2_000, 5_000, "next", t0 + 10))
      assert.strictEqual(wait, 2_000)
      assert.isAbove(yield* Effect.promise(() => scripts.acquire("k", 1, 2_000, 5_000, "next", t0 + 6_999)), 0)
      assert.strictEqual(yield* Effect.promise(() => scripts.acquire("k", 1, 2_000, 5_000, "next", t0 + 7_000)), 0)
      // Nothing is left behind: the key expires with its last turn.
      const ttl = yield* Effect.promise(() => redis.pttl("k"))
      assert.isAbove(ttl, 0)
    }))
})
