import { HttpClient, type HttpClientError } from "@effect/platform"
import { isTransient, type UserTokenError, UserTokenService } from "@sfox-effect/core"
import { NodeSfox } from "@sfox-effect/node"
import { Cause, Duration, Effect, Exit, ManagedRuntime } from "effect"
import { createServer } from "node:http"
import type { AddressInfo } from "node:net"

// Once, when the process starts, and before it listens: a missing key or a bad
// SFOX_BASE_URL stops it here, with a message that says what to set.
const runtime = ManagedRuntime.make(NodeSfox.layerWith({ service: { cache: true } }))
const started = await runtime.runPromiseExit(Effect.void)
if (Exit.isFailure(started)) {
  console.error(`cannot start: ${Cause.squash(started.cause)}`)
  process.exit(1)
}

interface Reply {
  readonly status: number
  readonly body: unknown
  readonly headers?: Record<string, string>
}

// The caller's mistake is a 400; sFOX busy or unreachable (try again later) a
// 503; sFOX refusing the call a 502; anything else is this server's own, a 500.
const replyTo = (error: UserTokenError | HttpClientError.HttpClientError): Reply => {
  switch (error._tag) {
    case "InvalidUserId":
      return { status: 400, body: { error: error.message } }
    case "RateLimited": {
      const retryAfter = String(Math.ceil(Duration.toSeconds(error.retryAfter)))
      return { status: 503, body: { error: "sFOX is busy" }, headers: { "retry-after": retryAfter } }
    }
    case "ResponseError": {
      const busy = error.response.status >= 500 || error.response.status === 429
      return { status: busy ? 503 : 502, body: { error: "sFOX refused the call" } }
    }
    case "RequestError":
    case "EmptyBatch":
      return { status: 500, body: { error: "internal error" } }
    default:
      return isTransient(error)
        ? { status: 503, body: { error: "sFOX is unavailable" } }
        : { status: 502, body: { error: "sFOX refused the call" } }
  }
}

const balanceOf = (userId: string): Effect.Effect<Reply, never, UserTokenService> =>
  Effect.gen(function*() {
    const tokens = yield* UserTokenService
    const response = yield* tokens.clientFor(userId).pipe(HttpClient.filterStatusOk).get("/v1/user/balance")
    return { status: 200, body: yield* response.json }
  }).pipe(
    // One line each: the library's messages hold no key and no token.
    Effect.catchAll((error) => Effect.as(Effect.logError(`balance: ${error._tag}: ${error.message}`), replyTo(error))),
    Effect.catchAllDefect((defect) =>
      Effect.as(Effect.logError(`balance: ${String(defect)}`), { status: 500, body: { error: "internal error" } })
    ),
    Effect.onInterrupt(() => Effect.logInfo("balance: the client went away; call interrupted"))
  )

const server = createServer((req, res) => {
  const userId = String(req.headers["x-user-id"] ?? "") // your session's user, in a real app
  // A client that goes away interrupts its call: no more retries on its behalf.
  const gone = new AbortController()
  res.once("close", () => gone.abort())
  runtime.runPromise(balanceOf(userId), { signal: gone.signal }).then(
    ({ body, headers, status }) =>
      res.writeHead(status, { ...headers, "content-type": "application/json" }).end(JSON.stringify(body)),
    () => res.destroy() // interrupted: nobody is waiting for the answer
  )
})

server.listen(Number(process.env.PORT ?? 3000), () => {
  console.log(`listening on http://localhost:${(server.address() as AddressInfo).port}`)
})
process.once("SIGTERM", () => server.close(() => void runtime.dispose()))
