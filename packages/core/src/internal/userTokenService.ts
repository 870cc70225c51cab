import * as Headers from "@effect/platform/Headers"
import * as HttpBody from "@effect/platform/HttpBody"
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as Clock from "effect/Clock"
import type * as ConfigError from "effect/ConfigError"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Redacted from "effect/Redacted"
import * as ScheduleDecision from "effect/ScheduleDecision"
import * as ScheduleIntervals from "effect/ScheduleIntervals"
import type * as Scope from "effect/Scope"
import { enforce } from "../RetryPolicy.js"
import { EmptyBatch, type InvalidUserId, type RequestFailure } from "../SfoxError.js"
import type { UserAuthToken } from "../UserAuthToken.js"
import type { UserTokenService } from "../UserTokenService.js"
import { bodyLimit, readBody } from "./answerBody.js"
import * as Batcher from "./batcher.js"
import { type Answer, decodeBatchAnswer, decodeSingleAnswer, failureOf } from "./classify.js"
import { readIds } from "./ids.js"
import { settings as checkSettings } from "./options.js"
import { guard, refusedRedirect } from "./originGuard.js"
import { tokensPath } from "./paths.js"
import * as RateLimiter from "./rateLimiter.js"
import * as Telemetry from "./telemetry.js"
import { timeoutFail } from "./timeout.js"
import * as TokenCache from "./tokenCache.js"
import { fromHttpClientError, timeout as timeoutError } from "./transport.js"
import { checkUserId, encodeUserId } from "./userId.js"
import { userAgent } from "./version.js"

export const make = (
  options: UserTokenService.Options
): Effect.Effect<UserTokenService.Service, ConfigError.ConfigError, HttpClient.HttpClient | Scope.Scope> =>
  Effect.gen(function*() {
    const settings = yield* checkSettings(options)
    // The guard sits under any transform: whatever follows redirects above it, the key stays on baseUrl's origin.
    const base = guard(yield* HttpClient.HttpClient, new URL(settings.baseUrl).origin)
    const client = options.transformClient ? options.transformClient(base) : base
    const limit = settings.rateLimit === undefined
      ? RateLimiter.unlimited
      : yield* RateLimiter.make(settings.rateLimit.limit, settings.rateLimit.interval)
    // Texts from the server are scrubbed of the key before they reach an error.
    const secrets = [Redacted.value(settings.apiKey)]
    const headers = Headers.fromInput({
      authorization: `Bearer ${Redacted.value(settings.apiKey)}`,
      accept: "application/json",
      "user-agent": userAgent
    })
    const timeoutMillis = Duration.toMillis(settings.timeout)
    const deadlineMillis = Duration.toMillis(settings.deadline)
    const retry = enforce(settings.retry, settings.maxRetryAfter)

    const toAnswer = (
      request: HttpClientRequest.HttpClientRequest,
      users: number
    ): Effect.Effect<Answer, RequestFailure> =>
      client.execute(request).pipe(
        Effect.flatMap((response) =>
          Effect.zipWith(readBody(response, bodyLimit(response.status, users)), Clock.currentTimeMillis, (
            body,
            receivedAt
          ): Answer => ({
            status: response.status,
            // Only a failure needs the header.
            retryAfter: response.status >= 300 ? response.headers["retry-after"] : undefined,
            body,
            receivedAt
          }))
        ),
        Effect.catchAll((error) => {
          const redirect = refusedRedirect(error)
          return redirect === undefined
            ? Effect.fail(fromHttpClientError(error))
            : Effect.map(Clock.currentTimeMillis, (receivedAt): Answer => ({
              status: redirect,
              retryAfter: undefined,
              body: "",
              receivedAt
            }))
        })
      )

    const pastDeadline = () => timeoutError("the call, retries included,", deadlineMillis)

    /**
     * One call: attempts under the rate limit, each with its own timeout,
     * retried by the policy, the whole bounded by the deadline. The deadline
     * is not a race around the call (a race forks two fibers on the path of
     * every mint) but a bound on each wait: the rate-limit turn, the attempt's
     * timeout, and the retry delay. A retry that could not start before the
     * deadline is not made: the call ends with the failure it has.
     */
    const send = <A>(
      request: HttpClientRequest.HttpClientRequest,
      users: number,
      decode: (answer: Answer) => Either.Either<A, RequestFailure>
    ): Effect.Effect<A, RequestFailure> =>
      Effect.flatMap(Clock.currentTimeMillis, (startedAt) => {
        const deadlineAt = startedAt + deadlineMillis
        const attempt = (now: number, number: number, delayMillis: number): Effect.Effect<A, RequestFailure> => {
          const left = deadlineAt - now
          const lastChance = left <= timeoutMillis
          const answer = timeoutFail(
            toAnswer(request, users),
            lastChance ? left : timeoutMillis,
            lastChance ? pastDeadline : () => timeoutError("an attempt", timeoutMillis)
          )
          return limit(Telemetry.observeAttempt(answer), left, pastDeadline).pipe(
            Effect.flatMap((answer) =>
              answer.status >= 200 && answer.status < 300
                ? decode(answer)
                : Effect.flatMap(Clock.currentTimeMillis, (now) => Effect.fail(failureOf(answer, now, secrets)))
            ),
            Telemetry.attemptSpan(number, users, delayMillis)
          )
        }
        const loop = (
          state: unknown,
          now: number,
          number: number,
          delayMillis: number
        ): Effect.Effect<A, RequestFailure> =>
          Effect.catchAll(attempt(now, number, delayMillis), (error) =>
            Effect.flatMap(Clock.currentTimeMillis, (failedAt) =>
              Effect.flatMap(retry.step(failedAt, error, state), ([next, , decision]) => {
                if (ScheduleDecision.isDone(decision)) {
                  return Effect.fail(error)
                }
                const resumeAt = Math.max(failedAt, ScheduleIntervals.start(decision.intervals))
                if (resumeAt >= deadlineAt) {
                  return Effect.fail(error)
                }
                Telemetry.retried()
                const delay = resumeAt - failedAt
                return delay === 0
                  ? loop(next, failedAt, number + 1, 0)
                  : Effect.zipRight(Effect.sleep(Duration.millis(delay)), loop(next, resumeAt, number + 1, delay))
              })))
        return loop(retry.initial, startedAt, 1, 0)
      })

    const create = (userId: string): Effect.Effect<UserAuthToken, InvalidUserId | RequestFailure> => {
      const encoded = encodeUserId(userId, undefined, secrets)
      if (Either.isLeft(encoded)) return Effect.fail(encoded.left)
      const request = HttpClientRequest.post(`${settings.baseUrl}${tokensPath}/${encoded.right}`, { headers })
      return send(request, 1, (answer) => decodeSingleAnswer(answer, userId, secrets)).pipe(
        Effect.tap(Telemetry.minted(1)),
        Telemetry.callSpan("sfox.user_tokens.create", 1)
      )
    }

    const mintBatch = (
      userIds: ReadonlyArray<string>
    ): Effect.Effect<ReadonlyMap<string, UserAuthToken>, RequestFailure> => {
      Telemetry.batched(userIds.length)
      return send(
        HttpClientRequest.post(`${settings.baseUrl}${tokensPath}`, {
          headers,
          body: HttpBody.text(JSON.stringify({ data: userIds }), "application/json")
        }),
        userIds.length,
        (answer) => decodeBatchAnswer(answer, userIds, secrets)
      ).pipe(Effect.tap(Telemetry.minted(userIds.length)))
    }

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
        Effect.forEach(chunks, mintBatch, { concurrency: settings.batchConcurrency }).pipe(
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
    const load = yield* Batcher.make({
      window: settings.batchWindow,
      maxBatchSize: settings.maxBatchSize,
      concurrency: settings.batchConcurrency,
      mint: mintBatch
    })

    const getSpan = Telemetry.callSpan("sfox.user_tokens.get", 1)
    const get = (userId: string): Effect.Effect<UserAuthToken, InvalidUserId | RequestFailure> => {
      // The id travels in a batch's JSON body: checked, not URL-encoded.
      const invalid = checkUserId(userId, undefined, secrets)
      if (invalid !== undefined) return Effect.fail(invalid)
      if (cache === undefined) return getSpan(load(userId))
      return getSpan(Effect.flatMap(Clock.currentTimeMillis, (now) => {
        const cached = cache.get(userId, now)
        return cached === undefined
          ? Effect.tap(load(userId), (token) => cache.set(token))
          : Effect.succeed(cached)
      }))
    }

    const invalidate = (userId: string): Effect.Effect<void> =>
      cache === undefined ? Effect.void : Effect.sync(() => cache.invalidate(userId))

    return { create, createMany, get, invalidate }
  })
