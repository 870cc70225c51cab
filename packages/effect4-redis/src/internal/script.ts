import { RedisScript } from "@sfox-effect/domain"
import type { Redis } from "ioredis"

/**
 * The sliding log's scripts (the domain's `RedisScript`: the Lua and its
 * arguments and replies) defined on one ioredis connection.
 */

interface WithScripts {
  sfoxAcquire(key: string, ...args: Array<string | number>): Promise<unknown>
  sfoxRelease(key: string, ...args: Array<string | number>): Promise<unknown>
  sfoxCancel(key: string, member: string): Promise<unknown>
}

/** The three scripts on one connection (EVALSHA, loaded again after a Redis restart). */
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

export const define = (redis: Redis): Scripts => {
  redis.defineCommand("sfoxAcquire", { numberOfKeys: 1, lua: RedisScript.acquireLua })
  redis.defineCommand("sfoxRelease", { numberOfKeys: 1, lua: RedisScript.releaseLua })
  redis.defineCommand("sfoxCancel", { numberOfKeys: 1, lua: RedisScript.cancelLua })
  const r = redis as unknown as WithScripts
  return {
    acquire: (key, limit, windowMillis, holdMillis, member, now) =>
      r.sfoxAcquire(key, ...RedisScript.acquireArgs(limit, windowMillis, holdMillis, member, now))
        .then(RedisScript.readAcquire),
    release: (key, member, windowMillis, now) =>
      r.sfoxRelease(key, ...RedisScript.releaseArgs(member, windowMillis, now)).then(() => undefined),
    cancel: (key, member) => r.sfoxCancel(key, member).then(() => undefined)
  }
}
