/**
 * The Effect 4 edition's entry for `pnpm bench`: bench/src/main.ts (the runner, on the repository's Node) spawns it
 * on Node 24 with `--edition-run 1|2 …` for scenarios 1 and 2, against the MockSfoxServer it started, and reads the
 * figures back over IPC (bench/src/editionRun.ts). Scenario 3 is scenario3.mjs beside it. Not meant to be run by
 * hand; to run the Effect 4 edition alone: `pnpm bench --editions effect4@24 --scenario 1`.
 */
import { runAsEntry } from "../../bench/src/editionRun.js"
import { edition4 } from "./clients.js"

runAsEntry(process.argv.slice(2), edition4)
