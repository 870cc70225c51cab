/**
 * `clientFor`'s request-body table, shared by both editions'
 * ClientFor.bodies suites (test/ClientFor.bodies.test.ts,
 * test-effect4/ClientFor.bodies.test.ts): every kind of body an `HttpBody`
 * can hold (built through the edition's own `HttpBody`, handed in as
 * `BodyMakers`), whether it can be replayed byte for byte and what the server
 * reads of it; the paths that may send a request again; and the user
 * endpoint itself, a loopback `node:http` server that records what each
 * request carried and answers from a script (mints go to the edition's
 * simulator, through `mint`). Plain data, node:* and web values: no Effect.
 */
import * as Http from "node:http"
import type * as Net from "node:net"
import { Readable } from "node:stream"

export const payload = "{\"note\":\"nothing lost, nothing left behind\"}"
const bytes = () => new TextEncoder().encode(payload)

/** What one user request carried, as the server read it. */
export interface Received {
  readonly method: string
  readonly contentLength: string | undefined
  readonly contentType: string | undefined
  readonly body: string
}

/** How the server answers the next user request; once the script runs out, 200. */
export type Scripted = "503" | "401" | "reset" | { readonly trickle: number }

/** A request to the enterprise endpoints, handed to the simulator. */
export interface MintRequest {
  readonly method: string
  readonly path: string
  readonly headers: Record<string, string | undefined>
  readonly body: string
}

export interface UserServer {
  readonly url: string
  readonly received: Array<Received>
  readonly script: Array<Scripted>
  /** Stops the server: its timers, its sockets, then the listener. */
  readonly close: () => Promise<void>
}

const answer = (res: Http.ServerResponse, status: number, body: string) => {
  res.writeHead(status, { "content-type": "application/json", "content-length": String(Buffer.byteLength(body)) })
  res.end(body)
}

/**
 * The server: `/v1/enterprise/*` is `mint` (the simulator: its answer, or
 * undefined to drop the connection), anything else a user endpoint that
 * records the request and answers by the script. A trickled answer sends its
 * headers, then one byte every `trickle` ms.
 */
export const startUserServer = (
  mint: (request: MintRequest) => Promise<{ readonly status: number; readonly body: string } | undefined>
): Promise<UserServer> => {
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
        return void mint({ method: req.method ?? "GET", path, headers, body }).then(
          (minted) => minted === undefined ? req.socket.destroy() : answer(res, minted.status, minted.body),
          () => req.socket.destroy()
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
  const close = () =>
    new Promise<void>((resolve) => {
      for (const timer of timers) clearTimeout(timer)
      server.close(() => resolve())
      for (const socket of sockets) socket.destroy()
      server.closeAllConnections()
    })
  return new Promise((resolve) => {
    server.listen(0, "127.0.0.1", () => {
      const port = (server.address() as Net.AddressInfo).port
      resolve({ url: `http://127.0.0.1:${port}`, received, script, close })
    })
  })
}

/** The edition's `HttpBody` constructors a kind builds its body with. */
export interface BodyMakers<B> {
  readonly empty: B
  /** `HttpBody.text` */
  readonly text: (body: string) => B
  /** `HttpBody.uint8Array` */
  readonly uint8Array: (body: Uint8Array) => B
  readonly raw: (body: unknown, contentType?: string) => B
  readonly formData: (body: FormData) => B
  /** `HttpBody.stream` over the edition's `Stream.fromAsyncIterable` of this Readable. */
  readonly streamOf: (source: Readable, contentType: string) => B
}

/** One kind of body: a fresh one per request, and whether it may be sent twice. */
export interface Kind {
  readonly name: string
  readonly replayable: boolean
  readonly body: <B>(make: BodyMakers<B>) => B
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

const json = "application/json"

export const kinds: ReadonlyArray<Kind> = [
  { name: "Empty", replayable: true, body: (make) => make.empty, bytes: "" },
  { name: "Uint8Array (HttpBody.text)", replayable: true, body: (make) => make.text(payload), bytes: payload },
  { name: "Uint8Array", replayable: true, body: (make) => make.uint8Array(bytes()), bytes: payload },
  { name: "Raw(string)", replayable: true, body: (make) => make.raw(payload, json), bytes: payload },
  { name: "Raw(Buffer)", replayable: true, body: (make) => make.raw(Buffer.from(payload), json), bytes: payload },
  { name: "Raw(Blob)", replayable: true, body: (make) => make.raw(new Blob([payload])), bytes: payload },
  { name: "FormData of strings", replayable: true, body: (make) => make.formData(form(false)), bytes: formText(false) },
  { name: "FormData with a Blob", replayable: true, body: (make) => make.formData(form(true)), bytes: formText(true) },
  {
    name: "Raw(Readable)",
    replayable: false,
    body: (make) => make.raw(Readable.from([Buffer.from(payload)]), json),
    bytes: payload
  },
  {
    name: "Raw(async iterable)",
    replayable: false,
    body: (make) =>
      make.raw(
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
    body: (make) =>
      make.raw(
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
    body: (make) => make.streamOf(Readable.from([Buffer.from(payload)]), json),
    bytes: payload
  }
]

/** The body as the server read it, a form's boundary written as `BOUNDARY`. */
export const readBack = (received: Received): string => {
  const boundary = /boundary=(.+)$/.exec(received.contentType ?? "")?.[1]
  return boundary === undefined ? received.body : received.body.split(boundary).join("BOUNDARY")
}

export interface Path {
  readonly name: string
  readonly method: "GET" | "PUT" | "DELETE" | "POST"
  readonly script: Scripted
  /** What a body sent once gets: the first answer's status, or the failure's tag. */
  readonly once: number | "TransportError"
}

export const paths: ReadonlyArray<Path> = [
  { name: "a 503 to a PUT", method: "PUT", script: "503", once: 503 },
  { name: "a 503 to a GET", method: "GET", script: "503", once: 503 },
  { name: "a connection reset after a DELETE was read", method: "DELETE", script: "reset", once: "TransportError" },
  { name: "a 401 to a POST (a new token is minted)", method: "POST", script: "401", once: 401 }
]
