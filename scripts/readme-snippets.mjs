#!/usr/bin/env node
/**
 * `pnpm test:snippets`: every TypeScript snippet a reader may copy compiles.
 *
 * 1. Every ```ts (or ```typescript) block of README.md, packages/<pkg>/README.md
 *    and docs/*.md (the pages written by hand) is written to its own
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
 * The Effect 4 edition's snippets (a block that imports `@sfox-effect/effect4-*`,
 * and every block of an effect4 package's README) are type-checked apart,
 * against that edition's sources (tsconfig.effect4.json) from
 * test-effect4/build/readme-snippets, where `effect` is Effect 4.
 *
 * The modules are written under examples/user-actions/build/readme-snippets:
 * from there the observability snippet's `@effect/opentelemetry` and
 * `@opentelemetry/*` resolve from that example's dependencies (no package of
 * the workspace root depends on them), and everything else (`effect`,
 * `@effect/platform`, `@effect/vitest`, `@types/node`) from the workspace as
 * usual. `build/` is gitignored.
 *
 * 3. Every command of a README (the root's and each package's: its code
 *    blocks and `code` spans) and every line the demo prints run pnpm the
 *    one way a fresh machine with only Node and npm can:
 *    `npx -y pnpm@<version>` (the root package.json's `packageManager`).
 *    A bare `pnpm <command>` fails there with "command not found", so one is
 *    refused, as is a `pnpm@` of another version.
 *
 * Exits non-zero, naming the page and line, when a snippet does not compile,
 * a block is never closed, or a line says bare `pnpm`.
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
  // What a tarball carries: each package's README.
  ...Fs.readdirSync(Path.join(root, "packages")).sort().map((dir) => `packages/${dir}/README.md`)
    .filter((page) => Fs.existsSync(Path.join(root, page))),
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

/**
 * Lines that run pnpm in a way a fresh machine cannot: a bare `pnpm <command>`,
 * or a `pnpm@<version>` other than the workspace's. Comments of the demo's
 * source are not what it prints, and are left out.
 */
const pnpmVersion = JSON.parse(Fs.readFileSync(Path.join(root, "package.json"), "utf8")).packageManager
  .replace(/^pnpm@/, "")
const pnpmProblems = () => {
  const readmes = [
    "README.md",
    ...Fs.readdirSync(Path.join(root, "packages")).map((dir) => `packages/${dir}/README.md`)
  ].filter((page) => Fs.existsSync(Path.join(root, page)))
  const demo = "packages/cli/src/demo.ts"
  const problems = []
  for (const page of [...readmes, demo]) {
    let fence = false
    Fs.readFileSync(Path.join(root, page), "utf8").split("\n").forEach((line, i) => {
      if (page === demo && /^\s*(\/\/|\/\*|\*)/.test(line)) return
      // What a reader copies from a README: code blocks, and `code` in the prose.
      if (page !== demo && /^\s*(```|~~~)/.test(line)) fence = !fence
      const copied = page === demo || fence ? [line] : Array.from(line.matchAll(/`([^`]+)`/g), (match) => match[1])
      if (copied.some((code) => /(^|[^\w@/.-])pnpm (?=\S)/.test(code))) {
        problems.push(`${page}:${i + 1}: bare \`pnpm\`: write \`npx -y pnpm@${pnpmVersion} …\`\n    ${line.trim()}`)
      }
      for (const match of line.matchAll(/\bpnpm@([\w.-]+)/g)) {
        if (match[1] !== pnpmVersion) {
          problems.push(`${page}:${i + 1}: pnpm@${match[1]}, but the workspace uses pnpm@${pnpmVersion}`)
        }
      }
    })
  }
  return problems
}
const badPnpm = pnpmProblems()
if (badPnpm.length > 0) {
  fail(`a fresh machine has Node and npm, not pnpm: run it through npx\n${badPnpm.join("\n")}`)
}

/** Whether a snippet is the Effect 4 edition's: its page is an effect4 package's, or it imports one. */
const isEffect4 = (page, code) => page.startsWith("packages/effect4-") || /from "@sfox-effect\/effect4-/.test(code)

const editions = [
  { name: "Effect 3", out, tsconfig: "tsconfig.base.json", where: new Map() },
  {
    name: "Effect 4",
    out: Path.join(root, "test-effect4", "build", "readme-snippets"),
    tsconfig: "tsconfig.effect4.json",
    where: new Map()
  }
]
for (const edition of editions) {
  Fs.rmSync(edition.out, { recursive: true, force: true })
  Fs.mkdirSync(edition.out, { recursive: true })
}
const fragments = []
for (const page of pages) {
  for (const block of blocksOf(page)) {
    const [language, ...flags] = block.info.split(/\s+/)
    if (language !== "ts" && language !== "typescript") continue
    if (flags.includes("no-check")) {
      fragments.push(`${page}:${block.line}`)
      continue
    }
    const edition = editions[isEffect4(page, block.code) ? 1 : 0]
    const name = `${page.replace(/[/.]/g, "_")}_L${block.line}.ts`
    Fs.writeFileSync(Path.join(edition.out, name), `// ${page}:${block.line}\n${block.code}\nexport {}\n`)
    edition.where.set(name, `${page}:${block.line}`)
  }
}
for (const edition of editions) {
  Fs.writeFileSync(
    Path.join(edition.out, "tsconfig.json"),
    JSON.stringify(
      {
        extends: Path.relative(edition.out, Path.join(root, edition.tsconfig)),
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
  if (edition.where.size === 0) continue
  const result = spawnSync(process.execPath, [tsc, "-p", Path.join(edition.out, "tsconfig.json")], {
    encoding: "utf8",
    timeout: 180_000
  })
  if (result.status !== 0) {
    // The generated module has one line (the comment) above the snippet.
    const output = `${result.stdout}${result.stderr}${result.error ?? ""}`.replace(
      /^(?:.*[/\\])?([\w.-]+_L(\d+)\.ts)\((\d+),(\d+)\)/gm,
      (match, name, start, line) =>
        `${match}  [${edition.where.get(name)?.replace(/:\d+$/, "")}:${Number(start) + Number(line) - 2}]`
    )
    fail(`a snippet (${edition.name}) does not compile:\n${output}`)
  }
}
const fragmentNote = fragments.length === 0 ? "" : ` (${fragments.length} marked no-check: ${fragments.join(", ")})`
const counts = editions.map((edition) => `${edition.where.size} ${edition.name}`).join(", ")
console.log(`snippets: ${counts} TypeScript snippet(s) of ${pages.join(", ")} type-check${fragmentNote}`)
