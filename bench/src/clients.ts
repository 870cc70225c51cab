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
import { type Client, type Edition, pool } from "./editionRun.js"

export type { Client } from "./editionRun.js"

const path = "/v1/enterprise/user-tokens"

/** The floor: undici.request with a keep-alive agent, reading the JSON answer. */
export const rawUndici = (baseUrl: string, key: string): Client => {
  const dispatcher = new Undici.Agent({ connections: 64 })
  const headers = { authorization: `Bearer ${key}`, accept: "application/json" }
  return {
    id: "raw",
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
  id: "axios",
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
  id: string,
  name: string,
  runtime: ManagedRuntime.ManagedRuntime<R, never>,
  mint: (id: string) => Effect.Effect<unknown, unknown, R>
): Client => ({
  id,
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
    spans ? "stock" : "stock-nospans",
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
    limiter ? "create-limited" : "create",
    `UserTokenService.create (${limiter ? "rate limiter on, never waiting" : "rateLimit: false"})`,
    runtime,
    (id) => Effect.flatMap(UserTokenService, (s) => s.create(id))
  )
}

/** The 3.x line's clients for `--edition-run` (editionRun.ts), in the order of scenario 1's table. */
export const edition3: Edition = {
  scenario1: (url, key) => [
    rawUndici(url, key),
    seedAxios(url, key),
    stockEffect(url, key, true),
    stockEffect(url, key, false),
    serviceCreate(url, key, false),
    serviceCreate(url, key, true)
  ],
  scenario2: async (mode, url, key, users) => {
    // The seed's way: one POST per user, 16 at a time, no retry.
    if (mode === "seed") return (await seedAxios(url, key).mintEach(users, 16)).ok
    const runtime = serviceRuntime(url, key)
    const tokens = await runtime.runPromise(
      Effect.flatMap(UserTokenService, (service) =>
        mode === "createMany"
          ? service.createMany(users)
          : Effect.forEach(users, service.get, { concurrency: "unbounded" }))
    )
    await runtime.dispose()
    if (!tokens.every((t, i) => t.userId === users[i])) throw new Error(`${mode}: a token went to the wrong user`)
    return tokens.length
  }
}
