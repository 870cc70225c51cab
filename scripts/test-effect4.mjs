#!/usr/bin/env node
/**
 * Runs the Effect 4 edition's tests: vitest 5 (test-effect4's own) on Node 24
 * (scripts/node24.mjs, fetched once into .cache/), with
 * test-effect4/vitest.config.ts. Arguments are passed to `vitest run` (a file
 * filter, `-t name`). `pnpm test` runs it after the 3.x line's tests; its JSON
 * report is .vitest/results-effect4.json.
 */
import { spawnSync } from "node:child_process"
import * as Path from "node:path"
import { fileURLToPath } from "node:url"
import { node24 } from "./node24.mjs"

const root = Path.resolve(Path.dirname(fileURLToPath(import.meta.url)), "..")
const node = node24()
const vitest = Path.join(root, "test-effect4", "node_modules", "vitest", "vitest.mjs")
const result = spawnSync(
  node,
  [vitest, "run", "--config", Path.join(root, "test-effect4", "vitest.config.ts"), ...process.argv.slice(2)],
  { cwd: root, stdio: "inherit", env: { ...process.env, SFOX_EDITION: "effect4" } }
)
process.exit(result.status ?? 1)
