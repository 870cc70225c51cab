/**
 * A small HTTP proxy on loopback for the Effect 4 edition's proxy tests (the
 * port of test/utils/proxy.ts), recording what a proxy
 * gets to see: `CONNECT` targets and headers, forwarded (absolute-URI)
 * requests with their headers, and every byte that passes through a tunnel.
 * And a TLS front for MockSfoxServer, so that a test can reach it as `https:`.
 */
import { Effect } from "effect"
import * as Fs from "node:fs"
import * as Http from "node:http"
import * as Net from "node:net"
import * as Path from "node:path"
import * as Tls from "node:tls"
import { repoRoot } from "./childProcess.js"

export interface Forwarded {
  readonly method: string
  /** The request target as the client sent it: an absolute URI. */
  readonly url: string
  readonly headers: Http.IncomingHttpHeaders
}

export interface Connect {
  /** `host:port` */
  readonly target: string
  readonly headers: Http.IncomingHttpHeaders
}

export interface TestProxy {
  readonly url: string
  readonly connects: ReadonlyArray<Connect>
  readonly forwarded: ReadonlyArray<Forwarded>
  /** Every byte through every tunnel, both ways, in arrival order. */
  readonly tunnelled: () => Buffer
}

const listen = (server: Net.Server) =>
  Effect.callback<number>((resume) => {
    server.listen(0, "127.0.0.1", () => resume(Effect.succeed((server.address() as Net.AddressInfo).port)))
  })

/**
 * Sockets and servers are all destroyed with the scope: a proxy's upgraded
 * (`CONNECT`) sockets are no longer the HTTP server's, so it cannot close them.
 */
const closing = (server: Net.Server, sockets: Set<Net.Socket>) => () =>
  Effect.callback<void>((resume) => {
    for (const socket of sockets) socket.destroy()
    if (server instanceof Http.Server) server.closeAllConnections()
    server.close(() => resume(Effect.void))
  })

/** Hop-by-hop headers: each leg of a proxied request has its own. */
const endToEnd = (headers: Http.IncomingHttpHeaders): Http.IncomingHttpHeaders => {
  const { connection: _connection, "keep-alive": _keepAlive, "proxy-connection": _proxy, ...rest } = headers
  return rest
}

const tracked = (sockets: Set<Net.Socket>, socket: Net.Socket) => {
  sockets.add(socket)
  socket.on("close", () => sockets.delete(socket))
  // A peer gone mid-stream is the test's business, not a crash of the runner.
  socket.on("error", () => socket.destroy())
  return socket
}

export const makeProxy = Effect.gen(function*() {
  const connects: Array<Connect> = []
  const forwarded: Array<Forwarded> = []
  const bytes: Array<Buffer> = []
  const sockets = new Set<Net.Socket>()
  // No keep-alive upstream: a pooled socket would outlive the test.
  const upstreamAgent = new Http.Agent({ keepAlive: false })

  const server = Http.createServer((request, response) => {
    forwarded.push({ method: request.method ?? "", url: request.url ?? "", headers: request.headers })
    const target = new URL(request.url ?? "")
    const upstream = Http.request({
      host: target.hostname,
      port: target.port,
      path: target.pathname + target.search,
      method: request.method,
      headers: endToEnd(request.headers),
      agent: upstreamAgent
    }, (answer) => {
      response.writeHead(answer.statusCode ?? 502, endToEnd(answer.headers))
      answer.pipe(response)
    })
    upstream.on("error", () => response.destroy())
    request.pipe(upstream)
  })
  server.on("connection", (socket: Net.Socket) => tracked(sockets, socket))
  server.on("connect", (request: Http.IncomingMessage, client: Net.Socket, head: Buffer) => {
    const target = request.url ?? ""
    connects.push({ target, headers: request.headers })
    const [host, port] = [target.slice(0, target.lastIndexOf(":")), Number(target.slice(target.lastIndexOf(":") + 1))]
    const upstream = tracked(
      sockets,
      Net.connect(port, host, () => {
        client.write("HTTP/1.1 200 Connection Established\r\n\r\n")
        if (head.length > 0) {
          bytes.push(head)
          upstream.write(head)
        }
        client.on("data", (chunk: Buffer) => bytes.push(chunk))
        upstream.on("data", (chunk: Buffer) => bytes.push(chunk))
        client.pipe(upstream)
        upstream.pipe(client)
      })
    )
    tracked(sockets, client)
    client.on("close", () => upstream.destroy())
    upstream.on("close", () => client.destroy())
  })

  const port = yield* Effect.acquireRelease(listen(server), closing(server, sockets))
  yield* Effect.addFinalizer(() => Effect.sync(() => upstreamAgent.destroy()))
  return {
    url: `http://127.0.0.1:${port}`,
    connects,
    forwarded,
    tunnelled: () => Buffer.concat(bytes)
  } satisfies TestProxy
})

const fixtures = Path.join(repoRoot, "test", "fixtures", "tls")

/**
 * A test-only certificate for 127.0.0.1 and localhost (self-signed, valid to
 * 2126): its key is public and protects nothing.
 */
export const testCertificate = {
  cert: Fs.readFileSync(Path.join(fixtures, "localhost.crt"), "utf8"),
  key: Fs.readFileSync(Path.join(fixtures, "localhost.key"), "utf8")
}

/**
 * `https://127.0.0.1:<port>` in front of a plain-HTTP origin: TLS ends here
 * and the bytes go on to `origin` unchanged.
 */
export const makeTlsFront = (origin: string) =>
  Effect.gen(function*() {
    const target = new URL(origin)
    const sockets = new Set<Net.Socket>()
    const server = Tls.createServer(testCertificate, (secure) => {
      tracked(sockets, secure)
      const plain = tracked(sockets, Net.connect(Number(target.port), target.hostname))
      secure.pipe(plain)
      plain.pipe(secure)
      secure.on("close", () => plain.destroy())
      plain.on("close", () => secure.destroy())
    })
    const port = yield* Effect.acquireRelease(listen(server), closing(server, sockets))
    return `https://127.0.0.1:${port}`
  })
