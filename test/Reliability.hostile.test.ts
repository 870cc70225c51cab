/**
 * The reliability suite, hostile part (issue 10): answers a hostile or broken
 * server may send, and inputs a careless caller may pass. Every outcome is a
 * value (a token or a typed failure), never a defect; nothing holds the event
 * loop for long; nothing prints the key or a token. Answers are served over
 * real sockets (MockSfoxServer, or a raw `node:http` server on 127.0.0.1) and,
 * where it applies, by FakeSfox.
 */
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import { assert, describe, it } from "@effect/vitest"
import { InvalidUserId, isUserTokenError, type UserTokenError, UserTokenService } from "@sfox-effect/core"
import { FakeSfox, Fault } from "@sfox-effect/core/testing"
import { NodeSfox } from "@sfox-effect/node"
import type { Layer } from "effect"
import {
  Cause,
  Clock,
  Deferred,
  Duration,
  Effect,
  Either,
  Exit,
  FastCheck as fc,
  Fiber,
  FiberId,
  Redacted,
  Runtime,
  Schedule,
  TestClock
} from "effect"
import * as Http from "node:http"
import type * as Net from "node:net"
import * as Util from "node:util"
import { assertConfigError } from "../packages/core/test/utils/configError.js"
import { expectTag, fastRetry, withServer } from "./utils/harness.js"

const KEY = "sk-Zq81-7c2e9a41d0b3-XwVm"
const TOKEN = "7a".repeat(32)

/** Every way a program could print a value. */
const renderings = (value: unknown): Array<string> => [
  value instanceof Error ? value.message : "",
  String(value),
  JSON.stringify(value) ?? "",
  Util.inspect(value, { depth: 12 }),
  Cause.pretty(Cause.fail(value), { renderErrorCause: true })
]

const assertClean = (value: unknown, secrets: ReadonlyArray<string>, where: string) => {
  for (const text of renderings(value)) {
    for (const secret of secrets) assert.notInclude(text, secret, `${where} shows a secret`)
  }
}

/** Whether an exit is a success or a typed failure: anything else (a defect, an interruption) is not. */
const typedOutcome = <A>(exit: Exit.Exit<A, UserTokenError>, where: string): UserTokenError | undefined => {
  if (Exit.isSuccess(exit)) return undefined
  const failure = Cause.failureOption(exit.cause)
  assert.isTrue(
    failure._tag === "Some" && Cause.isDie(exit.cause) === false && isUserTokenError(failure.value),
    `${where}: not a typed failure: ${Cause.pretty(exit.cause).slice(0, 300)}`
  )
  return failure._tag === "Some" ? failure.value : undefined
}

type Call = "create" | "createMany" | "get"
const calls: ReadonlyArray<Call> = ["create", "createMany", "get"]

const callWith = (tokens: UserTokenService.Service, call: Call) =>
  call === "create"
    ? tokens.create("u1")
    : call === "createMany"
    ? Effect.map(tokens.createMany(["u1"]), (all) => all[0]!)
    : tokens.get("u1")

// ---------------------------------------------------------------------------
// answers

const inADay = () => new Date(Date.now() + 86_400_000).toISOString()
const deep = (levels: number) => `${"[".repeat(levels)}${"]".repeat(levels)}`

interface AnswerCase {
  readonly name: string
  /** The body of the 201, for a single answer and for a batch answer (both for user u1). */
  readonly body: (shape: "single" | "batch") => string
  readonly description: RegExp
  /** Text that must not appear in the error (the bad token). */
  readonly hidden?: string
}

const tokenAnswer = (fields: Record<string, unknown>) => (shape: "single" | "batch") => {
  const token = { token: TOKEN, partner_user_id: "u1", expires: inADay(), ...fields }
  return JSON.stringify({ data: shape === "single" ? token : [token] })
}

const answerCases: ReadonlyArray<AnswerCase> = [
  {
    name: "3,000 levels of nested arrays as the data",
    body: () => `{"data":${deep(3_000)}}`,
    description: /unexpected value/
  },
  {
    name: "3,000 levels of nested arrays as the token",
    body: (shape) =>
      shape === "single"
        ? `{"data":{"token":${deep(3_000)},"partner_user_id":"u1","expires":"2030-01-01T00:00:00Z"}}`
        : `{"data":[{"token":${deep(3_000)},"partner_user_id":"u1","expires":"2030-01-01T00:00:00Z"}]}`,
    description: /token: unexpected value/
  },
  ...[
    ["CR/LF (a header injection)", `${TOKEN}\r\nX-Injected: 1`],
    ["an escape sequence (clears a terminal)", `\u001b[2J${TOKEN}`],
    ["a space", `${TOKEN} ${TOKEN}`],
    ["a non-ASCII letter", `${TOKEN}é`]
  ].map(([what, token]): AnswerCase => ({
    name: `a token with ${what}`,
    body: tokenAnswer({ token }),
    description: /token: unexpected value/,
    hidden: token!
  })),
  { name: "an empty token", body: tokenAnswer({ token: "" }), description: /token: unexpected value/ },
  {
    name: "a token of 5,000 characters",
    body: tokenAnswer({ token: "a".repeat(5_000) }),
    description: /token: unexpected value/,
    hidden: "a".repeat(50)
  },
  ...[
    ["\"May 5\"", "May 5"],
    ["\"1\"", "1"],
    ["a date without a time", "2030-01-01"],
    ["no time zone", "2030-01-01T00:00:00"],
    ["another time zone (+01:00)", "2030-01-01T00:00:00+01:00"],
    ["a day the month does not have", "2030-02-30T00:00:00Z"],
    ["hour 24", "2030-01-01T24:00:00Z"]
  ].map(([what, expires]): AnswerCase => ({
    name: `expires as ${what}`,
    body: tokenAnswer({ expires }),
    description: /expires: unexpected value/
  })),
  {
    name: "expires an hour before the answer",
    body: tokenAnswer({ expires: new Date(Date.now() - 3_600_000).toISOString() }),
    description: /already expired/
  }
]

describe("hostile answers over a real socket: MalformedResponse, 1 attempt, never a defect", () => {
  for (const c of answerCases) {
    it.live(`${c.name} → MalformedResponse through create, createMany and get (cache on)`, () =>
      withServer(
        { key: KEY, service: { cache: true, batchWindow: "1 millis" } },
        ({ server, tokens }) =>
          Effect.gen(function*() {
            for (const call of calls) {
              yield* server.reset
              yield* server.enqueue(Fault.status(201, { body: c.body(call === "create" ? "single" : "batch") }))
              const exit = yield* Effect.exit(callWith(tokens, call))
              const error = typedOutcome(exit, `${call}: ${c.name}`)
              assert.isDefined(error, `${call} accepted ${c.name}`)
              const malformed = expectTag(error!, "MalformedResponse")
              assert.strictEqual(malformed.status, 201)
              assert.match(malformed.description, c.description, call)
              assert.strictEqual((yield* server.requests).length, 1, `${call}: attempts`)
              assertClean(error, [KEY, ...(c.hidden === undefined ? [] : [c.hidden])], `${call}: ${c.name}`)
            }
          })
      ))
  }

  it.live("control: expires with +00:00, with six fraction digits, and a token of every b64token character", () =>
    withServer({ key: KEY }, ({ server, tokens }) =>
      Effect.gen(function*() {
        const at = new Date(Date.now() + 86_400_000)
        const cases = [
          { token: TOKEN, expires: at.toISOString().replace(/\.\d{3}Z$/, "+00:00") },
          { token: TOKEN, expires: at.toISOString().replace(/Z$/, "123Z") },
          { token: "AZaz09-._~+/==", expires: at.toISOString().replace(/\.\d{3}Z$/, "Z") }
        ]
        for (const fields of cases) {
          yield* server.enqueue(Fault.status(201, { body: tokenAnswer(fields)("single") }))
          const token = yield* tokens.create("u1")
          assert.strictEqual(Redacted.value(token.token), fields.token)
          assert.strictEqual(Math.floor(token.expiresAtMillis / 1000), Math.floor(at.getTime() / 1000))
        }
      })))
})

describe("hostile answers from FakeSfox: the same outcomes in memory", () => {
  for (const c of answerCases) {
    it.live(`${c.name} → MalformedResponse through create, createMany and get (cache on)`, () =>
      Effect.gen(function*() {
        const fake = yield* FakeSfox
        const tokens = yield* UserTokenService
        for (const call of calls) {
          yield* fake.reset
          yield* fake.enqueue(Fault.status(201, { body: c.body(call === "create" ? "single" : "batch") }))
          const error = typedOutcome(yield* Effect.exit(callWith(tokens, call)), `${call}: ${c.name}`)
          assert.isDefined(error, `${call} accepted ${c.name}`)
          assert.match(expectTag(error!, "MalformedResponse").description, c.description, call)
          assertClean(error, [KEY, ...(c.hidden === undefined ? [] : [c.hidden])], `${call}: ${c.name}`)
        }
      }).pipe(
        Effect.provide(
          FakeSfox.layerTest({ apiKey: KEY }, { retry: fastRetry, rateLimit: false, cache: true, batchWindow: 0 })
        )
      ))
  }
})

/** A body of 10 MiB (and more) that is not JSON: one unbroken run, the worst case for the old scrubber. */
const huge = "x".repeat(10 * 1024 * 1024 + 17)

describe("answers of any size cost what an error keeps (FetchHttpClient: no size limit)", () => {
  it.live("a 10 MiB non-JSON 201 → TransportError TooLarge, read no further than the bound, 1 attempt", () =>
    withServer({ key: KEY, client: FetchHttpClient.layer }, ({ server, tokens }) =>
      Effect.gen(function*() {
        yield* server.enqueue(Fault.malformed(huge))
        const error = typedOutcome(yield* Effect.exit(tokens.create("u1")), "create")
        assert.strictEqual(expectTag(error!, "TransportError").reason, "TooLarge")
        assert.strictEqual((yield* server.requests).length, 1)
      })))

  it.live("a 60 KiB non-JSON 201 (within the bound) → MalformedResponse \"not JSON\", a short excerpt", () =>
    withServer({ key: KEY, client: FetchHttpClient.layer }, ({ server, tokens }) =>
      Effect.gen(function*() {
        yield* server.enqueue(Fault.malformed(`${"x".repeat(60 * 1024)}${KEY}`))
        const error = typedOutcome(yield* Effect.exit(tokens.create("u1")), "create")
        const malformed = expectTag(error!, "MalformedResponse")
        assert.match(malformed.description, /^not JSON/)
        assert.isAtMost(malformed.description.length, 220)
        assertClean(error, [KEY], "MalformedResponse")
      })))

  it.live("a 10 MiB non-JSON 502 → HttpFailure 502 with a short excerpt, retried as a 5xx", () =>
    withServer({ key: KEY, client: FetchHttpClient.layer }, ({ server, tokens }) =>
      Effect.gen(function*() {
        const page = `<html>${"<p>Bad Gateway</p>\n".repeat(600_000)}${KEY}</html>`
        yield* server.enqueue([page, page, page].map((body) => Fault.status(502, { body })))
        const error = typedOutcome(yield* Effect.exit(tokens.create("u1")), "create")
        const failure = expectTag(error!, "HttpFailure")
        assert.strictEqual(failure.status, 502)
        assert.isAtMost(failure.description.length, 220)
        assert.strictEqual((yield* server.requests).length, 3)
        assertClean(error, [KEY], "HttpFailure")
      })))

  it("the scrubber looks at a bounded part of the text, and never leaves a part of the key at its cut", async () => {
    const { maxExcerpt, maxScanned, scrub } = await import("../packages/domain/src/Scrub.js")
    // The key straddles the scan window's edge, after a run of whitespace that collapses to one space.
    for (let shift = 0; shift < KEY.length; shift++) {
      const text = `${" ".repeat(maxScanned + KEY.length - shift)}${KEY}`
      const out = scrub(text, [KEY])
      for (let n = 6; n <= KEY.length; n++) assert.notInclude(out, KEY.slice(0, n), `shift ${shift}`)
    }
    // The same for a 64-hex token the scrubber does not know of.
    for (let shift = 1; shift < 64; shift++) {
      const text = `${"\n".repeat(maxScanned - shift)}${TOKEN}`
      assert.notInclude(scrub(text, [KEY]), TOKEN.slice(0, 8), `shift ${shift}`)
    }
    assert.isAtMost(scrub(huge, [KEY]).length, maxExcerpt + 1)
  })
})

// ---------------------------------------------------------------------------
// Retry-After, on virtual time

const plainRetry = Schedule.spaced("100 millis").pipe(Schedule.intersect(Schedule.recurs(3)))

const onVirtualTime = (faults: ReadonlyArray<Fault>, service: Partial<UserTokenService.Options> = {}) =>
  Effect.gen(function*() {
    const sfox = yield* FakeSfox
    yield* sfox.enqueue(faults)
    const tokens = yield* UserTokenService
    const fiber = yield* Effect.fork(
      Effect.flatMap(
        Effect.exit(tokens.create("u1")),
        (exit) => Effect.map(Clock.currentTimeMillis, (at) => ({ exit, at }))
      )
    )
    yield* TestClock.adjust("5 minutes")
    const { at, exit } = yield* Fiber.join(fiber)
    return { exit, endedAt: at, attempts: (yield* sfox.requests).map((r) => r.at) }
  }).pipe(Effect.provide(FakeSfox.layerTest({}, { retry: plainRetry, rateLimit: false, ...service })))

const nonsense = ["-5", "1.5", "+5", "1, 2", "5 seconds", "0x10", "Thu, 01 Jan 1970 00:00:03 +0000", "yesterday"]

describe("Retry-After: delay-seconds and HTTP dates only; anything else is no hint", () => {
  for (const value of nonsense) {
    it.effect(`429 with Retry-After: ${JSON.stringify(value)} → RateLimited (the 60 s lockout) at once, 1 attempt`, () =>
      Effect.gen(function*() {
        const { attempts, endedAt, exit } = yield* onVirtualTime([
          Fault.status(429, { headers: { "retry-after": value } })
        ])
        const error = expectTag(typedOutcome(exit, "create")!, "RateLimited")
        assert.isTrue(Duration.equals(error.retryAfter, Duration.seconds(60)), Duration.format(error.retryAfter))
        assert.deepStrictEqual(attempts, [0])
        assert.strictEqual(endedAt, 0)
      }))

    it.effect(`503 with Retry-After: ${JSON.stringify(value)} → no hint: the policy's own 100 ms delay`, () =>
      Effect.gen(function*() {
        const { attempts, exit } = yield* onVirtualTime(
          [Fault.status(503, { headers: { "retry-after": value } })],
          { retry: plainRetry.pipe(Schedule.intersect(Schedule.recurs(0))) }
        )
        const error = expectTag(typedOutcome(exit, "create")!, "HttpFailure")
        assert.isUndefined(error.retryAfter)
        assert.deepStrictEqual(attempts, [0])
      }))
  }

  for (
    const [form, value] of [
      ["IMF-fixdate", "Thu, 01 Jan 1970 00:00:03 GMT"],
      ["RFC 850", "Thursday, 01-Jan-70 00:00:03 GMT"],
      ["asctime", "Thu Jan  1 00:00:03 1970"],
      ["delay-seconds", "3"]
    ]
  ) {
    it.effect(`control: 503 with Retry-After as ${form} → the second attempt exactly 3 s later`, () =>
      Effect.gen(function*() {
        const { attempts, exit } = yield* onVirtualTime([Fault.status(503, { headers: { "retry-after": value! } })])
        assert.isTrue(Exit.isSuccess(exit))
        assert.deepStrictEqual(attempts, [0, 3_000])
      }))
  }
})

// ---------------------------------------------------------------------------
// headers

describe("a response header over undici's limit → TransportError TooLarge, not retried", () => {
  const clients: ReadonlyArray<readonly [string, Layer.Layer<HttpClient.HttpClient>]> = [
    ["NodeSfox.httpClient", NodeSfox.httpClient],
    ["FetchHttpClient", FetchHttpClient.layer]
  ]
  for (const [name, client] of clients) {
    it.live(`a 100 KB header (${name}) → TooLarge after 1 attempt`, () =>
      withServer({ key: KEY, client }, ({ server, tokens }) =>
        Effect.gen(function*() {
          const big = Fault.status(201, { headers: { "x-padding": "p".repeat(100_000) } })
          yield* server.enqueue([big, big, big])
          const error = expectTag(typedOutcome(yield* Effect.exit(tokens.create("u1")), "create")!, "TransportError")
          assert.strictEqual(error.reason, "TooLarge", error.message)
          assert.strictEqual((yield* server.requests).length, 1)
        })))
  }
})

// ---------------------------------------------------------------------------
// redirects: a raw node:http server that redirects to another loopback port

interface Listening {
  readonly url: string
  readonly seen: Array<{ readonly path: string; readonly authorization: string | undefined }>
}

const listen = (handler: (req: Http.IncomingMessage, res: Http.ServerResponse) => void) =>
  Effect.acquireRelease(
    Effect.async<{ server: Http.Server; listening: Listening }>((resume) => {
      const seen: Listening["seen"] = []
      const server = Http.createServer((req, res) => {
        seen.push({ path: req.url ?? "", authorization: req.headers.authorization })
        req.resume()
        req.on("end", () => handler(req, res))
      })
      server.listen(0, "127.0.0.1", () => {
        const port = (server.address() as Net.AddressInfo).port
        resume(Effect.succeed({ server, listening: { url: `http://127.0.0.1:${port}`, seen } }))
      })
    }),
    ({ server }) =>
      Effect.async<void>((resume) => {
        server.close(() => resume(Effect.void))
        server.closeAllConnections()
      })
  ).pipe(Effect.map(({ listening }) => listening))

/** The other origin: answers like sFOX would, and records whether it was given the key. */
const elsewhere = listen((req, res) => {
  const single = req.url?.startsWith("/v1/enterprise/user-tokens/") === true
  const token = { token: TOKEN, partner_user_id: "u1", expires: inADay() }
  res.writeHead(201, { "content-type": "application/json" })
  res.end(JSON.stringify({ data: single ? token : [token] }))
})

const redirecting = (to: string, status: number) =>
  listen((req, res) => {
    res.writeHead(status, { location: `${to}${req.url ?? "/"}` })
    res.end()
  })

describe("redirects: the key is never sent to another origin", () => {
  const cases: ReadonlyArray<
    readonly [string, Layer.Layer<HttpClient.HttpClient>, Partial<UserTokenService.Options>]
  > = [
    ["FetchHttpClient (follows redirects itself)", FetchHttpClient.layer, {}],
    ["NodeSfox.httpClient", NodeSfox.httpClient, {}],
    ["NodeSfox.httpClient + transformClient: HttpClient.followRedirects", NodeSfox.httpClient, {
      transformClient: (client) => HttpClient.followRedirects(client)
    }],
    ["FetchHttpClient + transformClient: HttpClient.followRedirects", FetchHttpClient.layer, {
      transformClient: (client) => HttpClient.followRedirects(client)
    }]
  ]
  for (const [name, client, service] of cases) {
    for (const status of [301, 307, 308]) {
      it.live(`${name}: ${status} to another loopback port → HttpFailure ${status}, the other port never sees the key`, () =>
        Effect.gen(function*() {
          const other = yield* elsewhere
          const origin = yield* redirecting(other.url, status)
          const tokens = yield* UserTokenService.make({
            apiKey: Redacted.make(KEY),
            baseUrl: origin.url,
            retry: fastRetry,
            rateLimit: false,
            ...service
          })
          for (const call of ["create", "createMany"] as const) {
            const exit = yield* Effect.exit(callWith(tokens, call))
            const error = expectTag(typedOutcome(exit, call)!, "HttpFailure")
            assert.strictEqual(error.status, status, call)
            assertClean(error, [KEY], call)
          }
          assert.strictEqual(origin.seen.length, 2, "one request each, not retried")
          assert.deepStrictEqual(other.seen.filter((r) => r.authorization !== undefined), [], "the key left")
        }).pipe(Effect.scoped, Effect.provide(client)))
    }
  }
})

describe("a transformClient that points the request elsewhere cannot take the key there", () => {
  it.live("transformClient rewriting the URL to another loopback port → TransportError Request, nothing sent", () =>
    Effect.gen(function*() {
      const other = yield* elsewhere
      const tokens = yield* UserTokenService.make({
        apiKey: Redacted.make(KEY),
        baseUrl: "http://127.0.0.1:9",
        retry: fastRetry,
        rateLimit: false,
        transformClient: HttpClient.mapRequest((request) =>
          HttpClientRequest.setUrl(request, `${other.url}${new URL(request.url).pathname}`)
        )
      })
      const error = expectTag(typedOutcome(yield* Effect.exit(tokens.create("u1")), "create")!, "TransportError")
      assert.strictEqual(error.reason, "Request")
      assertClean(error, [KEY], "TransportError")
      assert.deepStrictEqual(other.seen, [])
    }).pipe(Effect.scoped, Effect.provide(NodeSfox.httpClient)))
})

// ---------------------------------------------------------------------------
// endless bodies: the service reads no further than its bound, whatever the client

/** Answers `status` with a chunked body that never ends; `closed` counts the answers the client walked away from. */
const endless = (status: number) => {
  const closed = Deferred.unsafeMake<void>(FiberId.none)
  return Effect.map(
    listen((_req, res) => {
      res.writeHead(status, { "content-type": "application/json" })
      const chunk = Buffer.alloc(16 * 1024, 0x78)
      const pump = () => {
        while (!res.destroyed && res.write(chunk)) {
          // until the socket's buffer is full
        }
      }
      res.on("drain", pump)
      res.on("close", () => Deferred.unsafeDone(closed, Exit.void))
      pump()
    }),
    (listening) => ({ ...listening, closed: Deferred.await(closed) })
  )
}

describe("an endless body is not read to its end (there is none)", () => {
  const clients: ReadonlyArray<readonly [string, Layer.Layer<HttpClient.HttpClient>]> = [
    ["FetchHttpClient", FetchHttpClient.layer],
    ["NodeSfox.httpClient", NodeSfox.httpClient]
  ]
  for (const [name, client] of clients) {
    for (const status of [201, 502]) {
      it.live(`${name}: an endless ${status} → ${status === 201 ? "TransportError TooLarge" : "HttpFailure 502"}, the connection dropped`, () =>
        Effect.gen(function*() {
          const server = yield* endless(status)
          const tokens = yield* UserTokenService.make({
            apiKey: Redacted.make(KEY),
            baseUrl: server.url,
            retry: Schedule.stop,
            rateLimit: false,
            timeout: "30 seconds"
          })
          const error = typedOutcome(yield* Effect.exit(tokens.create("u1")), "create")!
          if (status === 201) assert.strictEqual(expectTag(error, "TransportError").reason, "TooLarge")
          else assert.strictEqual(expectTag(error, "HttpFailure").status, 502)
          assert.strictEqual(server.seen.length, 1)
          // The client walked away: the server saw the connection close.
          yield* server.closed
        }).pipe(Effect.scoped, Effect.provide(client)))
    }
  }
})

// ---------------------------------------------------------------------------
// createMany's input

const fakeLayer = (service: Partial<UserTokenService.Options> = {}) =>
  FakeSfox.layerTest({ apiKey: KEY }, { rateLimit: false, retry: Schedule.stop, ...service })

describe("createMany reads its input inside the effect, bounded, without holding the event loop", () => {
  it.effect("an iterator that throws → InvalidUserId when the effect runs, never a throw at call time", () =>
    Effect.gen(function*() {
      const fake = yield* FakeSfox
      const tokens = yield* UserTokenService
      let reads = 0
      const throwing: Iterable<string> = {
        [Symbol.iterator]: () => ({
          next: () => {
            if (++reads > 2) throw new Error(`boom ${KEY}`)
            return { done: false, value: `u${reads}` }
          }
        })
      }
      const effect = Either.try(() => tokens.createMany(throwing))
      assert.isTrue(Either.isRight(effect), "createMany threw at call time")
      assert.strictEqual(reads, 0, "the input was read before the effect ran")
      const error = yield* Effect.flip(Either.getOrThrow(effect))
      assert.instanceOf(error, InvalidUserId)
      assertClean(error, [KEY], "InvalidUserId")
      // An iterator that throws at once, too.
      const atOnce: Iterable<string> = {
        [Symbol.iterator]: () => {
          throw new Error("no")
        }
      }
      const first = Either.try(() => tokens.createMany(atOnce))
      assert.isTrue(Either.isRight(first))
      assert.instanceOf(yield* Effect.flip(Either.getOrThrow(first)), InvalidUserId)
      assert.strictEqual((yield* fake.requests).length, 0)
    }).pipe(Effect.provide(fakeLayer())))

  it.effect("an endless iterable → InvalidUserId at maxIdsPerCall, no request", () =>
    Effect.gen(function*() {
      const fake = yield* FakeSfox
      const tokens = yield* UserTokenService
      let reads = 0
      function* endless() {
        for (;;) yield `u${reads++}`
      }
      const error = expectTag(yield* Effect.flip(tokens.createMany(endless())), "InvalidUserId")
      assert.strictEqual(error.index, 1_000)
      assert.match(error.description, /maxIdsPerCall/)
      assert.strictEqual(reads, 1_001)
      assert.strictEqual((yield* fake.requests).length, 0)
    }).pipe(Effect.provide(fakeLayer({ maxIdsPerCall: 1_000 }))))

  it.effect("the default cap is 100,000 ids per call", () =>
    Effect.gen(function*() {
      const tokens = yield* UserTokenService
      const ids = Array.from({ length: 100_001 }, (_, i) => `u${i}`)
      const error = expectTag(yield* Effect.flip(tokens.createMany(ids)), "InvalidUserId")
      assert.strictEqual(error.index, 100_000)
    }).pipe(Effect.provide(fakeLayer())))

  it.effect("new String(\"u1\") → InvalidUserId, no request (not the ids \"u\" and \"1\")", () =>
    Effect.gen(function*() {
      const fake = yield* FakeSfox
      const tokens = yield* UserTokenService
      const error = yield* Effect.flip(tokens.createMany(new String("u1") as unknown as Iterable<string>))
      assert.instanceOf(error, InvalidUserId)
      assert.strictEqual((yield* fake.requests).length, 0)
    }).pipe(Effect.provide(fakeLayer())))

  it.effect("1,000,000 ids: the event loop turns many times while they are checked", () =>
    Effect.gen(function*() {
      const tokens = yield* UserTokenService
      const ids = Array.from({ length: 1_000_000 }, (_, i) => `user-${i}`)
      // The last id is invalid: the call checks all of them, then fails, sending nothing.
      ids[999_999] = "bad\nid"
      // A chain of setImmediate callbacks: each runs only when the loop gets a turn.
      let turns = 0
      let running = true
      const tick = () => {
        if (!running) return
        turns++
        setImmediate(tick)
      }
      setImmediate(tick)
      const error = expectTag(yield* Effect.flip(tokens.createMany(ids)), "InvalidUserId")
      running = false
      assert.strictEqual(error.index, 999_999)
      assert.isAtLeast(turns, 100, "validation held the event loop")
    }).pipe(Effect.provide(fakeLayer({ maxIdsPerCall: 1_000_000 }))))
})

// ---------------------------------------------------------------------------
// options

describe("every option is checked: a wrong shape or an out-of-range value is a ConfigError naming it", () => {
  const refused: ReadonlyArray<readonly [string, Record<string, unknown>]> = [
    ["rateLimit", { rateLimit: {} }],
    ["rateLimit", { rateLimit: { interval: "1 second" } }],
    ["rateLimit", { rateLimit: { limit: 5 } }],
    ["rateLimit", { rateLimit: true }],
    ["rateLimit", { rateLimit: "250/10s" }],
    ["rateLimit.limit", { rateLimit: { limit: Infinity, interval: "1 second" } }],
    ["rateLimit.interval", { rateLimit: { limit: 5, interval: Duration.infinity } }],
    ["batchWindow", { batchWindow: Infinity }],
    ["batchWindow", { batchWindow: "1 hour" }],
    ["batchWindow", { batchWindow: "soon" }],
    ["timeout", { timeout: Duration.infinity }],
    ["timeout", { timeout: "1 hour" }],
    ["deadline", { deadline: "2 hours" }],
    ["maxRetryAfter", { maxRetryAfter: Duration.infinity }],
    ["maxBatchSize", { maxBatchSize: 1_000_000 }],
    ["maxBatchSize", { maxBatchSize: "100" }],
    ["batchConcurrency", { batchConcurrency: Infinity }],
    ["maxIdsPerCall", { maxIdsPerCall: 0 }],
    ["maxIdsPerCall", { maxIdsPerCall: 1e9 }],
    ["cache", { cache: "yes" }],
    ["cache.capacity", { cache: { capacity: -1 } }],
    ["cache.refreshBefore", { cache: { refreshBefore: "24 hours" } }],
    ["retry", { retry: 3 }],
    ["transformClient", { transformClient: "yes" }],
    ["baseUrl", { baseUrl: 42 }]
  ]
  for (const [option, options] of refused) {
    it.effect(`${Util.inspect(options)} → ConfigError naming ${option}`, () =>
      Effect.gen(function*() {
        const exit = yield* Effect.exit(
          Effect.scoped(UserTokenService.make({ apiKey: Redacted.make(KEY), ...options } as UserTokenService.Options))
        )
        assertConfigError(exit, [`InvalidData ${option}`])
      }).pipe(Effect.provide(FakeSfox.layer())))
  }

  it.effect("control: the documented bounds themselves are accepted", () =>
    Effect.gen(function*() {
      const exit = yield* Effect.exit(Effect.scoped(UserTokenService.make({
        apiKey: Redacted.make(KEY),
        timeout: "10 minutes",
        deadline: "1 hour",
        maxRetryAfter: "1 hour",
        maxBatchSize: 100_000,
        batchConcurrency: 1024,
        maxIdsPerCall: 10_000_000,
        rateLimit: { limit: 1_000_000, interval: "1 hour" },
        batchWindow: "1 second",
        cache: { capacity: 10_000_000, refreshBefore: "23 hours" }
      })))
      assert.isTrue(Exit.isSuccess(exit), String(exit))
    }).pipe(Effect.provide(FakeSfox.layer())))
})

// ---------------------------------------------------------------------------
// partial secrets in InvalidUserId

describe("a refused id is shown only when it cannot hold a secret", () => {
  it.effect("the key split by a NUL, a tab, a newline: no 6 characters of it in any view of the error", () =>
    Effect.gen(function*() {
      const tokens = yield* UserTokenService
      const parts = (text: string) => Array.from({ length: text.length - 5 }, (_, i) => text.slice(i, i + 6))
      for (const cut of [4, 10, 20, 24]) {
        for (const sep of ["\u0000", "\t", "\n", "\u2028"]) {
          const id = `${KEY.slice(0, cut)}${sep}${KEY.slice(cut)}`
          const effects: ReadonlyArray<Effect.Effect<unknown, UserTokenError>> = [
            tokens.create(id),
            tokens.createMany(["ok", id]),
            tokens.get(id)
          ]
          for (const effect of effects) {
            const error = expectTag(yield* Effect.flip(effect), "InvalidUserId")
            assertClean(error, parts(KEY), `cut at ${cut}`)
            assert.match(error.preview, /^\(\d+ characters, fingerprint [0-9a-f]{8}\)$/)
          }
        }
      }
      // A short id is shown, every character outside printable ASCII escaped.
      const short = expectTag(yield* Effect.flip(tokens.create("a\u0000\u202e")), "InvalidUserId")
      assert.strictEqual(short.preview, "\"a\\u0000\\u202e\"")
    }).pipe(Effect.provide(fakeLayer())))
})

// ---------------------------------------------------------------------------
// property: any answer body

const hex64 = fc.stringMatching(/^[0-9a-f]{64}$/)
const isoLike = fc.oneof(
  fc.date({ min: new Date("2000-01-01"), max: new Date("2100-01-01"), noInvalidDate: true }).map((d) =>
    d.toISOString()
  ),
  fc.string({ maxLength: 30 })
)
const fieldValue = fc.oneof(fc.string({ maxLength: 80 }), hex64, fc.integer(), fc.constant(null), isoLike)
const tokenObject = fc.record({
  token: fc.oneof(hex64, fieldValue, fc.constant(KEY)),
  partner_user_id: fc.oneof(fc.constant("u1"), fc.string({ maxLength: 10 })),
  expires: fc.oneof(isoLike, fieldValue)
}, { requiredKeys: [] })

/** Bodies up to 64 KB: random text and bytes, random JSON of random depth, and sFOX's shapes with random fields. */
const body = fc.oneof(
  fc.string({ maxLength: 2_000 }),
  fc.uint8Array({ maxLength: 4_000 }).map((bytes) => new TextDecoder().decode(bytes)),
  fc.tuple(fc.string({ maxLength: 50 }), fc.integer({ min: 0, max: 60_000 })).map(([s, n]) =>
    `${s}${"x".repeat(n)}${KEY}`.slice(0, 65_536)
  ),
  fc.jsonValue({ depthSize: "large" }).map((v) => JSON.stringify(v) ?? "null"),
  fc.integer({ min: 1, max: 20_000 }).map((n) => `{"data":${deep(n)}}`),
  fc.integer({ min: 1, max: 20_000 }).map((n) => `{"data":{"token":${"{\"a\":".repeat(n)}1${"}".repeat(n)}}}`),
  tokenObject.map((t) => JSON.stringify({ data: t })),
  fc.array(tokenObject, { maxLength: 3 }).map((ts) => JSON.stringify({ data: ts })),
  fc.tuple(fc.oneof(fc.string({ maxLength: 40 }), hex64), fc.constantFrom("error", "message", "token")).map((
    [text, field]
  ) => JSON.stringify({ [field]: `${text} ${KEY} ${TOKEN}` }))
).filter((b) => b.length <= 65_536)

/** Secrets a body may hold: the key, 64-hex runs, and any token-shaped value of a `token` field. */
const secretsOf = (text: string): Array<string> => {
  const found = [KEY, ...(text.match(/[0-9a-f]{64}/g) ?? [])]
  try {
    const json = JSON.parse(text) as { data?: unknown }
    const data = Array.isArray(json.data) ? json.data : [json.data]
    for (const item of data) {
      const token = (item as { token?: unknown } | null)?.token
      if (typeof token === "string" && token.length >= 16) found.push(token)
    }
  } catch {
    // not JSON
  }
  return found
}

describe("property: whatever a 2xx or an error body holds, a token or a typed failure, and no secret shown", () => {
  it.effect("create and createMany over FakeSfox, 300 bodies each under 201 and 4xx/5xx statuses", () =>
    Effect.gen(function*() {
      const fake = yield* FakeSfox
      const runtime = yield* Effect.runtime<UserTokenService>()
      const run = Runtime.runPromiseExit(runtime)
      yield* Effect.promise(() =>
        fc.assert(
          fc.asyncProperty(body, fc.constantFrom(201, 200, 400, 404, 429, 500, 503), async (text, status) => {
            const secrets = secretsOf(text)
            for (const call of ["create", "createMany"] as const) {
              await Effect.runPromise(fake.enqueue(Fault.status(status, { body: text })))
              const exit = await run(Effect.flatMap(UserTokenService, (tokens) => callWith(tokens, call)))
              const error = typedOutcome(exit, `${call} ${status}`)
              if (error !== undefined) assertClean(error, secrets, `${call} ${status}`)
            }
          }),
          { numRuns: 300 }
        )
      )
    }).pipe(Effect.provide(fakeLayer())))
})
