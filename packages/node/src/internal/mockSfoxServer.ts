import { SfoxSimulator } from "@sfox-effect/core/testing"
import * as Effect from "effect/Effect"
import type * as Fiber from "effect/Fiber"
import * as Runtime from "effect/Runtime"
import type * as Scope from "effect/Scope"
import * as Http from "node:http"
import type * as Net from "node:net"
import type { MockSfoxServerOptions, MockSfoxServerService } from "../MockSfoxServer.js"

/**
 * The simulator behind a real `node:http` server on 127.0.0.1: the request
 * read (bounded), handed to `SfoxSimulator.handle`, and its answer acted out
 * on the socket, transport faults included.
 */

const flatHeaders = (headers: Http.IncomingHttpHeaders): Record<string, string | undefined> => {
  const out: Record<string, string | undefined> = {}
  for (const name in headers) {
    const value = headers[name]
    out[name] = Array.isArray(value) ? value.join(", ") : value
  }
  return out
}

/** The sockets, trickle timers and requests being answered of one server: what closing it ends. */
interface Open {
  readonly sockets: Set<Net.Socket>
  readonly timers: Set<ReturnType<typeof setTimeout>>
  /**
   * The simulator fibers still answering. They are root fibers
   * (`Runtime.runFork`), so nothing else ends them with the server: one
   * sleeping out a long `latency` on the live clock kept its timer, and so the
   * process, alive long after the scope closed (and under `TestClock` it was a
   * fiber that never ended).
   */
  readonly answering: Set<Fiber.RuntimeFiber<unknown, unknown>>
}

const later = (open: Open, millis: number, f: () => void) => {
  const timer = setTimeout(() => {
    open.timers.delete(timer)
    f()
  }, millis)
  open.timers.add(timer)
}

const trickle = (
  open: Open,
  socket: Net.Socket,
  res: Http.ServerResponse,
  body: Buffer,
  delivery: { readonly intervalMillis: number; readonly chunkSize: number }
) => {
  let offset = 0
  const next = () => {
    if (socket.destroyed) return
    const end = Math.min(body.length, offset + delivery.chunkSize)
    res.write(body.subarray(offset, end))
    offset = end
    if (offset < body.length) later(open, delivery.intervalMillis, next)
    else res.end()
  }
  next()
}

/** Acts an answer out on the socket, as its delivery says. */
const act = (open: Open, socket: Net.Socket, res: Http.ServerResponse, answer: SfoxSimulator.SimResponse) => {
  const body = Buffer.from(answer.body)
  const headers = { ...answer.headers, "content-length": String(body.length) }
  const delivery = answer.delivery
  switch (delivery._tag) {
    case "Normal":
      res.writeHead(answer.status, headers)
      res.end(body)
      return
    case "ResetBeforeHeaders":
      socket.resetAndDestroy()
      return
    case "NoAnswer":
      return
    case "ResetAfterHeaders":
      res.writeHead(answer.status, headers)
      res.write(body.subarray(0, body.length >> 1), () => socket.resetAndDestroy())
      return
    case "ShortBody":
      res.writeHead(answer.status, { ...headers, "content-length": String(body.length + 64) })
      res.write(body, () => socket.destroySoon())
      return
    case "Trickle":
      res.writeHead(answer.status, headers)
      trickle(open, socket, res, body, delivery)
      return
  }
}

/** The server: each request read within `maxRequestBytes`, answered by the simulator. */
const serve = (
  simulator: SfoxSimulator.SfoxSimulator,
  runFork: ReturnType<typeof Runtime.runFork<never>>,
  maxRequestBytes: number,
  open: Open
): Http.Server => {
  const server = Http.createServer((req, res) => {
    const chunks: Array<Buffer> = []
    let size = 0
    req.on("data", (chunk: Buffer) => {
      size += chunk.length
      if (size <= maxRequestBytes) chunks.push(chunk)
    })
    req.on("end", () => {
      if (size > maxRequestBytes) {
        res.writeHead(413, { "content-type": "application/json" })
        res.end(JSON.stringify({ error: "request body too large" }))
        return
      }
      const url = req.url ?? "/"
      const query = url.indexOf("?")
      const fiber = runFork(simulator.handle({
        method: req.method ?? "GET",
        path: query === -1 ? url : url.slice(0, query),
        headers: flatHeaders(req.headers),
        body: Buffer.concat(chunks).toString("utf8")
      }))
      open.answering.add(fiber)
      fiber.addObserver((exit) => {
        open.answering.delete(fiber)
        if (exit._tag === "Success") act(open, req.socket, res, exit.value)
        else req.socket.destroy()
      })
    })
  })
  server.on("connection", (socket) => {
    open.sockets.add(socket)
    socket.on("close", () => open.sockets.delete(socket))
    // A client that resets its side is not the server's problem.
    socket.on("error", () => {})
  })
  server.on("clientError", (_error, socket) => socket.destroy())
  return server
}

/** Listens on 127.0.0.1 for the scope; closing ends every timer and connection. */
const listen = (server: Http.Server, port: number, open: Open): Effect.Effect<number, never, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.async<number>((resume) => {
      server.listen(port, "127.0.0.1", () => {
        const address = server.address()
        resume(Effect.succeed(typeof address === "object" && address !== null ? address.port : 0))
      })
    }),
    () =>
      Effect.async<void>((resume) => {
        // Their sockets go with them.
        for (const fiber of open.answering) fiber.unsafeInterruptAsFork(fiber.id())
        open.answering.clear()
        for (const timer of open.timers) clearTimeout(timer)
        open.timers.clear()
        server.close(() => resume(Effect.void))
        for (const socket of open.sockets) socket.destroy()
        server.closeAllConnections()
      })
  )

export const make = (options: MockSfoxServerOptions): Effect.Effect<MockSfoxServerService, never, Scope.Scope> =>
  Effect.gen(function*() {
    const simulator = yield* SfoxSimulator.make(options)
    const runtime = yield* Effect.runtime<never>()
    const open: Open = { sockets: new Set(), timers: new Set(), answering: new Set() }
    const server = serve(simulator, Runtime.runFork(runtime), options.maxRequestBytes ?? 1024 * 1024, open)
    const port = yield* listen(server, options.port ?? 0, open)
    return { ...simulator, url: `http://127.0.0.1:${port}`, port }
  })
