/**
 * `clientFor(userId)` in the Effect 4 edition (the twin of
 * test/ClientFor.bodies.test.ts), with every kind of request body HttpBody can hold,
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
 *
 * The body kinds, the paths and the user endpoint are shared with the
 * 3.x line (test/shared/ClientForBodies.ts).
 */
import { assert, describe, it } from "@effect/vitest"
import { type UserTokenError, UserTokenService } from "@sfox-effect/effect4-core"
import { SfoxSimulator } from "@sfox-effect/effect4-core/testing"
import { NodeSfox } from "@sfox-effect/effect4-node"
import { Cause, Effect, Exit, Option, type Scope, Stream } from "effect"
import { HttpBody, HttpClient, type HttpClientError, HttpClientRequest, type HttpClientResponse } from "effect/http"
import { Readable } from "node:stream"
import {
  type BodyMakers,
  kinds,
  paths,
  payload,
  readBack,
  startUserServer,
  type UserServer
} from "../test/shared/ClientForBodies.js"
import { fastRetry, leakFree } from "./utils/harness.js"

/** The user endpoint, its mints answered by a simulator. */
type Server = UserServer & { readonly simulator: SfoxSimulator.SfoxSimulator }

/** A user endpoint; closed with the scope. */
const userServer: Effect.Effect<Server, never, Scope.Scope> = Effect.gen(function*() {
  const simulator = yield* SfoxSimulator.make({})
  const runPromise = Effect.runPromiseWith(yield* Effect.context<never>())
  const server = yield* Effect.acquireRelease(
    Effect.promise(() => startUserServer((request) => runPromise(simulator.handle(request)))),
    (server) => Effect.promise(server.close)
  )
  return { ...server, simulator }
})

/** A user server and a service over NodeSfox's client, both closed when `body` ends. */
const withUserServer = <A, E>(
  service: Partial<UserTokenService.Options>,
  body: (
    server: Server,
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

/** Effect 4's HttpBody constructors, for the shared kinds. */
const make: BodyMakers<HttpBody.HttpBody> = {
  empty: HttpBody.empty,
  text: (body) => HttpBody.text(body),
  uint8Array: (body) => HttpBody.uint8Array(body),
  raw: (body, contentType) => HttpBody.raw(body, contentType === undefined ? undefined : { contentType }),
  formData: (body) => HttpBody.formData(body),
  streamOf: (source, contentType) => HttpBody.stream(Stream.fromAsyncIterable(source, (error) => error), contentType)
}

const outcome = (
  exit: Exit.Exit<HttpClientResponse.HttpClientResponse, HttpClientError.HttpClientError | UserTokenError>
): number | string =>
  Exit.isSuccess(exit)
    ? exit.value.status
    : Option.match(Cause.findErrorOption(exit.cause), {
      onNone: () => `defect: ${Cause.pretty(exit.cause)}`,
      onSome: (error) => error._tag
    })

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
              HttpClientRequest.setBody(kind.body(make))
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
        // Effect 4's one HttpClientError (its reason a DecodeError), where 3.x had a ResponseError.
        assert.strictEqual(error._tag, "HttpClientError")
        assert.strictEqual(error.reason._tag, "DecodeError")
        const cause = error.cause as { _tag?: string; reason?: string }
        assert.strictEqual(cause._tag, "TransportError")
        assert.strictEqual(cause.reason, "Timeout")
        assert.strictEqual(error.request.headers["authorization"], undefined)
      })))
})

describe("NodeSfox's client: a body read as it is sent is never sent a second time", () => {
  const readOnce = kinds.filter((kind) => !kind.replayable && kind.name.startsWith("Raw"))
  for (const kind of readOnce) {
    it.live(`${kind.name}: the same request executed twice fails the second time with HttpClientError EncodeError`, () =>
      withUserServer({}, (server) =>
        Effect.gen(function*() {
          const client = yield* HttpClient.HttpClient
          const request = HttpClientRequest.put(`${server.url}/v1/user/things`).pipe(
            HttpClientRequest.setBody(kind.body(make))
          )
          assert.strictEqual((yield* client.execute(request)).status, 200)
          const error = yield* Effect.flip(client.execute(request))
          assert.strictEqual(error._tag, "HttpClientError")
          assert.strictEqual((error as HttpClientError.HttpClientError).reason._tag, "EncodeError")
          assert.deepStrictEqual(server.received.map(readBack), [kind.bytes])
        })))
  }

  it.live("a Readable read elsewhere before it is sent fails with HttpClientError EncodeError, and nothing goes out", () =>
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
        assert.strictEqual(error._tag, "HttpClientError")
        assert.strictEqual(error.reason._tag, "EncodeError")
        assert.deepStrictEqual(server.received, [])
      })))
})
