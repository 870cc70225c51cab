/**
 * Reaching the server at all: nobody listening, a certificate the client
 * must refuse, a TLS handshake that never ends. Each fails typed, once, at
 * the bound that owns it, and shows no key. The Effect 4 edition's twin of
 * test/NodeSfox.connect.test.ts.
 */
import { assert, describe, it } from "@effect/vitest"
import { NodeSfox } from "@sfox-effect/effect4-node"
import { Effect, Ref, Schedule } from "effect"
import { execFileSync } from "node:child_process"
import * as Fs from "node:fs"
import * as Https from "node:https"
import * as Net from "node:net"
import * as Os from "node:os"
import * as Path from "node:path"
import { codeOf } from "../packages/effect4-core/src/internal/transport.js"
import { closedPort, fastRetry, leakFree } from "./utils/harness.js"
import { assertNoKey, expectTransport, rawServer, serviceAt } from "./utils/nodeSfox.js"

/** A fresh self-signed certificate for 127.0.0.1, made by openssl for this run (no key material in the repository). */
const selfSignedCert = (): { readonly key: string; readonly cert: string } => {
  const dir = Fs.mkdtempSync(Path.join(Os.tmpdir(), "sfox-tls-"))
  try {
    const key = Path.join(dir, "key.pem")
    const cert = Path.join(dir, "cert.pem")
    execFileSync("openssl", [
      "req",
      "-x509",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:prime256v1",
      "-nodes",
      "-keyout",
      key,
      "-out",
      cert,
      "-days",
      "1",
      "-subj",
      "/CN=127.0.0.1",
      "-addext",
      "subjectAltName=IP:127.0.0.1"
    ], { stdio: "ignore" })
    return { key: Fs.readFileSync(key, "utf8"), cert: Fs.readFileSync(cert, "utf8") }
  } finally {
    Fs.rmSync(dir, { recursive: true, force: true })
  }
}

describe("NodeSfox.httpClient connecting: nobody listening, a refused certificate, a handshake that never ends", () => {
  it.live("nothing listening: TransportError Connect", () =>
    leakFree(
      Effect.gen(function*() {
        const port = yield* closedPort
        const tokens = yield* serviceAt(`http://127.0.0.1:${port}`, { timeout: "1 second", retry: Schedule.recurs(0) })
        const error = expectTransport(yield* Effect.flip(tokens.create("u1")), "Connect")
        assert.strictEqual(codeOf(error.cause), "ECONNREFUSED")
        assertNoKey(error)
      }).pipe(Effect.scoped, Effect.provide(NodeSfox.httpClient))
    ))

  it.live("a self-signed certificate: TransportError Tls after one attempt, whatever the retry policy", () =>
    leakFree(
      Effect.gen(function*() {
        const connections = yield* Ref.make(0)
        const server = Https.createServer(selfSignedCert(), (_request, response) => response.end())
        server.on("connection", () => Effect.runSync(Ref.update(connections, (n) => n + 1)))
        server.on("tlsClientError", () => {})
        const port = yield* rawServer(server)
        const tokens = yield* serviceAt(`https://127.0.0.1:${port}`, { timeout: "5 seconds", retry: fastRetry })
        const error = expectTransport(yield* Effect.flip(tokens.create("u1")), "Tls")
        assert.strictEqual(codeOf(error.cause), "DEPTH_ZERO_SELF_SIGNED_CERT")
        assert.strictEqual(yield* Ref.get(connections), 1)
        assertNoKey(error)
      }).pipe(Effect.scoped, Effect.provide(NodeSfox.httpClient))
    ))

  it.live("a TLS handshake that never completes: Connect at the connectTimeout", () =>
    leakFree(
      Effect.gen(function*() {
        const silent = new Set<Net.Socket>()
        const server = Net.createServer((socket) => {
          silent.add(socket)
          socket.on("error", () => {})
          socket.on("close", () => silent.delete(socket))
        })
        const port = yield* rawServer(server)
        yield* Effect.addFinalizer(() => Effect.sync(() => silent.forEach((socket) => socket.destroy())))
        const tokens = yield* serviceAt(`https://127.0.0.1:${port}`, {
          timeout: "5 seconds",
          retry: Schedule.recurs(0)
        })
        // Connect, with undici's code: the connectTimeout ended it, not the
        // service's 5 s attempt timeout (that would be Timeout), nor undici's
        // own 10 s default (later than the service's).
        const error = expectTransport(yield* Effect.flip(tokens.create("u1")), "Connect")
        assert.strictEqual(codeOf(error.cause), "UND_ERR_CONNECT_TIMEOUT")
      }).pipe(Effect.scoped, Effect.provide(NodeSfox.httpClientWith({ connectTimeout: "200 millis" })))
    ))
})
