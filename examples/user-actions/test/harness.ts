/**
 * The example service wired for tests: `FakeSfox` is sFOX, its token
 * endpoints and its deposit endpoint alike (the deposit takes only live
 * tokens the fake minted), and the `HttpApi` app runs in memory on the
 * test's own runtime (so `TestClock` drives `get`'s batch window and the
 * retry delays).
 */
import * as HttpApiBuilder from "@effect/platform/HttpApiBuilder"
import * as HttpApp from "@effect/platform/HttpApp"
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import type * as HttpRouter from "@effect/platform/HttpRouter"
import * as HttpServer from "@effect/platform/HttpServer"
import { UserTokenService } from "@sfox-effect/core"
import { FakeSfox, SfoxSimulator } from "@sfox-effect/core/testing"
import * as Context from "effect/Context"
import * as Deferred from "effect/Deferred"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as FiberId from "effect/FiberId"
import * as Layer from "effect/Layer"
import * as TestClock from "effect/TestClock"
import { demoSessions, Sessions } from "../src/Sessions.js"
import * as UserActions from "../src/UserActions.js"

export const alice = demoSessions["session-alice"]!
export const bob = demoSessions["session-bob"]!
export const carol = "carol-3"
export const sessions: Record<string, string> = { ...demoSessions, "session-carol": carol }

export const depositPath = "/v1/user/bank/deposit"

// ---------------------------------------------------------------------------
// what sFOX saw and minted

/** The fake's requests to its token endpoints. */
export const mints = Effect.map(
  Effect.flatMap(FakeSfox, (fake) => fake.requests),
  (requests) => requests.filter((r) => r.path.startsWith(SfoxSimulator.tokensPath))
)

/** The fake's requests to its deposit endpoint. */
export const deposits = Effect.map(
  Effect.flatMap(FakeSfox, (fake) => fake.requests),
  (requests) => requests.filter((r) => r.path === depositPath)
)

/**
 * Every token the fake minted, read off its answers as they pass
 * (`transformClient`; the fake records whether a token was valid, not the
 * token): what a test looks for in the client's answers.
 */
export class Minted extends Context.Tag("test/Minted")<Minted, Effect.Effect<ReadonlySet<string>>>() {}

const recordMints = (minted: Set<string>) => (client: HttpClient.HttpClient): HttpClient.HttpClient =>
  HttpClient.transformResponse(
    client,
    (effect) =>
      Effect.flatMap(effect, (response) => {
        if (response.status !== 201 || !new URL(response.request.url).pathname.startsWith(SfoxSimulator.tokensPath)) {
          return Effect.succeed(response)
        }
        return Effect.map(response.text, (text) => {
          const data = (JSON.parse(text) as { data: unknown }).data
          for (const item of Array.isArray(data) ? data : [data]) minted.add((item as { token: string }).token)
          return HttpClientResponse.fromWeb(
            response.request,
            new Response(text, { status: response.status, headers: response.headers })
          )
        })
      })
  )

// ---------------------------------------------------------------------------
// counting the requests handed to `clientFor`

/**
 * How many requests the handlers have handed to a `clientFor` client so far:
 * each one goes straight to `get` for its token.
 */
export class ClientCalls extends Context.Tag("test/ClientCalls")<ClientCalls, Effect.Effect<number>>() {}

/** Completes once the handlers have handed `n` requests to `clientFor` (at once if they have). */
export class ClientCallsReached
  extends Context.Tag("test/ClientCallsReached")<ClientCallsReached, (n: number) => Effect.Effect<void>>()
{}

// ---------------------------------------------------------------------------
// the app in memory

export class App extends Context.Tag("test/App")<App, (request: Request) => Promise<Response>>() {}

export interface TestOptions {
  readonly sfox?: SfoxSimulator.SimulatorOptions
  readonly service?: Omit<UserTokenService.Options, "apiKey">
}

/** The example app with `FakeSfox` (the library's fake, through `FakeSfox.layerTest`) as sFOX. */
export const layer = (options: TestOptions = {}): Layer.Layer<
  App | ClientCalls | ClientCallsReached | FakeSfox | Minted | UserTokenService,
  unknown
> =>
  Layer.unwrapEffect(Effect.sync(() => {
    const minted = new Set<string>()
    let calls = 0
    // One latch per count, completed by the handler's own call: the test waits for the event, not for time.
    const reached = new Map<number, Deferred.Deferred<void>>()
    const latch = (n: number) => {
      let deferred = reached.get(n)
      if (deferred === undefined) reached.set(n, deferred = Deferred.unsafeMake<void>(FiberId.none))
      return deferred
    }

    const Tokens = FakeSfox.layerTest(options.sfox, { ...options.service, transformClient: recordMints(minted) })
    // The handlers' UserTokenService: the fake's, with the requests its clients take counted.
    const CountedTokens = Layer.effect(
      UserTokenService,
      Effect.map(UserTokenService, (tokens) => ({
        ...tokens,
        clientFor: (userId: string) =>
          HttpClient.tapRequest(tokens.clientFor(userId), () =>
            Effect.sync(() => Deferred.unsafeDone(latch(++calls), Exit.void)))
      }))
    ).pipe(Layer.provide(Tokens))
    const Controls = Layer.mergeAll(
      Layer.succeed(
        Minted,
        Effect.sync(() =>
          new Set(minted)
        )
      ),
      Layer.succeed(ClientCalls, Effect.sync(() => calls)),
      Layer.succeed(ClientCallsReached, (n: number) => n <= 0 ? Effect.void : Deferred.await(latch(n)))
    )
    const Api = Layer.mergeAll(
      UserActions.layer,
      HttpApiBuilder.Router.Live,
      HttpApiBuilder.Middleware.layer,
      HttpServer.layerContext
    ).pipe(Layer.provide(Layer.mergeAll(CountedTokens, Sessions.layer(sessions))))
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

// ---------------------------------------------------------------------------
// driving the clock

/**
 * Waits until the handlers have handed `n` requests to `clientFor`: a
 * request gets there only after its body has been read, which is real I/O,
 * not Effect time, so the handler's call completes a latch.
 */
export const untilClientCalls = (n: number) => Effect.flatMap(ClientCallsReached, (reached) => reached(n))

/**
 * Sends the requests concurrently, lets them all join `get`'s batch window,
 * then moves the test clock on by `advance` (the 5 ms window, plus any retry
 * delays) and collects the answers.
 */
export const concurrently = (
  requests: ReadonlyArray<Effect.Effect<Answer, never, any>>,
  advance: Duration.DurationInput = "10 millis"
) =>
  Effect.gen(function*() {
    const before = yield* (yield* ClientCalls)
    const fibers = yield* Effect.forEach(requests, (request) => Effect.fork(request))
    yield* untilClientCalls(before + requests.length)
    yield* TestClock.adjust(advance)
    return yield* Fiber.joinAll(fibers)
  })

/** One request, taken through the batch window. */
export const one = (request: Effect.Effect<Answer, never, any>, advance?: Duration.DurationInput) =>
  Effect.map(concurrently([request], advance), (answers) => answers[0]!)
