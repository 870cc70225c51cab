#!/usr/bin/env node
/**
 * The closing line of a test run: "N passed, N failed, N skipped", both
 * editions added up (.vitest/results.json, the 3.x line's on Node 20, and
 * .vitest/results-effect4.json, the Effect 4 edition's on Node 24), after one
 * line per edition. A missing report fails: an edition that did not run is
 * not zero tests.
 */
import * as Fs from "node:fs"
import * as Path from "node:path"
import { fileURLToPath } from "node:url"

const root = Path.resolve(Path.dirname(fileURLToPath(import.meta.url)), "..")
const reports = [
  ["Effect 3.x line (Node 20, vitest 3)", ".vitest/results.json"],
  ["Effect 4 edition (Node 24, vitest 5)", ".vitest/results-effect4.json"]
]
const total = { passed: 0, failed: 0, skipped: 0 }
for (const [edition, file] of reports) {
  const path = Path.join(root, file)
  if (!Fs.existsSync(path)) {
    console.error(`${edition}: no report at ${file}: did its tests run?`)
    process.exit(1)
  }
  const r = JSON.parse(Fs.readFileSync(path, "utf8"))
  const counts = {
    passed: r.numPassedTests,
    failed: r.numFailedTests,
    skipped: r.numPendingTests + r.numTodoTests
  }
  console.log(`${edition}: ${counts.passed} passed, ${counts.failed} failed, ${counts.skipped} skipped`)
  for (const key of Object.keys(total)) total[key] += counts[key]
}
console.log(`${total.passed} passed, ${total.failed} failed, ${total.skipped} skipped`)
