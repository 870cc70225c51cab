#!/usr/bin/env node
/**
 * The `sfox-tokens` executable.
 *
 * @since 0.1.0
 */
import * as NodeContext from "@effect/platform-node/NodeContext"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Logger from "effect/Logger"
import * as Cli from "./Cli.js"

// stdout carries the tokens (`--json` is parsed by scripts): the library's log
// lines (a 429 is a Warning; more with --log-level) go to stderr.
const logsToStderr = Logger.replace(Logger.defaultLogger, Logger.withConsoleError(Logger.logfmtLogger))

Cli.run(process.argv).pipe(
  Effect.provide(NodeContext.layer),
  Effect.provide(logsToStderr),
  NodeRuntime.runMain({
    // Cli.run reports every failure itself, as one line: no stack traces.
    disableErrorReporting: true,
    teardown: (exit, onExit) =>
      onExit(
        Exit.isSuccess(exit)
          ? typeof exit.value === "number" ? exit.value : Cli.ExitCode.Unexpected
          : Cause.isInterruptedOnly(exit.cause)
          ? Cli.ExitCode.Interrupted
          : Cli.ExitCode.Unexpected
      )
  })
)
