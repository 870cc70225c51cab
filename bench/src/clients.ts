/**
 * The clients compared, each as it would be written by its users.
 */
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import { UserTokenService } from "@sfox-effect/core"
import { NodeSfox } from "@sfox-effect/node"
import axios from "axios"
import { Effect, Layer, ManagedRuntime, Redacted } from "effect"
import * as Undici from "undici"

export interface Outcome {
  readonly ok: number
  readonly failed: number
}

export interface Client {
  readonly name: string
  /** Mints one token per id, `concurrency` at a time; failures are counted, not thrown. */
  readonly mintEach: (ids: ReadonlyArray<string>, concurrency: number) => Promise<Outcome>
  readonly close: () => Promise<void>
}

/** Runs `f` over `items` with at most `concurrency` promises pending. */
export const pool = async <A>(
  items: ReadonlyArray<A>,
  concurrency: number,
  f: (item: A) => Promise<boolean>
): Promise<Outcome> => {
  let next = 0
  let ok = 0
  let failed = 0
  const worker = async () => {
    while (next < items.length) {
      const item = items[next++]!
      if (await f(item)) ok++
      else failed++
    }
  }
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker))
  return { ok, failed }
}

const path = "/v1/enterprise/user-tokens"

/** The floor: undici.request with a keep-alive agent, reading the JSON answer. */
export const rawUndici = (baseUrl: string, key: string): Client => {
  const dispatcher = new Undici.Agent({ connections: 64 })
  const headers = { authorization: `Bearer ${key}`, accept: "application/json" }
  return {
    name: "raw undici.request",
    mintEach: (ids, concurrency) =>
      pool(ids, concurrency, async (id) => {
        const { body, statusCode } = await Undici.request(`${baseUrl}${path}/${encodeURIComponent(id)}`, {
          method: "POST",
          headers,
          dispatcher
        })
        await body.json()
        return statusCode === 201
      }),
    close: () => dispatcher.close()
  }
}

/** The seed's Node example, as written there (URL and key swapped in), without its console output. */
export const seedAxios = (baseUrl: string, key: string): Client => ({
  name: "seed axios",
  mintEach: (ids, concurrency) =>
    pool(ids, concurrency, (userId) => {
      const config = {
        method: "post",
        url: `${baseUrl}/v1/enterprise/user-tokens/${userId}`,
        headers: {
          "Content-Type": "application/json",
          "Authorization": `Bearer ${key}`
        }
      }
      return axios(config)
        .then((response) => response.status === 201)
        .catch(() => false)
    }),
  close: async () => {}
})

const effectClient = <R>(
  name: string,
  runtime: ManagedRuntime.ManagedRuntime<R, never>,
  mint: (id: string) => Effect.Effect<unknown, unknown, R>
): Client => ({
  name,
  mintEach: (ids, concurrency) =>
    runtime.runPromise(
      Effect.forEach(ids, (id) => Effect.match(mint(id), { onFailure: () => false, onSuccess: () => true }), {
        concurrency
      }).pipe(Effect.map((results) => {
        const ok = results.filter((x) => x).length
        return { ok, failed: results.length - ok }
      }))
    ),
  close: () => runtime.dispose()
})

/**
 * @effect/platform-node's stock undici client, used directly. The platform
 * opens a span per request under any tracer, Effect's built-in one included
 * (about a fifth of this client's CPU): measured both as it comes and with
 * `HttpClient.withTracerDisabledWhen`, as a user who wants no spans would set it.
 */
export const stockEffect = (baseUrl: string, key: string, spans: boolean): Client => {
  const runtime = ManagedRuntime.make(NodeHttpClient.layerUndici)
  return effectClient(
    `stock platform-node undici (${spans ? "with its spans" : "spans disabled"})`,
    runtime,
    (id) =>
      Effect.flatMap(
        HttpClient.HttpClient,
        (client) =>
          (spans ? client : client.pipe(HttpClient.withTracerDisabledWhen(() => true))).execute(
            HttpClientRequest.post(`${baseUrl}${path}/${encodeURIComponent(id)}`).pipe(
              HttpClientRequest.bearerToken(key),
              HttpClientRequest.acceptJson
            )
          ).pipe(Effect.flatMap((response) => response.json))
      )
  )
}

export const serviceRuntime = (baseUrl: string, key: string, options: Partial<UserTokenService.Options> = {}) =>
  ManagedRuntime.make(
    UserTokenService.layer({ apiKey: Redacted.make(key), baseUrl, ...options }).pipe(
      Layer.provide(NodeSfox.httpClientWith({ connections: 64 })),
      Layer.orDie
    )
  )

/**
 * UserTokenService.create over the library's undici client (`connections:
 * 64`), with its rate limiter off, or on with a budget this run never
 * reaches (the limiter's cost when it never has to wait).
 */
export const serviceCreate = (baseUrl: string, key: string, limiter: boolean): Client => {
  const runtime = serviceRuntime(baseUrl, key, {
    rateLimit: limiter ? { limit: 1_000_000, interval: "10 seconds" } : false
  })
  return effectClient(
    `UserTokenService.create (${limiter ? "rate limiter on, never waiting" : "rateLimit: false"})`,
    runtime,
    (id) => Effect.flatMap(UserTokenService, (s) => s.create(id))
  )
}
