/**
 * The benchmark's sFOX: `MockSfoxServer` in a process of its own, so that the
 * clients measured never share an event loop with it. Options arrive as JSON
 * in argv[2]; the URL leaves as the first line of stdout; counts are asked
 * for over IPC.
 */
import { MockSfoxServer } from "@sfox-effect/node/testing"
import { Effect } from "effect"
import { mintShareOf } from "./mintShare.js"

const options = JSON.parse(process.argv[2] ?? "{}")

const program = Effect.gen(function*() {
  // Millions of tokens are minted here and none is used: the server keeps none and records nothing, unless
  // a scenario asks (the real-service scenario calls as the users, and counts what its requests were for).
  const server = yield* MockSfoxServer.make({ record: false, rememberTokens: false, ...options })
  process.stdout.write(`${JSON.stringify({ url: server.url })}\n`)
  yield* Effect.async<void>((resume) => {
    process.on("message", (message: { readonly type: string }) => {
      if (message.type === "stats") Effect.runPromise(server.stats).then((stats) => process.send?.(stats))
      else if (message.type === "mintShare") {
        Effect.runPromise(server.requests).then((requests) => process.send?.(mintShareOf(requests)))
      } else if (message.type === "reset") Effect.runPromise(server.reset).then(() => process.send?.({ ok: true }))
      else if (message.type === "exit") resume(Effect.void)
    })
    process.on("disconnect", () => resume(Effect.void))
  })
})

Effect.runPromise(Effect.scoped(program)).then(() => process.exit(0))
