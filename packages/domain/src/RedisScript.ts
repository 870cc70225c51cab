/**
 * The sliding log, in one sorted set per budget: a member per turn, its
 * score the Redis time (ms) from which the turn's window of `window` ms
 * starts to run out. A turn is reserved with score `now + hold` (the longest
 * its request can run), and moved to the request's completion time when it
 * ends; so a turn counts from before the request is sent until `window`
 * after it completed, and the turn of a process that died is gone `hold +
 * window` after it was taken. Everything happens in one script, atomically,
 * on Redis's clock (`TIME`): no client clock is trusted, and processes on
 * hosts whose clocks disagree still share one window.
 *
 * `now` is passed only by the tests, to drive the script on a clock of their
 * own; in production it is always Redis's.
 *
 * @since 0.1.0
 */

const clock = (index: number) => `
local now = tonumber(ARGV[${index}])
if not now then
  local t = redis.call("TIME")
  now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
end
`

// The key lives as long as its latest turn: a budget nobody uses leaves nothing behind.
const expire = `
local top = redis.call("ZRANGE", key, -1, -1, "WITHSCORES")
if top[2] then
  redis.call("PEXPIRE", key, math.max(1, math.ceil(tonumber(top[2]) + window - now)) + 1000)
end
`

/**
 * KEYS[1] the set; ARGV: limit, window (ms), hold (ms), member[, now].
 * Returns `{1, 0}` with the turn taken, or `{0, wait}`: no turn, and none can
 * free for at least `wait` ms.
 *
 * @since 0.1.0
 */
export const acquireLua = `
local key = KEYS[1]
local limit = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local hold = tonumber(ARGV[3])
local member = ARGV[4]
${clock(5)}
redis.call("ZREMRANGEBYSCORE", key, "-inf", now - window)
if redis.call("ZCARD", key) < limit then
  redis.call("ZADD", key, now + hold, member)
  ${expire}
  return {1, 0}
end
local first = redis.call("ZRANGE", key, 0, 0, "WITHSCORES")
local earliest = tonumber(first[2])
-- A turn still in flight ends no earlier than now: its window runs out no
-- earlier than now + window, whatever its reserved score says.
if earliest > now then earliest = now end
return {0, math.max(1, math.ceil(earliest + window - now))}
`

/**
 * KEYS[1] the set; ARGV: member, window (ms)[, now]. The request ended: its
 * turn counts until `window` from now. Set even when the reservation is gone
 * (a request that ran past its hold, a Redis that lost its data): the request
 * happened, and its window is real.
 *
 * @since 0.1.0
 */
export const releaseLua = `
local key = KEYS[1]
local member = ARGV[1]
local window = tonumber(ARGV[2])
${clock(3)}
redis.call("ZADD", key, now, member)
${expire}
return 1
`

/**
 * KEYS[1] the set; ARGV: member. A turn taken for a request never sent (its caller was interrupted).
 *
 * @since 0.1.0
 */
export const cancelLua = `
return redis.call("ZREM", KEYS[1], ARGV[1])
`

/**
 * The arguments of `acquireLua` (`now` only when a test drives the clock).
 *
 * @since 0.1.0
 */
export const acquireArgs = (
  limit: number,
  windowMillis: number,
  holdMillis: number,
  member: string,
  now?: number
): Array<string | number> =>
  now === undefined ? [limit, windowMillis, holdMillis, member] : [limit, windowMillis, holdMillis, member, now]

/**
 * `acquireLua`'s reply read: `0` when the turn is taken, otherwise the wait
 * in ms before one may free (at least 1).
 *
 * @since 0.1.0
 */
export const readAcquire = (reply: unknown): number => {
  const [taken, wait] = reply as [number, number]
  return taken === 1 ? 0 : Math.max(1, wait)
}

/**
 * The arguments of `releaseLua` (`now` only when a test drives the clock).
 *
 * @since 0.1.0
 */
export const releaseArgs = (member: string, windowMillis: number, now?: number): Array<string | number> =>
  now === undefined ? [member, windowMillis] : [member, windowMillis, now]

/**
 * What the scripts need of a Redis client: a way to define a Lua command
 * on it (run by EVALSHA, loaded again after a Redis restart), which then
 * answers as a method of that name. ioredis' `Redis` is one.
 *
 * @since 0.3.0
 */
export interface Definer {
  defineCommand(name: string, definition: { readonly numberOfKeys: number; readonly lua: string }): void
}

/**
 * The three scripts, on one connection.
 *
 * @since 0.3.0
 */
export interface Scripts {
  /** `0` when the turn is taken, otherwise the wait in ms before one may free. */
  readonly acquire: (
    key: string,
    limit: number,
    windowMillis: number,
    holdMillis: number,
    member: string,
    now?: number
  ) => Promise<number>
  readonly release: (key: string, member: string, windowMillis: number, now?: number) => Promise<void>
  readonly cancel: (key: string, member: string) => Promise<void>
}

interface WithScripts {
  sfoxAcquire(key: string, ...args: Array<string | number>): Promise<unknown>
  sfoxRelease(key: string, ...args: Array<string | number>): Promise<unknown>
  sfoxCancel(key: string, member: string): Promise<unknown>
}

/**
 * Defines the three scripts on `client` and returns them.
 *
 * @since 0.3.0
 */
export const define = (client: Definer): Scripts => {
  client.defineCommand("sfoxAcquire", { numberOfKeys: 1, lua: acquireLua })
  client.defineCommand("sfoxRelease", { numberOfKeys: 1, lua: releaseLua })
  client.defineCommand("sfoxCancel", { numberOfKeys: 1, lua: cancelLua })
  const r = client as unknown as WithScripts
  return {
    acquire: (key, limit, windowMillis, holdMillis, member, now) =>
      r.sfoxAcquire(key, ...acquireArgs(limit, windowMillis, holdMillis, member, now)).then(readAcquire),
    release: (key, member, windowMillis, now) =>
      r.sfoxRelease(key, ...releaseArgs(member, windowMillis, now)).then(() => undefined),
    cancel: (key, member) => r.sfoxCancel(key, member).then(() => undefined)
  }
}
