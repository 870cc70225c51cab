#!/usr/bin/env node
/**
 * Builds the workspace package in the current directory (`pnpm build` runs it
 * in every package, dependencies first, since a build reads the declarations
 * of the packages it imports from their dist: core, node and redis, then cli):
 *
 *   dist/esm  ES modules and declarations: `tsc -p tsconfig.build.json`, the
 *             one pass that type-checks.
 *   dist/cjs  the same modules as CommonJS: tsc again with `module: CommonJS`
 *             and `noCheck` (a plain per-file transpile, as `isolatedModules`
 *             allows), a `{"type": "commonjs"}` package.json, and a copy of
 *             the declarations, which that package.json makes CommonJS
 *             declarations for `require` consumers.
 *
 * Then every `bin` of the package is made executable.
 */
import { spawnSync } from "node:child_process"
import * as Fs from "node:fs"
import { createRequire } from "node:module"
import * as Path from "node:path"

const tsc = createRequire(import.meta.url).resolve("typescript/bin/tsc")
const pkg = JSON.parse(Fs.readFileSync("package.json", "utf8"))

const run = (args) => {
  const result = spawnSync(process.execPath, [tsc, ...args], { stdio: "inherit" })
  if (result.status !== 0) {
    console.error(`${pkg.name}: tsc ${args.join(" ")} failed`)
    process.exit(result.status ?? 1)
  }
}

const copyDeclarations = (from, to) => {
  for (const entry of Fs.readdirSync(from, { withFileTypes: true })) {
    const source = Path.join(from, entry.name)
    const target = Path.join(to, entry.name)
    if (entry.isDirectory()) {
      Fs.mkdirSync(target, { recursive: true })
      copyDeclarations(source, target)
    } else if (entry.name.endsWith(".d.ts") || entry.name.endsWith(".d.ts.map")) {
      Fs.copyFileSync(source, target)
    }
  }
}

Fs.rmSync("dist", { recursive: true, force: true })
run(["-p", "tsconfig.build.json", "--outDir", "dist/esm"])
run([
  "-p",
  "tsconfig.build.json",
  "--outDir",
  "dist/cjs",
  "--module",
  "CommonJS",
  "--moduleResolution",
  "Node10",
  "--noCheck",
  "--declaration",
  "false",
  "--declarationMap",
  "false"
])
Fs.writeFileSync("dist/cjs/package.json", JSON.stringify({ type: "commonjs" }, null, 2) + "\n")
copyDeclarations("dist/esm", "dist/cjs")

for (const file of Object.values(typeof pkg.bin === "string" ? { [pkg.name]: pkg.bin } : pkg.bin ?? {})) {
  Fs.chmodSync(file, 0o755)
}
console.log(`${pkg.name}: built dist/esm and dist/cjs`)
