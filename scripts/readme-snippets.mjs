#!/usr/bin/env node
/**
 * `pnpm test:snippets`: every TypeScript snippet a reader may copy compiles.
 *
 * 1. Every ```ts (or ```typescript) block of README.md and docs/*.md (the
 *    pages written by hand; docs/api/ is generated) is written to its own
 *    module, `<page>_L<line>.ts`, with `export {}` appended so that no two
 *    snippets share a scope. A snippet must be complete: its imports, and
 *    every name it uses, defined in it.
 * 2. The modules are type-checked with tsc against the workspace's sources
 *    (`tsconfig.base.json`'s paths, as `pnpm run docs` does for JSDoc
 *    examples).
 *
 * A block that is deliberately a fragment is opened with ```ts no-check: it
 * is not compiled, and it is counted, so that fragments stay rare.
 *
 * The modules are written under examples/user-actions/build/readme-snippets:
 * from there the observability snippet's `@effect/opentelemetry` and
 * `@opentelemetry/*` resolve from that example's dependencies (no package of
 * the workspace root depends on them), and everything else (`effect`,
 * `@effect/platform`, `@effect/vitest`, `@types/node`) from the workspace as
 * usual. `build/` is gitignored.
 *
 * Exits non-zero, naming the page and line, when a snippet does not compile
 * or a block is never closed.
 */
import { spawnSync } from "node:child_process"
import * as Fs from "node:fs"
import { createRequire } from "node:module"
import * as Path from "node:path"
import { fileURLToPath } from "node:url"

const root = Path.resolve(Path.dirname(fileURLToPath(import.meta.url)), "..")
const require = createRequire(Path.join(root, "package.json"))
const tsc = require.resolve("typescript/bin/tsc")
const out = Path.join(root, "examples", "user-actions", "build", "readme-snippets")

const fail = (message) => {
  console.error(`snippets: ${message}`)
  process.exit(1)
}

const docsDir = Path.join(root, "docs")
const pages = [
  "README.md",
  ...(Fs.existsSync(docsDir)
    ? Fs.readdirSync(docsDir).filter((name) => name.endsWith(".md")).sort().map((name) => `docs/${name}`)
    : [])
]

/** Every fenced block of a page: its info string, the line its code starts on, its code. */
const blocksOf = (page) => {
  const lines = Fs.readFileSync(Path.join(root, page), "utf8").split("\n")
  const blocks = []
  let open
  lines.forEach((line, i) => {
    const fence = /^(\s*)(`{3,}|~{3,})(.*)$/.exec(line)
    if (fence === null) return
    if (open === undefined) {
      open = { fence: fence[2], info: fence[3].trim(), start: i + 1 }
    } else if (fence[2].startsWith(open.fence) && fence[3].trim() === "") {
      blocks.push({ info: open.info, line: open.start + 1, code: lines.slice(open.start, i).join("\n") })
      open = undefined
    }
  })
  if (open !== undefined) fail(`${page}:${open.start}: a code block is never closed`)
  return blocks
}

Fs.rmSync(out, { recursive: true, force: true })
Fs.mkdirSync(out, { recursive: true })
const where = new Map()
const fragments = []
for (const page of pages) {
  for (const block of blocksOf(page)) {
    const [language, ...flags] = block.info.split(/\s+/)
    if (language !== "ts" && language !== "typescript") continue
    if (flags.includes("no-check")) {
      fragments.push(`${page}:${block.line}`)
      continue
    }
    const name = `${page.replace(/[/.]/g, "_")}_L${block.line}.ts`
    Fs.writeFileSync(Path.join(out, name), `// ${page}:${block.line}\n${block.code}\nexport {}\n`)
    where.set(name, `${page}:${block.line}`)
  }
}
Fs.writeFileSync(
  Path.join(out, "tsconfig.json"),
  JSON.stringify(
    {
      extends: Path.relative(out, Path.join(root, "tsconfig.base.json")),
      compilerOptions: {
        noEmit: true,
        noUnusedLocals: false,
        declaration: false,
        declarationMap: false,
        types: ["node"]
      },
      include: ["*.ts"]
    },
    null,
    2
  )
)
if (where.size > 0) {
  const result = spawnSync(process.execPath, [tsc, "-p", Path.join(out, "tsconfig.json")], {
    encoding: "utf8",
    timeout: 180_000
  })
  if (result.status !== 0) {
    // The generated module has one line (the comment) above the snippet.
    const output = `${result.stdout}${result.stderr}${result.error ?? ""}`.replace(
      /^(?:.*[/\\])?([\w.-]+_L(\d+)\.ts)\((\d+),(\d+)\)/gm,
      (match, name, start, line) =>
        `${match}  [${where.get(name)?.replace(/:\d+$/, "")}:${Number(start) + Number(line) - 2}]`
    )
    fail(`a snippet does not compile:\n${output}`)
  }
}
const fragmentNote = fragments.length === 0 ? "" : ` (${fragments.length} marked no-check: ${fragments.join(", ")})`
console.log(`snippets: ${where.size} TypeScript snippet(s) of ${pages.join(", ")} type-check${fragmentNote}`)
