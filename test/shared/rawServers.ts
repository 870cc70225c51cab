/**
 * Raw `node:http` servers on 127.0.0.1 for what a MockSfoxServer will not
 * do: redirect, answer for another origin, stream a body that never ends.
 * Plain promises: each edition wraps `listen` in its own acquire/release.
 */
import * as Http from "node:http"
import type * as Net from "node:net"

export interface Listening {
  readonly url: string
  readonly seen: Array<{ readonly path: string; readonly authorization: string | undefined }>
  /** Stops listening and drops every connection. */
  readonly close: () => Promise<void>
}

export type Handler = (req: Http.IncomingMessage, res: Http.ServerResponse) => void

/** Listens on a free loopback port; `handler` runs once the request's body is in. */
export const listen = (handler: Handler): Promise<Listening> =>
  new Promise((resolve) => {
    const seen: Listening["seen"] = []
    const server = Http.createServer((req, res) => {
      seen.push({ path: req.url ?? "", authorization: req.headers.authorization })
      req.resume()
      req.on("end", () => handler(req, res))
    })
    server.listen(0, "127.0.0.1", () => {
      const port = (server.address() as Net.AddressInfo).port
      resolve({
        url: `http://127.0.0.1:${port}`,
        seen,
        close: () =>
          new Promise<void>((closed) => {
            server.close(() => closed())
            server.closeAllConnections()
          })
      })
    })
  })

/** The other origin: answers like sFOX would, with `token` for u1 good for a day. */
export const elsewhere = (token: string): Handler => (req, res) => {
  const single = req.url?.startsWith("/v1/enterprise/user-tokens/") === true
  const minted = { token, partner_user_id: "u1", expires: new Date(Date.now() + 86_400_000).toISOString() }
  res.writeHead(201, { "content-type": "application/json" })
  res.end(JSON.stringify({ data: single ? minted : [minted] }))
}

/** Redirects every request, path kept, to `to` with `status`. */
export const redirecting = (to: string, status: number): Handler => (req, res) => {
  res.writeHead(status, { location: `${to}${req.url ?? "/"}` })
  res.end()
}

/**
 * Answers `status` with a chunked body that never ends; `closed` resolves
 * once the client walks away from an answer (the server sees the connection
 * close).
 */
export const endless = (status: number): { readonly handler: Handler; readonly closed: Promise<void> } => {
  let onClose = () => {}
  const closed = new Promise<void>((resolve) => {
    onClose = resolve
  })
  const handler: Handler = (_req, res) => {
    res.writeHead(status, { "content-type": "application/json" })
    const chunk = Buffer.alloc(16 * 1024, 0x78)
    const pump = () => {
      while (!res.destroyed && res.write(chunk)) {
        // until the socket's buffer is full
      }
    }
    res.on("drain", pump)
    res.on("close", () => onClose())
    pump()
  }
  return { handler, closed }
}
