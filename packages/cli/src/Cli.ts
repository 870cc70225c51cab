/**
 * The `sfox-tokens` command line: mints sFOX Enterprise user auth tokens from
 * a shell, against sFOX or an embedded `MockSfoxServer`.
 *
 * ```sh
 * SFOX_ENTERPRISE_API_KEY=… sfox-tokens create 156c5beb-7c9f-4f68-83c0-9479703ac490
 * sfox-tokens create --mock --json user-1 user-2
 * ```
 *
 * @since 0.1.0
 */
import * as Args from "@effect/cli/Args"
import type * as CliApp from "@effect/cli/CliApp"
import * as Command from "@effect/cli/Command"
import * as HelpDoc from "@effect/cli/HelpDoc"
import * as Span from "@effect/cli/HelpDoc/Span"
import * as Options from "@effect/cli/Options"
import { isUserTokenError, type UserAuthToken, type UserTokenError, UserTokenService, version } from "@sfox-effect/core"
import { NodeSfox } from "@sfox-effect/node"
import { MockSfoxServer } from "@sfox-effect/node/testing"
import * as Cause from "effect/Cause"
import * as Config from "effect/Config"
import * as ConfigError from "effect/ConfigError"
import * as Console from "effect/Console"
import * as Data from "effect/Data"
import * as DateTime from "effect/DateTime"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Crypto from "node:crypto"

/**
 * The exit status of `sfox-tokens` for each outcome: one per typed error, so
 * scripts can branch on the code without parsing messages.
 *
 * @since 0.1.0
 * @category constants
 */
export const ExitCode = {
  Ok: 0,
  Unexpected: 1,
  Usage: 2,
  Config: 3,
  InvalidUserId: 4,
  EmptyBatch: 5,
  Unauthorized: 6,
  RateLimited: 7,
  HttpFailure: 8,
  TransportError: 9,
  MalformedResponse: 10,
  RateLimiterUnavailable: 11,
  Interrupted: 130
} as const

/**
 * One of the `ExitCode` values.
 *
 * @since 0.1.0
 * @category models
 */
export type ExitCode = typeof ExitCode[keyof typeof ExitCode]

const name = "sfox-tokens"

/** A failure already reported to the user: only its exit code travels on. */
class CliExit extends Data.TaggedError("CliExit")<{ readonly code: ExitCode }> {}

class UsageError extends Data.TaggedError("UsageError")<{ readonly description: string }> {}

type Failure = UserTokenError | ConfigError.ConfigError | UsageError

const oneLine = (text: string) => text.replace(/\s+/g, " ").trim()

const configMessage = (error: ConfigError.ConfigError): string => {
  if (ConfigError.isMissingDataOnly(error)) {
    return "no API key: set SFOX_ENTERPRISE_API_KEY (or ENTERPRISE_API_KEY) in the environment, or pass --mock"
  }
  if (error._op === "InvalidData") {
    const at = error.path.length === 0 ? "configuration" : error.path.join(".")
    return `invalid ${at}: ${error.message}`
  }
  return `invalid configuration: ${String(error)}`
}

const userTokenMessage = (error: UserTokenError): string => {
  switch (error._tag) {
    case "EmptyBatch":
      return "no user ids given: pass at least one user_id"
    case "Unauthorized":
      return `sFOX refused the API key (${error.status}: ${error.description}); check SFOX_ENTERPRISE_API_KEY`
    case "TransportError":
      return `no answer from sFOX: ${error.message}`
    default:
      return error.message
  }
}

/** The tag, exit code and one-line message the user sees for a failure. */
const describe = (error: Failure): { readonly tag: string; readonly code: ExitCode; readonly message: string } => {
  if (isUserTokenError(error)) {
    return { tag: error._tag, code: ExitCode[error._tag], message: oneLine(userTokenMessage(error)) }
  }
  if (ConfigError.isConfigError(error)) {
    return { tag: "ConfigError", code: ExitCode.Config, message: oneLine(configMessage(error)) }
  }
  return { tag: "UsageError", code: ExitCode.Usage, message: oneLine(error.description) }
}

// Enough of the token to tell two apart, far too little to use one.
const redact = (token: string) => token.length > 8 ? `${token.slice(0, 4)}…` : "<redacted>"

interface CreateInput {
  readonly userIds: ReadonlyArray<string>
  readonly json: boolean
  readonly reveal: boolean
  readonly baseUrl: Option.Option<string>
  readonly mock: boolean
}

const serviceLayer = (input: CreateInput): Layer.Layer<UserTokenService, ConfigError.ConfigError | UsageError> => {
  if (input.mock) {
    if (Option.isSome(input.baseUrl)) {
      return Layer.fail(new UsageError({ description: "--mock and --base-url exclude each other" }))
    }
    return Layer.unwrapScoped(Effect.gen(function*() {
      // A fresh key per run: nothing from the environment is ever sent to the embedded server.
      const server = yield* MockSfoxServer.make({ apiKey: Crypto.randomBytes(24).toString("base64url") })
      yield* Console.error(`${name}: --mock: minting against an embedded sFOX simulator at ${server.url}`)
      return UserTokenService.layer({ apiKey: server.apiKey, baseUrl: server.url })
    })).pipe(Layer.provide(NodeSfox.httpClient))
  }
  return UserTokenService.layerConfig(
    Option.isSome(input.baseUrl) ? { baseUrl: Config.succeed(input.baseUrl.value) } : {}
  ).pipe(Layer.provide(NodeSfox.httpClient))
}

const mint = (input: CreateInput): Effect.Effect<ReadonlyArray<UserAuthToken>, Failure> => {
  // @effect/cli hands a mistyped flag over as a positional argument; minting
  // a token for a user named "--jsno" would help no one.
  const flag = input.userIds.find((id) => id.startsWith("-"))
  if (flag !== undefined) {
    return Effect.fail(
      new UsageError({ description: `unknown option ${JSON.stringify(flag)} (user ids never start with '-')` })
    )
  }
  return Effect.gen(function*() {
    const tokens = yield* UserTokenService
    // One id takes the single endpoint, as a caller would expect; zero ids
    // go to createMany so that the library itself reports EmptyBatch.
    return input.userIds.length === 1
      ? [yield* tokens.create(input.userIds[0]!)]
      : yield* tokens.createMany(input.userIds)
  }).pipe(Effect.provide(serviceLayer(input)))
}

const printTokens = (input: CreateInput, tokens: ReadonlyArray<UserAuthToken>) => {
  const rows = tokens.map((t) => ({
    token: input.reveal ? Redacted.value(t.token) : redact(Redacted.value(t.token)),
    partner_user_id: t.userId,
    expires: DateTime.formatIso(t.expires)
  }))
  const hint = input.reveal ? Effect.void : Console.error(`${name}: tokens redacted; pass --reveal to print them whole`)
  if (input.json) return Effect.zipRight(Console.log(JSON.stringify({ data: rows }, null, 2)), hint)
  const width = rows.reduce((max, row) => Math.max(max, row.partner_user_id.length), 0)
  return Effect.zipRight(
    Effect.forEach(
      rows,
      (row) => Console.log(`${row.partner_user_id.padEnd(width)}  ${row.token}  expires ${row.expires}`),
      { discard: true }
    ),
    hint
  )
}

const report = (json: boolean, error: Failure): Effect.Effect<never, CliExit> => {
  const { code, message, tag } = describe(error)
  return Console.error(`${name}: ${tag}: ${message}`).pipe(
    Effect.zipRight(json ? Console.log(JSON.stringify({ error: { tag, message, exitCode: code } })) : Effect.void),
    Effect.zipRight(Effect.fail(new CliExit({ code })))
  )
}

const exitCodeTable: ReadonlyArray<readonly [ExitCode, string]> = [
  [ExitCode.Ok, "tokens minted"],
  [ExitCode.Unexpected, "unexpected failure (a bug: please report it)"],
  [ExitCode.Usage, "bad command line (unknown option, --mock with --base-url, …)"],
  [ExitCode.Config, "missing API key, or an invalid key or base URL in the environment or --base-url"],
  [ExitCode.InvalidUserId, "InvalidUserId: a user id that cannot be sent (empty, whitespace, '..', …); nothing sent"],
  [ExitCode.EmptyBatch, "EmptyBatch: no user id given; nothing sent"],
  [ExitCode.Unauthorized, "Unauthorized: sFOX refused the key (401) or the key may not act for that user (403)"],
  [ExitCode.RateLimited, "RateLimited: sFOX answered 429 and asked for a wait longer than the client allows"],
  [ExitCode.HttpFailure, "HttpFailure: any other non-2xx answer (404 unknown user, 5xx after retries, …)"],
  [ExitCode.TransportError, "TransportError: no complete answer (connect failure, reset, timeout, too large)"],
  [ExitCode.MalformedResponse, "MalformedResponse: a 2xx answer that is not what sFOX documents"],
  [ExitCode.RateLimiterUnavailable, "RateLimiterUnavailable: the shared rate limiter (Redis) is down; nothing sent"],
  [ExitCode.Interrupted, "interrupted (Ctrl-C)"]
]

const footer = HelpDoc.blocks([
  HelpDoc.h1("ENVIRONMENT"),
  HelpDoc.descriptionList([
    [
      Span.code("SFOX_ENTERPRISE_API_KEY"),
      HelpDoc.p(
        "The sFOX Enterprise API key (falls back to ENTERPRISE_API_KEY, as in sFOX's docs). "
          + "Read from the environment only, never from a flag, so it stays out of shell history. Not needed with --mock."
      )
    ],
    [
      Span.code("SFOX_BASE_URL"),
      HelpDoc.p("sFOX's base URL when --base-url is not given; https://api.sfox.com when neither is set.")
    ]
  ]),
  HelpDoc.h1("OUTPUT"),
  HelpDoc.p(
    "One line per token on stdout: user id, token, expiry. With --json, {\"data\": [{\"token\", \"partner_user_id\", "
      + "\"expires\"}]} as sFOX sends it, and on failure {\"error\": {\"tag\", \"message\", \"exitCode\"}}. "
      + "Tokens are cut to their first 4 characters unless --reveal. Notes and errors go to stderr, one line each."
  ),
  HelpDoc.h1("EXIT CODES"),
  // One paragraph keeps the table compact: the renderer puts a blank line between paragraphs.
  HelpDoc.p(exitCodeTable.map(([code, text]) => `${String(code).padStart(5)}  ${text}`).join("\n"))
])

const create = Command.make(
  "create",
  {
    userIds: Args.text({ name: "user_id" }).pipe(
      Args.withDescription("The sFOX user id(s) to mint tokens for. One id: a single POST; several: batch POSTs."),
      Args.repeated
    ),
    json: Options.boolean("json").pipe(Options.withDescription("Print JSON on stdout, for machines.")),
    reveal: Options.boolean("reveal").pipe(
      Options.withDescription("Print the tokens whole. Without it they are cut to their first 4 characters.")
    ),
    baseUrl: Options.text("base-url").pipe(
      Options.withDescription(
        "sFOX's base URL (https:, or http: on a loopback host). Overrides SFOX_BASE_URL; default https://api.sfox.com."
      ),
      Options.optional
    ),
    mock: Options.boolean("mock").pipe(
      Options.withDescription(
        "Mint against an embedded sFOX simulator on 127.0.0.1 with a generated key: no key, no network. "
          + "Its tokens are worthless on sFOX."
      )
    )
  },
  (input) =>
    mint(input).pipe(
      Effect.matchEffect({
        onFailure: (error) => report(input.json, error),
        onSuccess: (tokens) => printTokens(input, tokens)
      })
    )
).pipe(
  Command.withDescription(
    "Mint a user auth token for each user id (tokens live 24 h; sFOX advises minting when needed, not storing them)."
  )
)

/**
 * The `sfox-tokens` command and its `create` subcommand.
 *
 * @since 0.1.0
 * @category commands
 */
export const command = Command.make(
  name,
  {},
  () =>
    Console.error(`${name}: missing command; try '${name} create <user_id...>' or '${name} --help'`).pipe(
      Effect.zipRight(Effect.fail(new CliExit({ code: ExitCode.Usage })))
    )
).pipe(
  Command.withDescription("Mint sFOX Enterprise user auth tokens."),
  Command.withSubcommands([create])
)

const cli = Command.run(command, {
  name,
  version,
  summary: Span.text("mint sFOX Enterprise user auth tokens"),
  footer
})

/**
 * Runs `sfox-tokens` on a full `process.argv` (runtime and script first) and
 * yields its exit code. Every failure has been reported on stderr by then;
 * this effect itself never fails.
 *
 * @since 0.1.0
 * @category running
 */
export const run = (argv: ReadonlyArray<string>): Effect.Effect<ExitCode, never, CliApp.CliApp.Environment> =>
  cli(argv).pipe(
    Effect.as(ExitCode.Ok),
    // @effect/cli has already printed what was wrong with the command line.
    Effect.catchAll((error) => Effect.succeed(error instanceof CliExit ? error.code : ExitCode.Usage)),
    Effect.catchAllCause((cause) =>
      Cause.isInterruptedOnly(cause)
        ? Effect.succeed(ExitCode.Interrupted)
        : Effect.as(
          Console.error(`${name}: unexpected error: ${oneLine(String(Cause.squash(cause)))}`),
          ExitCode.Unexpected
        )
    )
  )
