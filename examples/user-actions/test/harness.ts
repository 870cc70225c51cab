/**
 * The example service wired for tests: `FakeSfox` for the token side, a fake
 * HTTP client for the forwarded deposit, and the `HttpApi` app run in memory
 * on the test's own runtime (so `TestClock` drives `get`'s batch window and
 * the retry delays).
 */
import * as HttpApiBuilder from "@effect/platform/HttpApiBuilder"
import * as HttpApp from "@effect/platform/HttpApp"
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientError from "@effect/platform/HttpClientError"
import * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import type * as HttpRouter from "@effect/platform/HttpRouter"
import * as HttpServer from "@effect/platform/HttpServer"
import { UserTokenService } from "@sfox-effect/core"
import { FakeSfox, type SfoxSimulator } from "@sfox-effect/core/testing"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { demoSessions, Sessions } from "../src/Sessions.js"
import { SfoxUserApi } from "../src/SfoxUserApi.js"
import * as UserActions from "../src/UserActions.js"

export const alice = demoSessions["session-alice"]!
export const bob = demoSessions["session-bob"]!
export const carol = "carol-3"
export const sessions: Record<string, string> = { ...demoSessions, "session-carol": carol }

// ---------------------------------------------------------------------------
// what sFOX minted

/**
 * Every token the fake sFOX handed out, with the user it was minted for:
 * read off the answers as they pass (`transformClient`), so the fake deposit
 * endpoint can check a token the way sFOX would.
 */
const recordMints = (minted: Map<string, string>) => (client: HttpClient.HttpClient): HttpClient.HttpClient =>
  HttpClient.transformResponse(
    client,
    (effect) =>
      Effect.flatMap(effect, (response) =>
        Effect.map(response.text, (text) => {
          if (response.status === 201) {
            const data = (JSON.parse(text) as { data: unknown }).data
            for (const item of Array.isArray(data) ? data : [data]) {
              const { partner_user_id, token } = item as { token: string; partner_user_id: string }
              minted.set(token, partner_user_id)
            }
          }
          return HttpClientResponse.fromWeb(
            response.request,
            new Response(text, { status: response.status, headers: response.headers })
          )
        }))
  )

// ---------------------------------------------------------------------------
// the fake deposit endpoint

export type UserApiAnswer =
  | { readonly status: number; readonly body?: unknown; readonly headers?: Record<string, string> }
  | "reset"
  | "hang"

export interface ForwardedCall {
  readonly method: string
  readonly url: string
  readonly authorization: string | undefined
  /** The user the bearer token was minted for, or undefined for a token sFOX never minted. */
  readonly tokenUser: string | undefined
  readonly body: unknown
}

export class FakeUserApi extends Context.Tag("test/FakeUserApi")<FakeUserApi, {
  /** Answers for the next calls, one each, in order; then the normal answer. */
  readonly enqueue: (...answers: ReadonlyArray<UserApiAnswer>) => Effect.Effect<void>
  readonly calls: Effect.Effect<ReadonlyArray<ForwardedCall>>
  /** Tokens the fake sFOX minted, token → user id. */
  readonly minted: Effect.Effect<ReadonlyMap<string, string>>
}>() {}

const decoder = new TextDecoder()

const fakeUserApiClient = (
  minted: ReadonlyMap<string, string>,
  calls: Array<ForwardedCall>,
  script: Array<UserApiAnswer>
): HttpClient.HttpClient =>
  HttpClient.make((request, url) => {
    const authorization = request.headers["authorization"]
    const token = authorization?.replace(/^Bearer /, "")
    const body = request.body._tag === "Uint8Array" ? JSON.parse(decoder.decode(request.body.body)) : undefined
    const tokenUser = token === undefined ? undefined : minted.get(token)
    calls.push({ method: request.method, url: url.href, authorization, tokenUser, body })
    const answer: UserApiAnswer = script.shift() ??
      (tokenUser === undefined
        ? { status: 401, body: { error: "invalid user auth token" } }
        : {
          status: 201,
          body: { id: `ach_${calls.length}`, amount: (body as { amount: number }).amount, status: "pending" }
        })
    if (answer === "hang") return Effect.never
    if (answer === "reset") {
      return Effect.fail(
        new HttpClientError.RequestError({ request, reason: "Transport", cause: new Error("socket hang up") })
      )
    }
    return Effect.succeed(HttpClientResponse.fromWeb(
      request,
      new Response(answer.body === undefined ? null : JSON.stringify(answer.body), {
        status: answer.status,
        headers: { "content-type": "application/json", ...answer.headers }
      })
    ))
  })

// ---------------------------------------------------------------------------
// counting `get` calls

/** How many `UserTokenService.get` calls the handlers have made so far. */
export class GetCalls extends Context.Tag("test/GetCalls")<GetCalls, Effect.Effect<number>>() {}

// ---------------------------------------------------------------------------
// the app in memory

export class App extends Context.Tag("test/App")<App, (request: Request) => Promise<Response>>() {}

export interface TestOptions {
  readonly sfox?: SfoxSimulator.SimulatorOptions
  readonly service?: Omit<UserTokenService.Options, "apiKey">
}

/**
 * The example app with `FakeSfox` (the library's fake, through
 * `FakeSfox.layerTest`) for tokens and `FakeUserApi` for the forwarded call.
 */
export const layer = (options: TestOptions = {}): Layer.Layer<
  App | FakeSfox | FakeUserApi | GetCalls | UserTokenService,
  unknown
> =>
  Layer.unwrapEffect(Effect.sync(() => {
    const minted = new Map<string, string>()
    const calls: Array<ForwardedCall> = []
    const script: Array<UserApiAnswer> = []
    let gets = 0

    const Tokens = FakeSfox.layerTest(options.sfox, { ...options.service, transformClient: recordMints(minted) })
    // The handlers' UserTokenService: the fake's, with its `get` calls counted.
    const CountedTokens = Layer.effect(
      UserTokenService,
      Effect.map(UserTokenService, (tokens) => ({
        ...tokens,
        get: (userId: string) => Effect.suspend(() => (gets++, tokens.get(userId)))
      }))
    ).pipe(Layer.provide(Tokens))
    const UserApi = SfoxUserApi.layer({ baseUrl: "https://api.sfox.test" }).pipe(
      Layer.provide(Layer.succeed(HttpClient.HttpClient, fakeUserApiClient(minted, calls, script)))
    )
    const Controls = Layer.mergeAll(
      Layer.succeed(FakeUserApi, {
        enqueue: (...answers) =>
          Effect.sync(() => {
            for (const answer of answers) script.push(answer)
          }),
        calls: Effect.sync(() => calls.slice()),
        minted: Effect.sync(() => new Map(minted))
      }),
      Layer.succeed(GetCalls, Effect.sync(() => gets))
    )
    const Api = Layer.mergeAll(
      UserActions.layer,
      HttpApiBuilder.Router.Live,
      HttpApiBuilder.Middleware.layer,
      HttpServer.layerContext
    ).pipe(Layer.provide(Layer.mergeAll(CountedTokens, UserApi, Sessions.layer(sessions))))
    const InMemory = Layer.effect(
      App,
      Effect.gen(function*() {
        const app = yield* HttpApiBuilder.httpApp
        const runtime = yield* Effect.runtime<HttpRouter.HttpRouter.DefaultServices>()
        return HttpApp.toWebHandlerRuntime(runtime)(app)
      })
    ).pipe(Layer.provide(Api))
    return Layer.mergeAll(InMemory, Controls, Tokens)
  }))

export interface Answer {
  readonly status: number
  readonly body: any
}

/** `POST path` with a JSON body, as `session` (no `Authorization` header when undefined). */
export const post = (path: string, options: { readonly session?: string; readonly body?: unknown } = {}) =>
  Effect.gen(function*() {
    const handler = yield* App
    const headers: Record<string, string> = { "content-type": "application/json" }
    if (options.session !== undefined) headers["authorization"] = `Bearer ${options.session}`
    const response = yield* Effect.promise(() =>
      handler(
        new Request(`http://user-actions.test${path}`, {
          method: "POST",
          headers,
          body: JSON.stringify(options.body ?? {})
        })
      )
    )
    const text = yield* Effect.promise(() => response.text())
    return { status: response.status, body: text === "" ? undefined : JSON.parse(text) } satisfies Answer
  })

/** `POST /deposits` of `amount` as `session`. */
export const deposit = (session: string | undefined, amount: number) =>
  post("/deposits", session === undefined ? { body: { amount } } : { session, body: { amount } })
