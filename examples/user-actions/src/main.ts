/**
 * `pnpm --filter @sfox-effect/example-user-actions start`: the example
 * service on http://127.0.0.1:3000 (`PORT` to change it), with no sFOX key and
 * no network: sFOX is `MockSfoxServer` on loopback, which mints tokens and
 * takes deposits made with them.
 *
 * The composition is the one a production service would use: `NodeSfox.layer`
 * reads `SFOX_ENTERPRISE_API_KEY` / `SFOX_BASE_URL` from configuration, and
 * the deposit goes to that same base URL through `clientFor`. `LocalSfox`
 * only starts the mock and points that configuration at it: drop it to talk
 * to sFOX.
 *
 * `SFOX_EXAMPLE_TRACING=console` (or the `start:traced` script) exports the
 * spans and metrics to stdout through `@effect/opentelemetry` (see
 * `tracing.ts`).
 */
import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as HttpApiBuilder from "@effect/platform/HttpApiBuilder"
import * as HttpMiddleware from "@effect/platform/HttpMiddleware"
import * as HttpServer from "@effect/platform/HttpServer"
import { NodeSfox } from "@sfox-effect/node"
import { MockSfoxServer } from "@sfox-effect/node/testing"
import * as Config from "effect/Config"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import * as Crypto from "node:crypto"
import * as Http from "node:http"
import { demoSessions, Sessions } from "./Sessions.js"
import * as Tracing from "./tracing.js"
import * as UserActions from "./UserActions.js"

/** The mock, and a configuration that points the real layers at it. */
const LocalSfox = Layer.unwrapScoped(Effect.gen(function*() {
  const sfox = yield* MockSfoxServer.make({ apiKey: Crypto.randomBytes(24).toString("base64url") })
  yield* Console.log(`mock sFOX (tokens and deposits) at ${sfox.url}`)
  const config = new Map([
    ["SFOX_ENTERPRISE_API_KEY", Redacted.value(sfox.apiKey)],
    ["SFOX_BASE_URL", sfox.url]
  ])
  return Layer.setConfigProvider(ConfigProvider.fromMap(config).pipe(ConfigProvider.orElse(ConfigProvider.fromEnv)))
}))

const TracingLive = Layer.unwrapEffect(
  Effect.map(
    Config.literal("console", "off")("SFOX_EXAMPLE_TRACING").pipe(Config.withDefault("off")),
    (tracing) => tracing === "console" ? Tracing.ConsoleLive : Layer.empty
  )
)

const Banner = Layer.effectDiscard(HttpServer.addressFormattedWith((url) =>
  Console.log(
    [
      `user-actions listening on ${url}`,
      ``,
      `  curl -i -X POST ${url}/deposits -H 'Authorization: Bearer session-alice' \\`,
      `       -H 'Content-Type: application/json' -d '{"amount": 250}'`,
      ``,
      `Sessions: ${Object.keys(demoSessions).join(", ")}. Try an unknown session (401) or an amount that is`,
      `not positive (400).`
    ].join("\n")
  )
))

const ServerLive = Layer.unwrapEffect(
  Effect.map(
    Config.integer("PORT").pipe(Config.withDefault(3000)),
    (port) => NodeHttpServer.layer(() => Http.createServer(), { port, host: "127.0.0.1" })
  )
)

const MainLive = HttpApiBuilder.serve(HttpMiddleware.logger).pipe(
  Layer.merge(Banner),
  Layer.provide(UserActions.layer),
  Layer.provide(ServerLive),
  Layer.provide(NodeSfox.layer),
  Layer.provide(Sessions.layer(demoSessions)),
  Layer.provide(TracingLive),
  Layer.provide(LocalSfox)
)

Layer.launch(MainLive).pipe(NodeRuntime.runMain)
