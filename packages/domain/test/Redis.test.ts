import { RedisOptions, RedisScript } from "@sfox-effect/domain"
import { assert, describe, it } from "vitest"

describe("RedisOptions", () => {
  it("a redis: or rediss: URL, its password among the secrets, where it points without it", () => {
    assert.deepStrictEqual(RedisOptions.checkUrl("redis://localhost"), {
      text: "redis://localhost",
      secrets: ["redis://localhost"],
      where: "localhost:6379"
    })
    assert.deepStrictEqual(RedisOptions.checkUrl("rediss://:p%40ss@cache.internal:6380/2"), {
      text: "rediss://:p%40ss@cache.internal:6380/2",
      secrets: ["rediss://:p%40ss@cache.internal:6380/2", "p%40ss", "p@ss"],
      where: "cache.internal:6380"
    })
    // Not percent-encoding after all: the password as written is the secret.
    assert.deepStrictEqual(RedisOptions.checkUrl("redis://u:100%@h"), {
      text: "redis://u:100%@h",
      secrets: ["redis://u:100%@h", "100%", "100%"],
      where: "h:6379"
    })
  })

  it("refuses anything else without quoting it", () => {
    assert.deepStrictEqual(RedisOptions.checkUrl("secret-host:6379"), { refused: "must be a redis: or rediss: URL" })
    assert.deepStrictEqual(RedisOptions.checkUrl("https://x"), { refused: "must be a redis: or rediss: URL" })
    assert.deepStrictEqual(RedisOptions.checkUrl("not a url"), { refused: "is not an absolute URL" })
  })
})

describe("RedisScript.define", () => {
  it("defines the three scripts on the client, and calls them with their arguments", async () => {
    const defined = new Map<string, { readonly numberOfKeys: number; readonly lua: string }>()
    const calls: Array<[string, ...Array<unknown>]> = []
    const client = {
      defineCommand(name: string, definition: { readonly numberOfKeys: number; readonly lua: string }) {
        defined.set(name, definition)
        ;(this as unknown as Record<string, unknown>)[name] = (...args: Array<unknown>) => {
          calls.push([name, ...args])
          return Promise.resolve(name === "sfoxAcquire" ? [0, 0] : 1)
        }
      }
    }
    const scripts = RedisScript.define(client)
    assert.deepStrictEqual([...defined.keys()], ["sfoxAcquire", "sfoxRelease", "sfoxCancel"])
    assert.strictEqual(defined.get("sfoxAcquire")!.lua, RedisScript.acquireLua)
    assert.strictEqual(defined.get("sfoxRelease")!.numberOfKeys, 1)
    assert.strictEqual(await scripts.acquire("k", 5, 1_000, 200, "m"), 1, "no turn: a wait of at least 1 ms")
    assert.isUndefined(await scripts.release("k", "m", 1_000, 7))
    assert.isUndefined(await scripts.cancel("k", "m"))
    assert.deepStrictEqual(calls, [
      ["sfoxAcquire", "k", 5, 1_000, 200, "m"],
      ["sfoxRelease", "k", "m", 1_000, 7],
      ["sfoxCancel", "k", "m"]
    ])
  })
})
