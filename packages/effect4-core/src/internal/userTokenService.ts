import * as Clock from "effect/Clock"
import type * as Config from "effect/Config"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Headers from "effect/http/Headers"
import * as HttpClient from "effect/http/HttpClient"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Result from "effect/Result"
import type * as Scope from "effect/Scope"
import { enforce } from "../RetryPolicy.js"
import { EmptyBatch, type InvalidUserId, type RequestFailure } from "../SfoxError.js"
import { SfoxRateLimiter } from "../SfoxRateLimiter.js"
import type { UserAuthToken } from "../UserAuthToken.js"
import type { UserTokenService } from "../UserTokenService.js"
import * as AsUser from "./asUser.js"
import * as Batcher from "./batcher.js"
import * as Deadline from "./deadline.js"
import { readIds } from "./ids.js"
import { type Settings, settings as checkSettings } from "./options.js"
import { guard } from "./originGuard.js"
import * as LocalRateLimiter from "./rateLimiter.js"
import * as Pipeline from "./request.js"
import * as Scrub from "./scrub.js"
import * as Split from "./split.js"
import * as Telemetry from "./telemetry.js"
import * as TokenCache from "./tokenCache.js"
import * as TokenEndpoints from "./tokenEndpoints.js"
import * as UserClient from "./userClient.js"
import { checkUserId, encodeUserId } from "./userId.js"
import { userAgent } from "./version.js"

/** What a service is built of that tests (and a future typed endpoint) reach: `asUser` sends any endpoint as a user. */
export interface Built {
  readonly service: UserTokenService.Service
  readonly asUser: ReturnType<typeof AsUser.make>
}

/**
 * The service, and `asUser` beside it: a typed endpoint sent as a user is
 * one `Endpoint` (`endpoint.ts`) handed to it.
 */
export const build: (
  options: UserTokenService.Options
) => Effect.Effect<Built, Config.ConfigError, HttpClient.HttpClient | Scope.Scope> = Effect.fnUntraced(
  function*(options: UserTokenService.Options) {
    const settings = yield* checkSettings(options)
    const { deadlineMillis, endpoints, pipeline } = yield* sender(options, settings)
    const { create, mintAtTurn, mintBatch } = minting(pipeline, endpoints)

    /** A batch and, when sFOX refuses it for some of its users, the split that finds them; all within one deadline. */
    const withinDeadline = <A>(
      f: (mint: (userIds: ReadonlyArray<string>) => ReturnType<typeof mintBatch>) => Effect.Effect<A, RequestFailure>
    ) =>
      Effect.flatMap(Clock.currentTimeMillis, (now) => {
        const deadline = Deadline.start(now, deadlineMillis)
        return f((userIds) => mintBatch(userIds, deadline))
      })

    /**
     * One chunk of `createMany`, all or nothing: when sFOX refuses it for some
     * of its users, the split names them in the error.
     */
    const mintChunk = (userIds: ReadonlyArray<string>) =>
      withinDeadline((mint) => Split.mintAll(mint, userIds, Telemetry.split))

    const createMany = createManyOf(settings, mintChunk)

    const { get, invalidate } = yield* makeGet({
      settings,
      // A batch and, when sFOX refuses it for some of its users, the split: all within one deadline.
      resolve: (sealable) =>
        Effect.flatMap(Clock.currentTimeMillis, (now) => {
          const deadline = Deadline.start(now, deadlineMillis)
          const whole = mintAtTurn(sealable, deadline)
          const mint = (userIds: ReadonlyArray<string>) => mintBatch(userIds, deadline)
          return Split.resolveEach(mint, whole.mint, whole.userIds, Telemetry.split)
        })
    })

    const asUser = AsUser.make(pipeline, { get, invalidate })
    const clientFor = UserClient.make({
      asUser,
      baseUrl: settings.baseUrl,
      timeoutMillis: Duration.toMillis(settings.timeout)
    })

    return { service: { create, createMany, get, invalidate, clientFor }, asUser }
  }
)

/**
 * `get` and `invalidate`: the cache (when configured) in front of the
 * batcher, whose batches `resolve` mints.
 */
const makeGet = Effect.fnUntraced(function*(
  { resolve, settings }: {
    readonly settings: Settings
    readonly resolve: Batcher.Resolve<UserAuthToken, RequestFailure>
  }
) {
  const cache = settings.cache === undefined
    ? undefined
    : TokenCache.make(settings.cache.capacity, Duration.toMillis(settings.cache.refreshBefore))
  const window = yield* Batcher.clockWindow(Duration.toMillis(settings.batchWindow))
  const batcher = yield* Batcher.make<UserAuthToken, RequestFailure>({
    window,
    // A sent batch holds its slot for at most one window (see BatcherMachine).
    hold: window,
    maxBatchSize: settings.maxBatchSize,
    concurrency: settings.batchConcurrency,
    resolve
  })

  const getSpan = Telemetry.callSpan("sfox.user_tokens.get", 1)
  const get = (userId: string): Effect.Effect<UserAuthToken, InvalidUserId | RequestFailure> => {
    // The id travels in a batch's JSON body: checked, not URL-encoded.
    const invalid = checkUserId(userId)
    if (invalid !== undefined) return Effect.fail(invalid)
    if (cache === undefined) return getSpan(batcher.get(userId))
    return getSpan(Effect.flatMap(Clock.currentTimeMillis, (now) => {
      const cached = cache.get(userId, now)
      return cached === undefined
        // `now` is before the request left: no later than sFOX minted the token.
        ? Effect.map(batcher.get(userId), (token) => {
          cache.set(token, now)
          return token
        })
        : Effect.succeed(cached)
    }))
  }

  const invalidate = (userId: string): Effect.Effect<void> =>
    cache === undefined ? Effect.void : Effect.sync(() => cache.invalidate(userId))

  return { get, invalidate }
})

/**
 * The pipeline a service sends through: its client (under the origin guard
 * and any transform), its limiter (the program's, or its own), its
 * scrubber, and its three token endpoints.
 */
const sender = Effect.fnUntraced(function*(options: UserTokenService.Options, settings: Settings) {
  // The guard sits under any transform: whatever follows redirects above it, the key stays on baseUrl's origin.
  const base = guard(yield* HttpClient.HttpClient, new URL(settings.baseUrl).origin)
  const client = options.transformClient ? options.transformClient(base) : base
  // A limiter the program provides is the one budget of every service in
  // it, whatever this service's own `rateLimit` says.
  const shared = yield* Effect.serviceOption(SfoxRateLimiter)
  const limiter = Option.isSome(shared)
    ? shared.value
    : settings.rateLimit === undefined
    ? LocalRateLimiter.unlimited
    : yield* LocalRateLimiter.make(settings.rateLimit.limit, settings.rateLimit.interval)
  // Texts from the server are scrubbed of the key before they reach an error.
  const scrubber = Scrub.make([Redacted.value(settings.apiKey)])
  const headers = Headers.fromInput({
    authorization: `Bearer ${Redacted.value(settings.apiKey)}`,
    accept: "application/json",
    "user-agent": userAgent
  })
  const deadlineMillis = Duration.toMillis(settings.deadline)
  const pipeline = Pipeline.make({
    client,
    limiter,
    baseUrl: settings.baseUrl,
    timeoutMillis: Duration.toMillis(settings.timeout),
    deadlineMillis,
    retry: enforce(settings.retry, settings.maxRetryAfter),
    scrubber
  })
  return { deadlineMillis, endpoints: TokenEndpoints.make(settings.baseUrl, headers, scrubber), pipeline }
})

/** The mints, each one `send` of a token endpoint: `create`, a batch, a batch of `get` built at its turn. */
const minting = (pipeline: Pipeline.Pipeline, endpoints: TokenEndpoints.TokenEndpoints) => {
  const createSpan = Telemetry.callSpan("sfox.user_tokens.create", 1)
  const create = (userId: string): Effect.Effect<UserAuthToken, InvalidUserId | RequestFailure> => {
    const encoded = encodeUserId(userId)
    if (Result.isFailure(encoded)) return Effect.fail(encoded.failure)
    return createSpan(pipeline.send(endpoints.oneUser, { userId, encoded: encoded.success }))
  }

  /** One batch POST; `deadline` bounds it when it is part of a larger call. */
  const mintBatch = (
    userIds: ReadonlyArray<string>,
    deadline?: Deadline.Deadline
  ): Effect.Effect<ReadonlyMap<string, UserAuthToken>, RequestFailure> =>
    Effect.withFiber((fiber) => {
      // Effect 4 counts a metric in a context's registry: the caller's.
      Telemetry.batched(userIds.length, fiber.context)
      return pipeline.send(endpoints.batch, userIds, deadline === undefined ? undefined : { deadline })
    })

  /** A batch of `get`, its body built at its turn (`TokenEndpoints.AtTurn`). */
  const mintAtTurn = (sealable: Batcher.Sealable, deadline: Deadline.Deadline) => {
    const turn: TokenEndpoints.AtTurn = { sealable, userIds: [] }
    const mint = pipeline.send(endpoints.atTurn, turn, { deadline })
    return { mint, userIds: () => turn.userIds }
  }
  return { create, mintAtTurn, mintBatch }
}

/** `createMany`: the ids read and checked, cut into chunks of `maxBatchSize`, each minted all or nothing. */
const createManyOf = (
  settings: Settings,
  mintChunk: (userIds: ReadonlyArray<string>) => Effect.Effect<ReadonlyMap<string, UserAuthToken>, RequestFailure>
) =>
(userIds: Iterable<string>): Effect.Effect<ReadonlyArray<UserAuthToken>, InvalidUserId | EmptyBatch | RequestFailure> =>
  Effect.flatMap(readIds(userIds, settings.maxIdsPerCall), (
    ids
  ): Effect.Effect<ReadonlyArray<UserAuthToken>, EmptyBatch | RequestFailure> => {
    if (ids.length === 0) return Effect.fail(new EmptyBatch())
    const chunks: Array<ReadonlyArray<string>> = []
    for (let i = 0; i < ids.length; i += settings.maxBatchSize) chunks.push(ids.slice(i, i + settings.maxBatchSize))
    return Effect.map(
      Effect.forEach(chunks, mintChunk, { concurrency: settings.batchConcurrency }).pipe(
        Telemetry.callSpan("sfox.user_tokens.create_many", ids.length, chunks.length)
      ),
      (maps) => {
        // The answer's order is not trusted: each id takes its own token.
        const out: Array<UserAuthToken> = new Array(ids.length)
        for (let i = 0; i < ids.length; i++) {
          out[i] = maps[Math.floor(i / settings.maxBatchSize)]!.get(ids[i]!)!
        }
        return out
      }
    )
  })

/** The service (`UserTokenService.make`). */
export const make = (
  options: UserTokenService.Options
): Effect.Effect<UserTokenService.Service, Config.ConfigError, HttpClient.HttpClient | Scope.Scope> =>
  Effect.map(build(options), (built) => built.service)
