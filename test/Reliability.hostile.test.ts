/**
 * The reliability suite, hostile part (issue 10): answers a hostile or broken
 * server may send, and inputs a careless caller may pass. Every outcome is a
 * value (a token or a typed failure), never a defect; nothing holds the event
 * loop for long; nothing prints the key or a token. Answers are served over
 * real sockets (MockSfoxServer, or a raw `node:http` server on 127.0.0.1) and,
 * where it applies, by FakeSfox. The cases, their names and the checks are
 * shared with the Effect 4 edition (test/shared/hostileAnswers.ts).
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
  Duration,
  Effect,
  Either,
  Exit,
  FastCheck as fc,
  Fiber,
  Redacted,
  Runtime,
  Schedule,
  TestClock
} from "effect"
import { assertConfigError } from "../packages/core/test/utils/configError.js"
import { type Method as Call, methods as calls } from "./shared/faults.js"
import {
  answerCaseName,
  answerCases,
  anyBody,
  assertTextsClean,
  bigHeader,
  checkScrubber,
  controlAnswers,
  deep,
  elsewhereByTransform,
  endlessBodies,
  endlessIds,
  fromFake,
  hiddenOf,
  huge,
  hugePage,
  input,
  KEY,
  loopTurns,
  millionIds,
  options,
  overSocket,
  partialSecrets,
  plainRenderings,
  redirects,
  retryAfter,
  secretsOf,
  sizes,
  throwingAtOnce,
  throwingIds,
  TOKEN,
  tokenAnswer,
  withinBound,
  withInfinity
} from "./shared/hostileAnswers.js"
import * as Raw from "./shared/rawServers.js"
import { expectTag, fastRetry, withServer } from "./utils/harness.js"

/** Every way a program could print a value. */
const renderings = (value: unknown): Array<string> => [
  ...plainRenderings(value),
  Cause.pretty(Cause.fail(value), { renderErrorCause: true })
]

const assertClean = (value: unknown, secrets: ReadonlyArray<string>, where: string) =>
  assertTextsClean(assert, renderings(value), secrets, where)

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

const callWith = (tokens: UserTokenService.Service, call: Call) =>
  call === "create"
    ? tokens.create("u1")
    : call === "createMany"
    ? Effect.map(tokens.createMany(["u1"]), (all) => all[0]!)
    : tokens.get("u1")

// ---------------------------------------------------------------------------

describe(overSocket, () => {
  for (const c of answerCases) {
    it.live(answerCaseName(c), () =>
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
              assertClean(error, hiddenOf(c), `${call}: ${c.name}`)
            }
          })
      ))
  }

  it.live(controlAnswers.name, () =>
    withServer({ key: KEY }, ({ server, tokens }) =>
      Effect.gen(function*() {
        const at = new Date(Date.now() + 86_400_000)
        for (const fields of controlAnswers.cases(at)) {
          yield* server.enqueue(Fault.status(201, { body: tokenAnswer(fields)("single") }))
          const token = yield* tokens.create("u1")
          assert.strictEqual(Redacted.value(token.token), fields.token)
          assert.strictEqual(Math.floor(token.expiresAtMillis / 1000), Math.floor(at.getTime() / 1000))
        }
      })))
})

describe(fromFake, () => {
  for (const c of answerCases) {
    it.live(answerCaseName(c), () =>
      Effect.gen(function*() {
        const fake = yield* FakeSfox
        const tokens = yield* UserTokenService
        for (const call of calls) {
          yield* fake.reset
          yield* fake.enqueue(Fault.status(201, { body: c.body(call === "create" ? "single" : "batch") }))
          const error = typedOutcome(yield* Effect.exit(callWith(tokens, call)), `${call}: ${c.name}`)
          assert.isDefined(error, `${call} accepted ${c.name}`)
          assert.match(expectTag(error!, "MalformedResponse").description, c.description, call)
          assertClean(error, hiddenOf(c), `${call}: ${c.name}`)
        }
      }).pipe(
        Effect.provide(
          FakeSfox.layerTest({ apiKey: KEY }, { retry: fastRetry, rateLimit: false, cache: true, batchWindow: 0 })
        )
      ))
  }
})

describe(sizes.describe, () => {
  it.live(
    sizes.huge201,
    () =>
      withServer({ key: KEY, client: FetchHttpClient.layer }, ({ server, tokens }) =>
        Effect.gen(function*() {
          yield* server.enqueue(Fault.malformed(huge))
          const error = typedOutcome(yield* Effect.exit(tokens.create("u1")), "create")
          assert.strictEqual(expectTag(error!, "TransportError").reason, "TooLarge")
          assert.strictEqual((yield* server.requests).length, 1)
        }))
  )

  it.live(
    sizes.within,
    () =>
      withServer({ key: KEY, client: FetchHttpClient.layer }, ({ server, tokens }) =>
        Effect.gen(function*() {
          yield* server.enqueue(Fault.malformed(withinBound))
          const error = typedOutcome(yield* Effect.exit(tokens.create("u1")), "create")
          const malformed = expectTag(error!, "MalformedResponse")
          assert.match(malformed.description, /^not JSON/)
          assert.isAtMost(malformed.description.length, sizes.maxDescription)
          assertClean(error, [KEY], "MalformedResponse")
        }))
  )

  it.live(
    sizes.huge502,
    () =>
      withServer({ key: KEY, client: FetchHttpClient.layer }, ({ server, tokens }) =>
        Effect.gen(function*() {
          const page = hugePage()
          yield* server.enqueue([page, page, page].map((body) => Fault.status(502, { body })))
          const error = typedOutcome(yield* Effect.exit(tokens.create("u1")), "create")
          const failure = expectTag(error!, "HttpFailure")
          assert.strictEqual(failure.status, 502)
          assert.isAtMost(failure.description.length, sizes.maxDescription)
          assert.strictEqual((yield* server.requests).length, 3)
          assertClean(error, [KEY], "HttpFailure")
        }))
  )

  it(sizes.scrubber, () => checkScrubber(assert))
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

describe(retryAfter.describe, () => {
  for (const value of retryAfter.nonsense) {
    it.effect(retryAfter.lockoutName(value), () =>
      Effect.gen(function*() {
        const { attempts, endedAt, exit } = yield* onVirtualTime([
          Fault.status(429, { headers: { "retry-after": value } })
        ])
        const error = expectTag(typedOutcome(exit, "create")!, "RateLimited")
        assert.isTrue(
          Duration.equals(error.retryAfter, Duration.seconds(retryAfter.lockoutSeconds)),
          Duration.format(error.retryAfter)
        )
        assert.deepStrictEqual(attempts, [0])
        assert.strictEqual(endedAt, 0)
      }))

    it.effect(retryAfter.noHintName(value), () =>
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

  for (const [form, value] of retryAfter.forms) {
    it.effect(retryAfter.formName(form), () =>
      Effect.gen(function*() {
        const { attempts, exit } = yield* onVirtualTime([Fault.status(503, { headers: { "retry-after": value } })])
        assert.isTrue(Exit.isSuccess(exit))
        assert.deepStrictEqual(attempts, retryAfter.hinted)
      }))
  }
})

// ---------------------------------------------------------------------------
// headers

describe(bigHeader.describe, () => {
  const clients: ReadonlyArray<readonly [string, Layer.Layer<HttpClient.HttpClient>]> = [
    ["NodeSfox.httpClient", NodeSfox.httpClient],
    ["FetchHttpClient", FetchHttpClient.layer]
  ]
  for (const [name, client] of clients) {
    it.live(
      bigHeader.name(name),
      () =>
        withServer({ key: KEY, client }, ({ server, tokens }) =>
          Effect.gen(function*() {
            const big = Fault.status(201, { headers: bigHeader.headers })
            yield* server.enqueue([big, big, big])
            const error = expectTag(typedOutcome(yield* Effect.exit(tokens.create("u1")), "create")!, "TransportError")
            assert.strictEqual(error.reason, "TooLarge", error.message)
            assert.strictEqual((yield* server.requests).length, 1)
          }))
    )
  }
})

// ---------------------------------------------------------------------------
// redirects: a raw node:http server that redirects to another loopback port

const listen = (handler: Raw.Handler) =>
  Effect.acquireRelease(Effect.promise(() => Raw.listen(handler)), (listening) => Effect.promise(listening.close))

/** The other origin: answers like sFOX would, and records whether it was given the key. */
const elsewhere = listen(Raw.elsewhere(TOKEN))

describe(redirects.describe, () => {
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
    for (const status of redirects.statuses) {
      it.live(redirects.name(name, status), () =>
        Effect.gen(function*() {
          const other = yield* elsewhere
          const origin = yield* listen(Raw.redirecting(other.url, status))
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

describe(elsewhereByTransform.describe, () => {
  it.live(elsewhereByTransform.name, () =>
    Effect.gen(function*() {
      const other = yield* elsewhere
      const tokens = yield* UserTokenService.make({
        apiKey: Redacted.make(KEY),
        baseUrl: elsewhereByTransform.baseUrl,
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
  const { closed, handler } = Raw.endless(status)
  return Effect.map(listen(handler), (listening) => ({ ...listening, closed: Effect.promise(() => closed) }))
}

describe(endlessBodies.describe, () => {
  const clients: ReadonlyArray<readonly [string, Layer.Layer<HttpClient.HttpClient>]> = [
    ["FetchHttpClient", FetchHttpClient.layer],
    ["NodeSfox.httpClient", NodeSfox.httpClient]
  ]
  for (const [name, client] of clients) {
    for (const status of endlessBodies.statuses) {
      it.live(endlessBodies.name(name, status), () =>
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

describe(input.describe, () => {
  it.effect(input.throwing, () =>
    Effect.gen(function*() {
      const fake = yield* FakeSfox
      const tokens = yield* UserTokenService
      const throwing = throwingIds()
      const effect = Either.try(() => tokens.createMany(throwing.ids))
      assert.isTrue(Either.isRight(effect), "createMany threw at call time")
      assert.strictEqual(throwing.state.reads, 0, "the input was read before the effect ran")
      const error = yield* Effect.flip(Either.getOrThrow(effect))
      assert.instanceOf(error, InvalidUserId)
      assertClean(error, [KEY], "InvalidUserId")
      // An iterator that throws at once, too.
      const first = Either.try(() => tokens.createMany(throwingAtOnce))
      assert.isTrue(Either.isRight(first))
      assert.instanceOf(yield* Effect.flip(Either.getOrThrow(first)), InvalidUserId)
      assert.strictEqual((yield* fake.requests).length, 0)
    }).pipe(Effect.provide(fakeLayer())))

  it.effect(input.endless, () =>
    Effect.gen(function*() {
      const fake = yield* FakeSfox
      const tokens = yield* UserTokenService
      const endless = endlessIds()
      const error = expectTag(yield* Effect.flip(tokens.createMany(endless.ids)), "InvalidUserId")
      assert.strictEqual(error.index, 1_000)
      assert.match(error.description, /maxIdsPerCall/)
      assert.strictEqual(endless.state.reads, 1_001)
      assert.strictEqual((yield* fake.requests).length, 0)
    }).pipe(Effect.provide(fakeLayer({ maxIdsPerCall: 1_000 }))))

  it.effect(input.defaultCap, () =>
    Effect.gen(function*() {
      const tokens = yield* UserTokenService
      const ids = Array.from({ length: 100_001 }, (_, i) => `u${i}`)
      const error = expectTag(yield* Effect.flip(tokens.createMany(ids)), "InvalidUserId")
      assert.strictEqual(error.index, 100_000)
    }).pipe(Effect.provide(fakeLayer())))

  it.effect(input.boxed, () =>
    Effect.gen(function*() {
      const fake = yield* FakeSfox
      const tokens = yield* UserTokenService
      const error = yield* Effect.flip(tokens.createMany(new String("u1") as unknown as Iterable<string>))
      assert.instanceOf(error, InvalidUserId)
      assert.strictEqual((yield* fake.requests).length, 0)
    }).pipe(Effect.provide(fakeLayer())))

  it.effect(input.million, () =>
    Effect.gen(function*() {
      const tokens = yield* UserTokenService
      const ids = millionIds()
      const loop = loopTurns()
      const error = expectTag(yield* Effect.flip(tokens.createMany(ids)), "InvalidUserId")
      const turns = loop.stop()
      assert.strictEqual(error.index, 999_999)
      assert.isAtLeast(turns, 100, "validation held the event loop")
    }).pipe(Effect.provide(fakeLayer({ maxIdsPerCall: 1_000_000 }))))
})

// ---------------------------------------------------------------------------
// options

describe(options.describe, () => {
  for (const [option, shape] of options.refused) {
    it.effect(options.name(option, shape), () =>
      Effect.gen(function*() {
        const given = withInfinity(shape, Duration.infinity)
        const exit = yield* Effect.exit(
          Effect.scoped(UserTokenService.make({ apiKey: Redacted.make(KEY), ...given } as UserTokenService.Options))
        )
        assertConfigError(exit, [`InvalidData ${option}`])
      }).pipe(Effect.provide(FakeSfox.layer())))
  }

  it.effect(options.control, () =>
    Effect.gen(function*() {
      const exit = yield* Effect.exit(
        Effect.scoped(UserTokenService.make({ apiKey: Redacted.make(KEY), ...options.bounds }))
      )
      assert.isTrue(Exit.isSuccess(exit), String(exit))
    }).pipe(Effect.provide(FakeSfox.layer())))
})

// ---------------------------------------------------------------------------
// partial secrets in InvalidUserId

describe(partialSecrets.describe, () => {
  it.effect(partialSecrets.name, () =>
    Effect.gen(function*() {
      const tokens = yield* UserTokenService
      for (const { id, where } of partialSecrets.ids()) {
        const effects: ReadonlyArray<Effect.Effect<unknown, UserTokenError>> = [
          tokens.create(id),
          tokens.createMany(["ok", id]),
          tokens.get(id)
        ]
        for (const effect of effects) {
          const error = expectTag(yield* Effect.flip(effect), "InvalidUserId")
          assertClean(error, partialSecrets.parts, where)
          assert.match(error.preview, partialSecrets.fingerprinted)
        }
      }
      const short = expectTag(yield* Effect.flip(tokens.create(partialSecrets.short.id)), "InvalidUserId")
      assert.strictEqual(short.preview, partialSecrets.short.preview)
    }).pipe(Effect.provide(fakeLayer())))
})

// ---------------------------------------------------------------------------
// property: any answer body

const hex64 = fc.stringMatching(anyBody.hex64)
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
  fc.tuple(fc.string({ maxLength: 50 }), fc.integer({ min: 0, max: 60_000 })).map(([s, n]) => anyBody.padded(s, n)),
  fc.jsonValue({ depthSize: "large" }).map((v) => JSON.stringify(v) ?? "null"),
  fc.integer({ min: 1, max: 20_000 }).map((n) => `{"data":${deep(n)}}`),
  fc.integer({ min: 1, max: 20_000 }).map(anyBody.nestedToken),
  tokenObject.map((t) => JSON.stringify({ data: t })),
  fc.array(tokenObject, { maxLength: 3 }).map((ts) => JSON.stringify({ data: ts })),
  fc.tuple(fc.oneof(fc.string({ maxLength: 40 }), hex64), fc.constantFrom("error", "message", "token")).map((
    [text, field]
  ) => anyBody.echoing(text, field))
).filter((b) => b.length <= anyBody.maxBody)

describe(anyBody.describe, () => {
  it.effect(anyBody.name, () =>
    Effect.gen(function*() {
      const fake = yield* FakeSfox
      const runtime = yield* Effect.runtime<UserTokenService>()
      const run = Runtime.runPromiseExit(runtime)
      yield* Effect.promise(() =>
        fc.assert(
          fc.asyncProperty(body, fc.constantFrom(...anyBody.statuses), async (text, status) => {
            const secrets = secretsOf(text)
            for (const call of ["create", "createMany"] as const) {
              await Effect.runPromise(fake.enqueue(Fault.status(status, { body: text })))
              const exit = await run(Effect.flatMap(UserTokenService, (tokens) => callWith(tokens, call)))
              const error = typedOutcome(exit, `${call} ${status}`)
              if (error !== undefined) assertClean(error, secrets, `${call} ${status}`)
            }
          }),
          { numRuns: anyBody.numRuns }
        )
      )
    }).pipe(Effect.provide(fakeLayer())))
})
