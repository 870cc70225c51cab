import * as Headers from "@effect/platform/Headers"
import * as HttpBody from "@effect/platform/HttpBody"
import * as HttpClient from "@effect/platform/HttpClient"
import type * as HttpClientError from "@effect/platform/HttpClientError"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import type * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import { Printable, Wire } from "@sfox-effect/domain"
import * as Cause from "effect/Cause"
import * as Clock from "effect/Clock"
import type * as ConfigError from "effect/ConfigError"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Exit from "effect/Exit"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import type * as Scope from "effect/Scope"
import { enforce } from "../RetryPolicy.js"
import { EmptyBatch, HttpFailure, type InvalidUserId, type RequestFailure } from "../SfoxError.js"
import { SfoxRateLimiter } from "../SfoxRateLimiter.js"
import type { UserAuthToken } from "../UserAuthToken.js"
import type { UserTokenService } from "../UserTokenService.js"
import { bodyLimit, readBody } from "./answerBody.js"
import * as Batcher from "./batcher.js"
import { type Answer, decodeBatchAnswer, decodeSingleAnswer, failureOf } from "./classify.js"
import { readIds } from "./ids.js"
import { settings as checkSettings } from "./options.js"
import { guard } from "./originGuard.js"
import * as LocalRateLimiter from "./rateLimiter.js"
import * as Pipeline from "./request.js"
import { afterRefusal, mayBeAboutOneUser, resolveEach } from "./split.js"
import * as Telemetry from "./telemetry.js"
import * as TokenCache from "./tokenCache.js"
import * as UserClient from "./userClient.js"
import { checkUserId, encodeUserId } from "./userId.js"
import { userAgent } from "./version.js"

export const make = (
  options: UserTokenService.Options
): Effect.Effect<UserTokenService.Service, ConfigError.ConfigError, HttpClient.HttpClient | Scope.Scope> =>
  Effect.gen(function*() {
    const settings = yield* checkSettings(options)
    // The guard sits under any transform: whatever follows redirects above it, the key stays on baseUrl's origin.
    const origin = new URL(settings.baseUrl).origin
    const base = guard(yield* HttpClient.HttpClient, origin)
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
    const secrets = [Redacted.value(settings.apiKey)]
    const headers = Headers.fromInput({
      authorization: `Bearer ${Redacted.value(settings.apiKey)}`,
      accept: "application/json",
      "user-agent": userAgent
    })
    const deadlineMillis = Duration.toMillis(settings.deadline)

    const pipeline = Pipeline.make({
      client,
      limiter,
      timeoutMillis: Duration.toMillis(settings.timeout),
      deadlineMillis,
      retry: enforce(settings.retry, settings.maxRetryAfter)
    })

    // Built once: a mint only sets its URL (the headers are not parsed again).
    const tokenRequest = HttpClientRequest.post(`${settings.baseUrl}${Wire.tokensPath}`, { headers })
    const server = Telemetry.serverOf(settings.baseUrl)
    const oneUser = Telemetry.endpoint("POST", server, `${Wire.tokensPath}/{user_id}`)
    const batch = Telemetry.endpoint("POST", server, Wire.tokensPath)

    /**
     * A token call: its answer's body is read in full (within a bound), then
     * judged and decoded. `users` is a function for a request built at the
     * turn (how many it carries is known then).
     */
    const tokenCall = <A>(
      request: Pipeline.Call<Answer, A>["request"],
      endpoint: Telemetry.Endpoint,
      users: number | (() => number),
      decode: (answer: Answer) => Either.Either<A, RequestFailure>,
      deadlineAt?: number
    ): Pipeline.Call<Answer, A> => ({
      request,
      receive: (response, clock) => readAnswer(response, typeof users === "number" ? users : users(), clock),
      statusOf,
      judge: (answer) => {
        // A Retry-After date counts from the moment the answer came.
        if (answer.status < 200 || answer.status >= 300) {
          return Either.left(failureOf(answer, answer.receivedAt, secrets, origin))
        }
        const decoded = decode(answer)
        if (Either.isRight(decoded)) Telemetry.minted(typeof users === "number" ? users : users())
        return decoded
      },
      deadlineAt,
      endpoint,
      batchSize: users
    })

    const createSpan = Telemetry.callSpan("sfox.user_tokens.create", 1)
    const create = (userId: string): Effect.Effect<UserAuthToken, InvalidUserId | RequestFailure> => {
      const encoded = encodeUserId(userId, undefined, secrets)
      if (Either.isLeft(encoded)) return Effect.fail(encoded.left)
      const request = HttpClientRequest.setUrl(tokenRequest, `${settings.baseUrl}${Wire.tokensPath}/${encoded.right}`)
      return createSpan(
        pipeline.send(tokenCall(request, oneUser, 1, (answer) => decodeSingleAnswer(answer, userId, secrets)))
      )
    }

    const batchRequest = (userIds: ReadonlyArray<string>) =>
      HttpClientRequest.post(`${settings.baseUrl}${Wire.tokensPath}`, {
        headers,
        body: HttpBody.text(JSON.stringify({ data: userIds }), "application/json")
      })

    /** One batch POST; `deadlineAt` bounds it when it is part of a larger call. */
    const mintBatch = (
      userIds: ReadonlyArray<string>,
      deadlineAt?: number
    ): Effect.Effect<ReadonlyMap<string, UserAuthToken>, RequestFailure> => {
      Telemetry.batched(userIds.length)
      return pipeline.send(tokenCall(
        batchRequest(userIds),
        batch,
        userIds.length,
        (answer) => decodeBatchAnswer(answer, userIds, secrets),
        deadlineAt
      ))
    }

    /**
     * A batch of `get`: it takes joiners until its rate-limit turn comes, and
     * its body is built then, from its users at that moment (`seal`); its
     * retries send the same users. `userIds` gives them once sealed.
     */
    const mintAtTurn = (sealable: Batcher.Sealable, deadlineAt: number) => {
      let userIds: ReadonlyArray<string> = []
      const request = () => {
        const sealed = sealable.seal()
        if (sealed === undefined) return undefined
        if (sealed !== userIds) Telemetry.batched(sealed.length)
        userIds = sealed
        return batchRequest(sealed)
      }
      const mint = pipeline.send(tokenCall(
        request,
        batch,
        () => userIds.length,
        (answer) => decodeBatchAnswer(answer, userIds, secrets),
        deadlineAt
      ))
      return { mint, userIds: () => userIds }
    }

    /** A batch and, when sFOX refuses it for some of its users, the split that finds them; all within one deadline. */
    const withinDeadline = <A>(
      f: (mint: (userIds: ReadonlyArray<string>) => ReturnType<typeof mintBatch>) => Effect.Effect<A, RequestFailure>
    ) =>
      Effect.flatMap(Clock.currentTimeMillis, (now) => {
        const deadlineAt = now + deadlineMillis
        return f((userIds) => mintBatch(userIds, deadlineAt))
      })

    /**
     * One chunk of `createMany`, all or nothing: when sFOX refuses it for some
     * of its users, the split names them in the error.
     */
    const mintChunk = (userIds: ReadonlyArray<string>) =>
      withinDeadline((mint) =>
        Effect.catchAll(mint(userIds), (error) =>
          userIds.length > 1 && mayBeAboutOneUser(error)
            ? Effect.flatMap(afterRefusal(mint, userIds, error, Telemetry.split), (outcomes) => {
              const tokens = new Map<string, UserAuthToken>()
              for (const [userId, exit] of outcomes) {
                if (Exit.isSuccess(exit)) tokens.set(userId, exit.value)
              }
              return tokens.size === userIds.length ? Effect.succeed(tokens) : Effect.fail(refusedIn(outcomes, error))
            })
            : Effect.fail(error))
      )

    const createMany = (
      userIds: Iterable<string>
    ): Effect.Effect<ReadonlyArray<UserAuthToken>, InvalidUserId | EmptyBatch | RequestFailure> =>
      Effect.flatMap(readIds(userIds, settings.maxIdsPerCall, secrets), (ids) => mintAll(ids))

    const mintAll = (
      ids: ReadonlyArray<string>
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
    }

    const cache = settings.cache === undefined
      ? undefined
      : TokenCache.make(settings.cache.capacity, Duration.toMillis(settings.cache.refreshBefore))
    const window = yield* Batcher.clockWindow(Duration.toMillis(settings.batchWindow))
    const batcher = yield* Batcher.make<UserAuthToken, RequestFailure>({
      window,
      // A sent batch holds its slot for at most one window (see batcher.ts).
      hold: window,
      maxBatchSize: settings.maxBatchSize,
      concurrency: settings.batchConcurrency,
      resolve: (sealable) =>
        Effect.flatMap(Clock.currentTimeMillis, (now) => {
          const deadlineAt = now + deadlineMillis
          const whole = mintAtTurn(sealable, deadlineAt)
          return resolveEach((userIds) => mintBatch(userIds, deadlineAt), whole.mint, whole.userIds, Telemetry.split)
        })
    })

    const getSpan = Telemetry.callSpan("sfox.user_tokens.get", 1)
    const get = (userId: string): Effect.Effect<UserAuthToken, InvalidUserId | RequestFailure> => {
      // The id travels in a batch's JSON body: checked, not URL-encoded.
      const invalid = checkUserId(userId, undefined, secrets)
      if (invalid !== undefined) return Effect.fail(invalid)
      if (cache === undefined) return getSpan(batcher.get(userId))
      return getSpan(Effect.flatMap(Clock.currentTimeMillis, (now) => {
        const cached = cache.get(userId, now)
        return cached === undefined
          // `now` is before the request left: no later than sFOX minted the token.
          ? Effect.tap(batcher.get(userId), (token) => cache.set(token, now))
          : Effect.succeed(cached)
      }))
    }

    const invalidate = (userId: string): Effect.Effect<void> =>
      cache === undefined ? Effect.void : Effect.sync(() => cache.invalidate(userId))

    const clientFor = UserClient.make({
      pipeline,
      baseUrl: settings.baseUrl,
      get,
      invalidate,
      secrets,
      timeoutMillis: Duration.toMillis(settings.timeout)
    })

    return { create, createMany, get, invalidate, clientFor }
  })

const statusOf = (answer: Answer): number => answer.status

/**
 * An answer read for judging: its status, its body within the bound for its
 * status and batch size, and when it came. A redirect's body is not read:
 * it is refused whatever it says.
 */
const readAnswer = (
  response: HttpClientResponse.HttpClientResponse,
  users: number,
  clock: Clock.Clock
): Effect.Effect<Answer, HttpClientError.HttpClientError> => {
  const status = response.status
  if (status >= 300 && status < 400) {
    return Effect.succeed({ status, headers: response.headers, body: "", receivedAt: clock.unsafeCurrentTimeMillis() })
  }
  return Effect.map(
    readBody(response, bodyLimit(status, users)),
    (body): Answer => ({ status, headers: response.headers, body, receivedAt: clock.unsafeCurrentTimeMillis() })
  )
}

/** The error of a `createMany` chunk that sFOX refused for some of its users, naming them. */
const refusedIn = (
  outcomes: ReadonlyMap<string, Exit.Exit<UserAuthToken, RequestFailure>>,
  refusal: RequestFailure
): RequestFailure => {
  const refused: Array<string> = []
  let first: RequestFailure | undefined
  for (const [userId, exit] of outcomes) {
    if (Exit.isSuccess(exit)) continue
    const error = Cause.failureOption(exit.cause)
    if (error._tag === "None") continue
    // A part that failed as a whole (a 503, say) fails the call as it is.
    if (!mayBeAboutOneUser(error.value)) return error.value
    refused.push(userId)
    first ??= error.value
  }
  const about = first ?? refusal
  if (about._tag !== "HttpFailure") return about
  const shown = refused.slice(0, 5).map((id) => Printable.printable(JSON.stringify(id))).join(", ")
  const more = refused.length > 5 ? ` and ${refused.length - 5} more` : ""
  return new HttpFailure({
    status: about.status,
    description: `sFOX refused ${refused.length} of ${outcomes.size} users (${shown}${more}): ${about.description}`,
    userIds: refused
  })
}
