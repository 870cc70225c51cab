/**
 * The sFOX simulation of `@sfox-effect/core/testing`, served over real HTTP
 * on `127.0.0.1`: for integration tests, the demo, the CLI's `--mock` and the
 * benchmark. It acts out the transport faults a socket allows (resets before
 * and after the headers, no answer, a trickled body, a body short of its
 * `Content-Length`) on top of the simulator's own.
 *
 * @since 0.1.0
 */
import { SfoxSimulator } from "@sfox-effect/core/testing"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Runtime from "effect/Runtime"
import type * as Scope from "effect/Scope"
import * as Http from "node:http"
import type * as Net from "node:net"

/**
 * A running mock server: the simulator's controls plus where it listens.
 *
 * @since 0.1.0
 * @category models
 */
export interface MockSfoxServerService extends SfoxSimulator.SfoxSimulator {
  /** `http://127.0.0.1:<port>`: pass it as `baseUrl`. */
  readonly url: string
  readonly port: number
}

/**
 * Options of `MockSfoxServer.make` and `MockSfoxServer.layer`: the
 * simulator's options, plus where to listen.
 *
 * @since 0.1.0
 * @category models
 */
export interface MockSfoxServerOptions extends SfoxSimulator.SimulatorOptions {
  /** Port to listen on. @default 0 (an ephemeral port) */
  readonly port?: number | undefined
  /** Largest request body read; more gets a 413. @default 1 MiB */
  readonly maxRequestBytes?: number | undefined
}

/**
 * The sFOX simulation listening on `127.0.0.1`: `yield* MockSfoxServer`
 * gives its `url`, its key, `enqueue(faults)` and the `requests` it saw.
 *
 * @example
 * ```ts
 * import { MockSfoxServer, NodeSfox } from "@sfox-effect/node"
 * import { UserTokenService } from "@sfox-effect/core"
 * import { Fault } from "@sfox-effect/core/testing"
 * import { Effect } from "effect"
 *
 * const program = Effect.gen(function*() {
 *   const server = yield* MockSfoxServer // e.g. http://127.0.0.1:43117
 *   yield* server.enqueue(Fault.status(503)) // the first request fails, the retry succeeds
 *   const tokens = yield* UserTokenService.make({ apiKey: server.apiKey, baseUrl: server.url })
 *   return yield* tokens.create("user-1")
 * }).pipe(
 *   Effect.scoped,
 *   Effect.provide(MockSfoxServer.layer({ apiKey: "test-key" })),
 *   Effect.provide(NodeSfox.httpClient)
 * )
 * ```
 *
 * @since 0.1.0
 * @category services
 */
export class MockSfoxServer extends Context.Tag("@sfox-effect/node/MockSfoxServer")<
  MockSfoxServer,
  MockSfoxServerService
>() {
  /**
   * Starts the server; it stops, and every connection it holds is closed,
   * when the scope closes.
   *
   * @since 0.1.0
   */
  static readonly make = (
    options: MockSfoxServerOptions = {}
  ): Effect.Effect<MockSfoxServerService, never, Scope.Scope> => make(options)

  /**
   * @since 0.1.0
   */
  static readonly layer = (options: MockSfoxServerOptions = {}): Layer.Layer<MockSfoxServer> =>
    Layer.scoped(MockSfoxServer, make(options))
}

const flatHeaders = (headers: Http.IncomingHttpHeaders): Record<string, string | undefined> => {
  const out: Record<string, string | undefined> = {}
  for (const name in headers) {
    const value = headers[name]
    out[name] = Array.isArray(value) ? value.join(", ") : value
  }
  return out
}

const make = (options: MockSfoxServerOptions): Effect.Effect<MockSfoxServerService, never, Scope.Scope> =>
  Effect.gen(function*() {
    const simulator = yield* SfoxSimulator.make(options)
    const runtime = yield* Effect.runtime<never>()
    const runFork = Runtime.runFork(runtime)
    const maxRequestBytes = options.maxRequestBytes ?? 1024 * 1024
    const sockets = new Set<Net.Socket>()
    const timers = new Set<ReturnType<typeof setTimeout>>()
    const later = (millis: number, f: () => void) => {
      const timer = setTimeout(() => {
        timers.delete(timer)
        f()
      }, millis)
      timers.add(timer)
    }

    const act = (socket: Net.Socket, res: Http.ServerResponse, answer: SfoxSimulator.SimResponse) => {
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
        case "Trickle": {
          res.writeHead(answer.status, headers)
          let offset = 0
          const next = () => {
            if (socket.destroyed) return
            const end = Math.min(body.length, offset + delivery.chunkSize)
            res.write(body.subarray(offset, end))
            offset = end
            if (offset < body.length) later(delivery.intervalMillis, next)
            else res.end()
          }
          next()
          return
        }
      }
    }

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
        runFork(simulator.handle({
          method: req.method ?? "GET",
          path: query === -1 ? url : url.slice(0, query),
          headers: flatHeaders(req.headers),
          body: Buffer.concat(chunks).toString("utf8")
        })).addObserver((exit) => {
          if (exit._tag === "Success") act(req.socket, res, exit.value)
          else req.socket.destroy()
        })
      })
    })
    server.on("connection", (socket) => {
      sockets.add(socket)
      socket.on("close", () => sockets.delete(socket))
      // A client that resets its side is not the server's problem.
      socket.on("error", () => {})
    })
    server.on("clientError", (_error, socket) => socket.destroy())

    const port = yield* Effect.acquireRelease(
      Effect.async<number>((resume) => {
        server.listen(options.port ?? 0, "127.0.0.1", () => {
          const address = server.address()
          resume(Effect.succeed(typeof address === "object" && address !== null ? address.port : 0))
        })
      }),
      () =>
        Effect.async<void>((resume) => {
          for (const timer of timers) clearTimeout(timer)
          timers.clear()
          server.close(() => resume(Effect.void))
          for (const socket of sockets) socket.destroy()
          server.closeAllConnections()
        })
    )

    return { ...simulator, url: `http://127.0.0.1:${port}`, port }
  })
