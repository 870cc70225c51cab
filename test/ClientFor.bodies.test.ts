/**
 * `clientFor(userId)` with every kind of request body HttpBody can hold,
 * over a real socket (NodeSfox's undici client), crossed with every path that
 * may send a request again: a 503 to an idempotent method, a connection reset
 * after the request was read, a 401 that mints a new token. The user
 * endpoint is a loopback `node:http` server that records what each request
 * carried (bytes and headers) and answers from a script; mints go to the
 * simulator.
 *
 * A body that can be replayed byte for byte is sent again with the same
 * bytes, and the caller gets the 2xx; any other is sent once, and the caller
 * gets the first answer (or the typed failure), never the 2xx of an empty
 * re-send.
 */
import * as HttpBody from "@effect/platform/HttpBody"
import * as HttpClient from "@effect/platform/HttpClient"
import type * as HttpClientError from "@effect/platform/HttpClientError"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import type * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import { assert, describe, it } from "@effect/vitest"
import { type UserTokenError, UserTokenService } from "@sfox-effect/core"
import { SfoxSimulator } from "@sfox-effect/core/testing"
import { NodeSfox } from "@sfox-effect/node"
import { Effect, Exit, Runtime, type Scope, Stream } from "effect"
import * as Http from "node:http"
import type * as Net from "node:net"
import { Readable } from "node:stream"
import { fastRetry, leakFree } from "./utils/harness.js"

const payload = "{\"note\":\"nothing lost, nothing left behind\"}"
const bytes = () => new TextEncoder().encode(payload)

/** What one user request carried, as the server read it. */
interface Received {
  readonly method: string
  readonly contentLength: string | undefined
  readonly contentType: string | undefined
  readonly body: string
}

/** How the server answers the next user request; once the script runs out, 200. */
type Scripted = "503" | "401" | "reset" | { readonly trickle: number }

interface UserServer {
  readonly url: string
  readonly received: Array<Received>
  readonly script: Array<Scripted>
  readonly simulator: SfoxSimulator.SfoxSimulator
}

const answer = (res: Http.ServerResponse, status: number, body: string) => {
  res.writeHead(status, { "content-type": "application/json", "content-length": String(Buffer.byteLength(body)) })
  res.end(body)
}

/**
 * The server: `/v1/enterprise/*` is the simulator (the mints), anything else
 * a user endpoint that records the request and answers by the script. A
 * trickled answer sends its headers, then one byte every `trickle` ms.
 */
const userServer: Effect.Effect<UserServer, never, Scope.Scope> = Effect.gen(function*() {
  const simulator = yield* SfoxSimulator.make({})
  const runFork = Runtime.runFork(yield* Effect.runtime<never>())
  const received: Array<Received> = []
  const script: Array<Scripted> = []
  const sockets = new Set<Net.Socket>()
  const timers = new Set<ReturnType<typeof setTimeout>>()
  const trickle = (res: Http.ServerResponse, intervalMillis: number) => {
    const body = Buffer.from(JSON.stringify({ trickled: payload }))
    res.writeHead(200, { "content-type": "application/json", "content-length": String(body.length) })
    let offset = 0
    const next = () => {
      if (res.destroyed) return
      res.write(body.subarray(offset, ++offset))
      if (offset === body.length) return void res.end()
      const timer = setTimeout(() => {
        timers.delete(timer)
        next()
      }, intervalMillis)
      timers.add(timer)
    }
    next()
  }
  const server = Http.createServer((req, res) => {
    const chunks: Array<Buffer> = []
    req.on("data", (chunk: Buffer) => chunks.push(chunk))
    req.on("end", () => {
      const body = Buffer.concat(chunks).toString("utf8")
      const path = req.url ?? "/"
      if (path.startsWith("/v1/enterprise/")) {
        const headers: Record<string, string | undefined> = {}
        for (const [name, value] of Object.entries(req.headers)) headers[name] = String(value)
        return void runFork(simulator.handle({ method: req.method ?? "GET", path, headers, body })).addObserver(
          (exit) => Exit.isSuccess(exit) ? answer(res, exit.value.status, exit.value.body) : req.socket.destroy()
        )
      }
      received.push({
        method: req.method ?? "",
        contentLength: req.headers["content-length"],
        contentType: req.headers["content-type"],
        body
      })
      const next = script.shift()
      if (next === "503") return answer(res, 503, "{\"error\":\"try later\"}")
      if (next === "401") return answer(res, 401, "{\"error\":\"invalid token\"}")
      if (next === "reset") return void req.socket.resetAndDestroy()
      if (next !== undefined) return trickle(res, next.trickle)
      answer(res, 200, JSON.stringify({ bytes: Buffer.byteLength(body) }))
    })
  })
  server.on("connection", (socket) => {
    sockets.add(socket)
    socket.on("close", () => sockets.delete(socket))
    socket.on("error", () => {})
  })
  const port = yield* Effect.acquireRelease(
    Effect.async<number>((resume) => {
      server.listen(0, "127.0.0.1", () => resume(Effect.succeed((server.address() as Net.AddressInfo).port)))
    }),
    () =>
      Effect.async<void>((resume) => {
        for (const timer of timers) clearTimeout(timer)
        server.close(() => resume(Effect.void))
        for (const socket of sockets) socket.destroy()
        server.closeAllConnections()
      })
  )
  return { url: `http://127.0.0.1:${port}`, received, script, simulator }
})

/** A user server and a service over NodeSfox's client, both closed when `body` ends. */
const withUserServer = <A, E>(
  service: Partial<UserTokenService.Options>,
  body: (
    server: UserServer,
    tokens: UserTokenService.Service
  ) => Effect.Effect<A, E, Scope.Scope | HttpClient.HttpClient>
) =>
  leakFree(
    Effect.gen(function*() {
      const server = yield* userServer
      const tokens = yield* UserTokenService.make({
        apiKey: server.simulator.apiKey,
        baseUrl: server.url,
        timeout: "2 seconds",
        retry: fastRetry,
        rateLimit: false,
        cache: true,
        ...service
      })
      return yield* body(server, tokens)
    }).pipe(Effect.scoped, Effect.provide(NodeSfox.httpClientWith({})))
  )

/** One kind of body: a fresh one per request, and whether it may be sent twice. */
interface Kind {
  readonly name: string
  readonly replayable: boolean
  readonly body: () => HttpBody.HttpBody
  /** What the server reads of it (a form's boundary written as `BOUNDARY`). */
  readonly bytes: string
}

const form = (withBlob: boolean) => {
  const data = new FormData()
  data.append("note", payload)
  data.append("side", "buy")
  if (withBlob) data.append("file", new Blob([payload], { type: "application/json" }), "note.json")
  return data
}

const formText = (withBlob: boolean) =>
  [
    `--BOUNDARY\r\nContent-Disposition: form-data; name="note"\r\n\r\n${payload}\r\n`,
    `--BOUNDARY\r\nContent-Disposition: form-data; name="side"\r\n\r\nbuy\r\n`,
    ...withBlob
      ? [
        `--BOUNDARY\r\nContent-Disposition: form-data; name="file"; filename="note.json"\r\n` +
        `Content-Type: application/json\r\n\r\n${payload}\r\n`
      ]
      : [],
    "--BOUNDARY--\r\n"
  ].join("")

const json = { contentType: "application/json" }

const kinds: ReadonlyArray<Kind> = [
  { name: "Empty", replayable: true, body: () => HttpBody.empty, bytes: "" },
  { name: "Uint8Array (HttpBody.text)", replayable: true, body: () => HttpBody.text(payload), bytes: payload },
  { name: "Uint8Array", replayable: true, body: () => HttpBody.uint8Array(bytes()), bytes: payload },
  { name: "Raw(string)", replayable: true, body: () => HttpBody.raw(payload, json), bytes: payload },
  { name: "Raw(Buffer)", replayable: true, body: () => HttpBody.raw(Buffer.from(payload), json), bytes: payload },
  { name: "Raw(Blob)", replayable: true, body: () => HttpBody.raw(new Blob([payload])), bytes: payload },
  { name: "FormData of strings", replayable: true, body: () => HttpBody.formData(form(false)), bytes: formText(false) },
  { name: "FormData with a Blob", replayable: true, body: () => HttpBody.formData(form(true)), bytes: formText(true) },
  {
    name: "Raw(Readable)",
    replayable: false,
    body: () => HttpBody.raw(Readable.from([Buffer.from(payload)]), json),
    bytes: payload
  },
  {
    name: "Raw(async iterable)",
    replayable: false,
    body: () =>
      HttpBody.raw(
        (async function*() {
          yield bytes()
        })(),
        json
      ),
    bytes: payload
  },
  {
    name: "Raw(ReadableStream)",
    replayable: false,
    body: () =>
      HttpBody.raw(
        new ReadableStream<Uint8Array>({
          start(controller) {
            controller.enqueue(bytes())
            controller.close()
          }
        }),
        json
      ),
    bytes: payload
  },
  {
    name: "Stream (from a Readable)",
    replayable: false,
    body: () => {
      const source = Readable.from([Buffer.from(payload)])
      return HttpBody.stream(Stream.fromAsyncIterable(source, (error) => error), "application/json")
    },
    bytes: payload
  }
]

/** The body as the server read it, a form's boundary written as `BOUNDARY`. */
const readBack = (received: Received): string => {
  const boundary = /boundary=(.+)$/.exec(received.contentType ?? "")?.[1]
  return boundary === undefined ? received.body : received.body.split(boundary).join("BOUNDARY")
}

interface Path {
  readonly name: string
  readonly method: "GET" | "PUT" | "DELETE" | "POST"
  readonly script: Scripted
  /** What a body sent once gets: the first answer's status, or the failure's tag. */
  readonly once: number | "TransportError"
}

const paths: ReadonlyArray<Path> = [
  { name: "a 503 to a PUT", method: "PUT", script: "503", once: 503 },
  { name: "a 503 to a GET", method: "GET", script: "503", once: 503 },
  { name: "a connection reset after a DELETE was read", method: "DELETE", script: "reset", once: "TransportError" },
  { name: "a 401 to a POST (a new token is minted)", method: "POST", script: "401", once: 401 }
]

const outcome = (
  exit: Exit.Exit<HttpClientResponse.HttpClientResponse, HttpClientError.HttpClientError | UserTokenError>
): number | string =>
  Exit.isSuccess(exit)
    ? exit.value.status
    : exit.cause._tag === "Fail"
    ? exit.cause.error._tag
    : `defect: ${String(exit.cause)}`

describe("clientFor over a socket: a body is sent again only when it can be replayed byte for byte", () => {
  for (const path of paths) {
    for (const kind of kinds) {
      const expected = kind.replayable ? "sent again with the same bytes, the 2xx" : "sent once, the first answer"
      it.live(`${path.name}, ${kind.name}: ${expected}`, () =>
        withUserServer({}, (server, tokens) =>
          Effect.gen(function*() {
            yield* tokens.get("u1")
            server.script.push(path.script)
            const request = HttpClientRequest.make(path.method)("/v1/user/things").pipe(
              HttpClientRequest.setBody(kind.body())
            )
            const exit = yield* Effect.exit(tokens.clientFor("u1").execute(request))
            const sent = server.received.map(readBack)
            const mints = (yield* server.simulator.requests).length
            if (kind.replayable) {
              assert.strictEqual(outcome(exit), 200)
              assert.deepStrictEqual(sent, [kind.bytes, kind.bytes])
              assert.strictEqual(server.received[0]!.contentLength, server.received[1]!.contentLength)
              assert.strictEqual(mints, path.script === "401" ? 2 : 1)
            } else {
              assert.strictEqual(outcome(exit), path.once)
              assert.deepStrictEqual(sent, [kind.bytes])
              assert.strictEqual(mints, 1)
            }
          })))
    }
  }
})

describe("clientFor over a socket: reading an answer's body is bounded", () => {
  it.live("a body that trickles in fails the read with a Timeout (cause TransportError) within the attempt's time", () =>
    withUserServer({ timeout: "300 millis" }, (server, tokens) =>
      Effect.gen(function*() {
        yield* tokens.get("u1")
        // About 70 bytes, one each 100 ms: 7 s to come in whole.
        server.script.push({ trickle: 100 })
        const response = yield* tokens.clientFor("u1").get("/v1/user/things")
        assert.strictEqual(response.status, 200)
        const error = yield* Effect.flip(response.text)
        assert.strictEqual(error._tag, "ResponseError")
        const cause = error.cause as { _tag?: string; reason?: string }
        assert.strictEqual(cause._tag, "TransportError")
        assert.strictEqual(cause.reason, "Timeout")
        assert.strictEqual(error.request.headers["authorization"], undefined)
      })))
})

describe("NodeSfox's client: a body read as it is sent is never sent a second time", () => {
  const readOnce = kinds.filter((kind) => !kind.replayable && kind.name.startsWith("Raw"))
  for (const kind of readOnce) {
    it.live(`${kind.name}: the same request executed twice fails the second time with RequestError Encode`, () =>
      withUserServer({}, (server) =>
        Effect.gen(function*() {
          const client = yield* HttpClient.HttpClient
          const request = HttpClientRequest.put(`${server.url}/v1/user/things`).pipe(
            HttpClientRequest.setBody(kind.body())
          )
          assert.strictEqual((yield* client.execute(request)).status, 200)
          const error = yield* Effect.flip(client.execute(request))
          assert.strictEqual(error._tag, "RequestError")
          assert.strictEqual((error as HttpClientError.RequestError).reason, "Encode")
          assert.deepStrictEqual(server.received.map(readBack), [kind.bytes])
        })))
  }

  it.live("a Readable read elsewhere before it is sent fails with RequestError Encode, and nothing goes out", () =>
    withUserServer({}, (server) =>
      Effect.gen(function*() {
        const client = yield* HttpClient.HttpClient
        const readable = Readable.from([Buffer.from(payload)])
        yield* Effect.promise(() => readable.toArray())
        const error = yield* Effect.flip(
          client.execute(
            HttpClientRequest.put(`${server.url}/v1/user/things`).pipe(
              HttpClientRequest.setBody(HttpBody.raw(readable))
            )
          )
        )
        assert.strictEqual(error._tag, "RequestError")
        assert.deepStrictEqual(server.received, [])
      })))
})
