/**
 * The real-service scenario's app, in a process of its own as a user's
 * service would be: a `node:http` server whose `GET /users/{id}/balance`
 * mints that user's token and fetches the user's balance from sFOX as that
 * user, answering 200 with the balance or 502 when either call failed.
 *
 * Written two ways (argv[2] is `{ variant, sfoxUrl, apiKey }` as JSON):
 * - `library`: one `ManagedRuntime` built at start (`UserTokenService` over
 *   `NodeSfox`'s client, default options: sFOX's 250 / 10 s budget, `get`'s
 *   batching), and per request `clientFor(userId).get(...)`, which takes the
 *   user's token from `get` itself;
 * - `axios`: the seed's snippet (`axios(config)`, a POST to
 *   `/v1/enterprise/user-tokens/{id}`), then an axios GET with that token,
 *   both through one keep-alive agent of 64 sockets.
 *
 * The URL leaves as the first line of stdout; an IPC `exit` (or the parent
 * going away) ends the process.
 */
import * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import { UserTokenService } from "@sfox-effect/core"
import axios from "axios"
import { Effect } from "effect"
import * as Http from "node:http"
import type { AddressInfo } from "node:net"
import { serviceRuntime } from "./clients.js"

export type Variant = "library" | "axios"

interface Settings {
  readonly variant: Variant
  readonly sfoxUrl: string
  readonly apiKey: string
}

/** One user's balance as JSON text; rejects when sFOX refused either call or could not be reached. */
type BalanceOf = (userId: string) => Promise<string>

const balancePath = "/v1/user/balance"

const onLibrary = ({ apiKey, sfoxUrl }: Settings): BalanceOf => {
  const runtime = serviceRuntime(sfoxUrl, apiKey)
  return (userId) =>
    runtime.runPromise(
      Effect.flatMap(UserTokenService, (tokens) =>
        tokens.clientFor(userId).get(balancePath).pipe(
          Effect.flatMap(HttpClientResponse.filterStatusOk),
          Effect.flatMap((response) => response.json),
          Effect.map((balance) => JSON.stringify(balance))
        ))
    )
}

const onAxios = ({ apiKey, sfoxUrl }: Settings): BalanceOf => {
  // Node 20's global agent keeps connections alive too, without a cap: this one states it and caps the sockets at
  // the library's `connections: 64`.
  const httpAgent = new Http.Agent({ keepAlive: true, maxSockets: 64 })
  return async (userId) => {
    const config = {
      method: "post",
      url: `${sfoxUrl}/v1/enterprise/user-tokens/${userId}`,
      headers: {
        "Content-Type": "application/json",
        "Authorization": `Bearer ${apiKey}`
      },
      httpAgent
    }
    const minted = await axios(config)
    const balance = await axios.get(`${sfoxUrl}${balancePath}`, {
      headers: { "Authorization": `Bearer ${minted.data.data.token}` },
      httpAgent
    })
    return JSON.stringify(balance.data)
  }
}

const settings = JSON.parse(process.argv[2] ?? "{}") as Settings
const balanceOf = settings.variant === "library" ? onLibrary(settings) : onAxios(settings)
const route = /^\/users\/([^/]+)\/balance$/

const server = Http.createServer((request, response) => {
  const userId = route.exec(request.url ?? "")?.[1]
  if (request.method !== "GET" || userId === undefined) {
    response.writeHead(404).end()
    return
  }
  balanceOf(decodeURIComponent(userId)).then(
    (body) => response.writeHead(200, { "content-type": "application/json" }).end(body),
    () => response.writeHead(502).end()
  )
})

server.listen(0, "127.0.0.1", () => {
  process.stdout.write(`${JSON.stringify({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` })}\n`)
})
process.on("message", (message: { readonly type: string }) => {
  if (message.type === "exit") process.exit(0)
})
process.on("disconnect", () => process.exit(0))
