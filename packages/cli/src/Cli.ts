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
import {
  isUserTokenError,
  printable,
  type UserAuthToken,
  type UserTokenError,
  UserTokenService,
  version
} from "@sfox-effect/core"
import { NodeSfox } from "@sfox-effect/node"
import { MockSfoxServer } from "@sfox-effect/node/testing"
import * as Cause from "effect/Cause"
import * as Config from "effect/Config"
import * as ConfigError from "effect/ConfigError"
import * as Console from "effect/Console"
import * as Data from "effect/Data"
import * as DateTime from "effect/DateTime"
import * as Effect from "effect/Effect"
import * as FiberRef from "effect/FiberRef"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Crypto from "node:crypto"
import * as Fs from "node:fs"

/**
 * The exit status of `sfox-tokens` for each outcome: one per typed error, so
 * scripts can branch on the code without parsing messages.
 *
 * @example
 * ```ts
 * import { Cli } from "@sfox-effect/cli"
 *
 * const shouldRetryLater = (code: number) => code === Cli.ExitCode.RateLimited || code === Cli.ExitCode.TransportError
 * ```
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
 * @example
 * ```ts
 * import { Cli } from "@sfox-effect/cli"
 *
 * const describe = (code: Cli.ExitCode): string => code === Cli.ExitCode.Ok ? "minted" : `failed (${code})`
 * ```
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

// One line, nothing in it that acts on the terminal: messages quote sFOX's
// text, the environment and the command line.
const oneLine = (text: string) => printable(text.replace(/\s+/g, " ").trim())

// JSON.stringify escapes controls but writes bidi and other format
// characters as they are; escaped, they read back the same. Its only raw
// newlines are its own indentation.
const safeJson = (value: unknown, space?: number) =>
  JSON.stringify(value, null, space).split("\n").map(printable).join("\n")

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
      return `sFOX refused the API key (${error.status}: ${error.description}); check SFOX_ENTERPRISE_API_KEY: ` +
        `an sFOX Enterprise API key, issued for ${error.origin ?? "this host"}`
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

/** The ids `run` found after `--`: @effect/cli appends them to the parsed ones, where no flag check may touch them. */
const forcedIds = FiberRef.unsafeMake<ReadonlyArray<string>>([])

const stdinError = (reason: string) =>
  new UsageError({ description: `cannot read the ids from stdin ('-'): ${reason}` })

// Node reads a directory given as stdin (`< /`) as an empty stream: asked
// first, so that the read error is said, not "no user ids given".
const stdinUnreadable = (): string | undefined => {
  try {
    return Fs.fstatSync(0).isDirectory() ? "EISDIR: stdin is a directory" : undefined
  } catch (error) {
    return error instanceof Error ? error.message : String(error)
  }
}

/** All of stdin, read to its end (the ids of `-`); a read error is the command's. */
const readStdin: Effect.Effect<Buffer, UsageError> = Effect.suspend(() => {
  const unreadable = stdinUnreadable()
  if (unreadable !== undefined) return Effect.fail(stdinError(unreadable))
  return Effect.async<Buffer, UsageError>((resume) => {
    const chunks: Array<Buffer> = []
    const onData = (chunk: Buffer) => chunks.push(chunk)
    const onEnd = () => resume(Effect.succeed(Buffer.concat(chunks)))
    const onError = (error: Error) => resume(Effect.fail(stdinError(error.message)))
    process.stdin.on("data", onData).once("end", onEnd).once("error", onError)
    return Effect.sync(() => {
      process.stdin.off("data", onData).off("end", onEnd).off("error", onError)
      process.stdin.pause()
    })
  })
})

// `ignoreBOM`: a byte order mark is kept, as Buffer's own decoding keeps it.
const strictUtf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true })

/**
 * Stdin as text. Bytes that are not UTF-8 are refused, naming the first line
 * that holds them: decoded leniently they would become U+FFFD, and a token
 * be minted for an id nobody gave.
 */
const stdinText = (bytes: Buffer): Effect.Effect<string, UsageError> => {
  try {
    return Effect.succeed(strictUtf8.decode(bytes))
  } catch {
    let line = 1
    for (let start = 0; start <= bytes.length; line++) {
      const end = bytes.indexOf(0x0a, start)
      const stop = end === -1 ? bytes.length : end
      try {
        strictUtf8.decode(bytes.subarray(start, stop))
      } catch {
        break
      }
      start = stop + 1
    }
    return Effect.fail(
      new UsageError({
        description: `stdin line ${line} is not valid UTF-8: no id is minted from it (nothing was sent)`
      })
    )
  }
}

// One id a line. Only the line ending is cut: ids are opaque, and one with
// surrounding spaces must reach the library to be refused as InvalidUserId,
// not be quietly changed into another id.
const stdinIds = (text: string): ReadonlyArray<string> =>
  text.split("\n").map((line) => line.endsWith("\r") ? line.slice(0, -1) : line).filter((line) => line.trim() !== "")

/** The ids to mint for, in command-line order: `-` replaced by stdin's, those after `--` taken as they are. */
const userIdsOf = (input: CreateInput): Effect.Effect<ReadonlyArray<string>, UsageError> =>
  Effect.gen(function*() {
    const forced = yield* FiberRef.get(forcedIds)
    const tail = input.userIds.slice(input.userIds.length - forced.length)
    const split = forced.length > 0 && tail.every((id, i) => id === forced[i])
    const parsed = split ? input.userIds.slice(0, input.userIds.length - forced.length) : input.userIds
    // @effect/cli hands a mistyped flag over as a positional argument; minting
    // a token for a user named "--jsno" would help no one.
    const flag = parsed.find((id) => id.startsWith("-") && id !== "-")
    if (flag !== undefined) {
      return yield* new UsageError({
        description: `unknown option ${JSON.stringify(flag)} (pass an id that starts with '-' after '--')`
      })
    }
    const dashes = parsed.filter((id) => id === "-").length
    if (dashes > 1) return yield* new UsageError({ description: "'-' (ids from stdin) may be given once" })
    const fromStdin = dashes === 1 ? stdinIds(yield* Effect.flatMap(readStdin, stdinText)) : []
    const ids = [...parsed.flatMap((id) => id === "-" ? fromStdin : [id]), ...(split ? forced : [])]
    if (ids.length === 0) return yield* new UsageError({ description: "no user ids given: pass at least one user_id" })
    return ids
  })

const mint = (input: CreateInput): Effect.Effect<ReadonlyArray<UserAuthToken>, Failure> =>
  Effect.gen(function*() {
    const userIds = yield* userIdsOf(input)
    return yield* Effect.gen(function*() {
      const tokens = yield* UserTokenService
      // One id takes the single endpoint, as a caller would expect.
      return userIds.length === 1 ? [yield* tokens.create(userIds[0]!)] : yield* tokens.createMany(userIds)
    }).pipe(Effect.provide(serviceLayer(input)))
  })

const printTokens = (input: CreateInput, tokens: ReadonlyArray<UserAuthToken>) => {
  const rows = tokens.map((t) => ({
    token: input.reveal ? Redacted.value(t.token) : redact(Redacted.value(t.token)),
    partner_user_id: t.userId,
    expires: DateTime.formatIso(t.expires)
  }))
  const hint = input.reveal ? Effect.void : Console.error(`${name}: tokens redacted; pass --reveal to print them whole`)
  if (input.json) {
    // A cut token under sFOX's own field name would pass for a token in a
    // program that reads it; without --reveal the field is left out instead.
    const data = input.reveal ? rows : rows.map(({ token: _, ...rest }) => rest)
    return Effect.zipRight(Console.log(safeJson({ data }, 2)), hint)
  }
  // An id may hold a bidi override among visible characters: it is shown escaped.
  const shown = rows.map((row) => ({ ...row, partner_user_id: printable(row.partner_user_id) }))
  const width = shown.reduce((max, row) => Math.max(max, row.partner_user_id.length), 0)
  return Effect.zipRight(
    Effect.forEach(
      shown,
      (row) => Console.log(`${row.partner_user_id.padEnd(width)}  ${row.token}  expires ${row.expires}`),
      { discard: true }
    ),
    hint
  )
}

const report = (json: boolean, error: Failure): Effect.Effect<never, CliExit> => {
  const { code, message, tag } = describe(error)
  return Console.error(`${name}: ${tag}: ${message}`).pipe(
    Effect.zipRight(json ? Console.log(safeJson({ error: { tag, message, exitCode: code } })) : Effect.void),
    Effect.zipRight(Effect.fail(new CliExit({ code })))
  )
}

const exitCodeTable: ReadonlyArray<readonly [ExitCode, string]> = [
  [ExitCode.Ok, "tokens minted"],
  [ExitCode.Unexpected, "unexpected failure (a bug: please report it)"],
  [ExitCode.Usage, "bad command line (unknown option, no user id, --mock with --base-url, --wizard off a terminal, …)"],
  [ExitCode.Config, "missing API key, or an invalid key or base URL in the environment or --base-url"],
  [ExitCode.InvalidUserId, "InvalidUserId: a user id that cannot be sent (empty, whitespace, '..', …); nothing sent"],
  [ExitCode.EmptyBatch, "EmptyBatch: the library got no id (no user id on the command line is a usage error, 2)"],
  [ExitCode.Unauthorized, "Unauthorized: sFOX refused the key (401) or the key may not act for that user (403)"],
  [ExitCode.RateLimited, "RateLimited: sFOX answered 429 and asked for a wait longer than the client allows"],
  [ExitCode.HttpFailure, "HttpFailure: any other non-2xx answer (404 unknown user, 5xx after retries, …)"],
  [
    ExitCode.TransportError,
    "TransportError: no complete answer (connect failure, refused certificate, reset, timeout, too large)"
  ],
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
    "One line per token on stdout: user id, token, expiry; tokens are cut to their first 4 characters unless --reveal. "
      + "With --json, {\"data\": [{\"token\", \"partner_user_id\", \"expires\"}]} as sFOX sends it; without "
      + "--reveal the \"token\" field is left out. On failure {\"error\": {\"tag\", \"message\", \"exitCode\"}}. "
      + "Notes and errors go to stderr, one line each, without colour when NO_COLOR is set or output is not a terminal."
  ),
  HelpDoc.h1("EXIT CODES"),
  // One paragraph keeps the table compact: the renderer puts a blank line between paragraphs.
  HelpDoc.p(exitCodeTable.map(([code, text]) => `${String(code).padStart(5)}  ${text}`).join("\n"))
])

const create = Command.make(
  "create",
  {
    userIds: Args.text({ name: "user_id" }).pipe(
      Args.withDescription(
        "The sFOX user id(s) to mint tokens for. One id: a single POST; several: batch POSTs. "
          + "'-' reads ids from stdin, UTF-8, one a line (blank lines skipped, nothing else trimmed); "
          + "every argument after '--' is an id, even one that starts with '-'."
      ),
      Args.atLeast(1)
    ),
    json: Options.boolean("json").pipe(
      Options.withDescription("Print JSON on stdout, for machines; without --reveal the token field is left out.")
    ),
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
 * The `sfox-tokens` command and its `create` subcommand, for embedding in
 * a command line of one's own.
 *
 * @example
 * ```ts
 * import { Cli } from "@sfox-effect/cli"
 * import { Command } from "@effect/cli"
 *
 * const ops = Command.make("ops").pipe(Command.withSubcommands([Cli.command]))
 * ```
 *
 * @since 0.1.0
 * @category commands
 */
export const command = Command.make(
  name,
  {},
  () =>
    Console.error(`${name}: missing command; try '${name} create <user_id...>' or '${name} help'`).pipe(
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

const subcommands: ReadonlyArray<string> = ["create"]
const helpFlags: ReadonlyArray<string> = ["--help", "-h"]
// @effect/cli's options for every command; it reads them only before a
// command's first argument, so `run` moves them there.
const builtInFlags: ReadonlyArray<string> = [...helpFlags, "--version", "--wizard"]
const builtInWithValue: ReadonlyArray<string> = ["--log-level", "--completions"]

interface CommandLine {
  /** What @effect/cli parses. */
  readonly args: ReadonlyArray<string>
  /** The ids after `--`. */
  readonly forced: ReadonlyArray<string>
  readonly wizard: boolean
  /** A `help` topic that is no command. */
  readonly unknownTopic?: string
}

/**
 * The command line as @effect/cli reads it, with what `gh` users expect:
 * `help [command]`; global options anywhere before `--`; `create --help`
 * asked of the parent, whose help names the program in the usage line
 * (the subcommand's own reads `$ create …`).
 */
const commandLine = (args: ReadonlyArray<string>): CommandLine => {
  if (args[0] === "help") {
    const [topic] = args.slice(1)
    return topic !== undefined && subcommands.includes(topic)
      ? { args: ["--help", topic, "--help"], forced: [], wizard: false }
      : { args: ["--help"], forced: [], wizard: false, ...(topic === undefined ? {} : { unknownTopic: topic }) }
  }
  const [command, ...rest] = args
  if (command === undefined || !subcommands.includes(command)) {
    return { args, forced: [], wizard: args.includes("--wizard") }
  }
  const end = rest.indexOf("--")
  const before = end === -1 ? rest : rest.slice(0, end)
  const forced = end === -1 ? [] : rest.slice(end + 1)
  const builtIns: Array<string> = []
  const others: Array<string> = []
  for (let i = 0; i < before.length; i++) {
    const arg = before[i]!
    if (builtInFlags.includes(arg) || builtInWithValue.some((option) => arg.startsWith(`${option}=`))) {
      builtIns.push(arg)
    } else if (builtInWithValue.includes(arg)) {
      // The option and its value, if any.
      builtIns.splice(builtIns.length, 0, ...before.slice(i, i + 2))
      i++
    } else {
      others.push(arg)
    }
  }
  if (builtIns.some((arg) => helpFlags.includes(arg))) {
    return { args: ["--help", command, "--help"], forced: [], wizard: false }
  }
  return {
    args: [command, ...builtIns, ...others, ...(end === -1 ? [] : ["--", ...forced])],
    forced,
    wizard: builtIns.includes("--wizard")
  }
}

const sgr = new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, "g")

/** The console without @effect/cli's colours (it styles its help and errors whatever the output is). */
const plainConsole = (base: Console.Console): Console.Console => {
  const plain = (parts: ReadonlyArray<unknown>) =>
    parts.map((part) => typeof part === "string" ? part.replace(sgr, "") : part)
  return {
    ...base,
    log: (...parts) => base.log(...plain(parts)),
    error: (...parts) => base.error(...plain(parts)),
    info: (...parts) => base.info(...plain(parts)),
    warn: (...parts) => base.warn(...plain(parts))
  }
}

// https://no-color.org: set and not empty.
const noColor = Config.string("NO_COLOR").pipe(
  Config.map((value) => value !== ""),
  Config.withDefault(false)
)

const reportUsage = (description: string) =>
  Effect.as(Console.error(`${name}: UsageError: ${oneLine(description)}`), ExitCode.Usage)

/**
 * Runs `sfox-tokens` on a full `process.argv` (runtime and script first) and
 * yields its exit code. Every failure has been reported on stderr by then;
 * this effect itself never fails. Colour only when `NO_COLOR` is unset and
 * both stdout and stderr are terminals; `--wizard` only when stdin is one.
 *
 * @example
 * ```ts
 * import { Cli } from "@sfox-effect/cli"
 * import { NodeContext } from "@effect/platform-node"
 * import { Effect } from "effect"
 *
 * // What the bin does, from a test: argv as Node gives it, runtime and script first.
 * const exitCode = Cli.run(["node", "sfox-tokens", "create", "--mock", "user-1"]).pipe(
 *   Effect.provide(NodeContext.layer)
 * )
 * ```
 *
 * @since 0.1.0
 * @category running
 */
export const run = (argv: ReadonlyArray<string>): Effect.Effect<ExitCode, never, CliApp.CliApp.Environment> =>
  Effect.gen(function*() {
    const line = commandLine(argv.slice(2))
    if (line.unknownTopic !== undefined) {
      return yield* reportUsage(`no command ${JSON.stringify(line.unknownTopic)}; try '${name} help'`)
    }
    if (line.wizard && process.stdin.isTTY !== true) {
      return yield* reportUsage("--wizard needs a terminal on stdin; pass the command's options and ids instead")
    }
    return yield* cli([...argv.slice(0, 2), ...line.args]).pipe(
      Effect.locally(forcedIds, line.forced),
      Effect.as(ExitCode.Ok),
      // @effect/cli has already printed what was wrong with the command line.
      Effect.catchAll((error) => Effect.succeed(error instanceof CliExit ? error.code : ExitCode.Usage))
    )
  }).pipe(
    Effect.catchAllCause((cause) =>
      Cause.isInterruptedOnly(cause)
        ? Effect.succeed(ExitCode.Interrupted)
        : Effect.as(
          Console.error(`${name}: unexpected error: ${oneLine(String(Cause.squash(cause)))}`),
          ExitCode.Unexpected
        )
    ),
    (program) =>
      Effect.flatMap(
        Effect.orElseSucceed(noColor, () => false),
        (off) =>
          off || process.stdout.isTTY !== true || process.stderr.isTTY !== true
            ? Effect.flatMap(Effect.console, (base) => Console.withConsole(program, plainConsole(base)))
            : program
      )
  )
