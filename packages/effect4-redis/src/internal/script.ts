import { RedisScript } from "@sfox-effect/domain"
import type { Redis } from "ioredis"

/**
 * The sliding log's scripts (the domain's `RedisScript`: the Lua, its
 * arguments and replies, and their binding to a client) on one ioredis
 * connection.
 */

/** The three scripts on one connection (EVALSHA, loaded again after a Redis restart). */
export type Scripts = RedisScript.Scripts

export const define = (redis: Redis): Scripts => RedisScript.define(redis)
