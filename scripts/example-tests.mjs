#!/usr/bin/env node
/**
 * Every example that shows a test runs as a test.
 *
 * A reader pastes a test example into `it.effect`, where `TestClock` is the
 * clock: an example that waits on the clock without moving it hangs there
 * and nowhere else. So each one is turned into a vitest file:
 *
 * - every ```ts block of the "Testing" section of the root README and of a
 *   package README that has one, and
 * - every ```ts example in a JSDoc comment of packages/<pkg>/src that imports
 *   `@sfox-effect/core/testing` or `@sfox-effect/node/testing` and declares a
 *   top-level `const program`.
 *
 * A block that calls `@effect/vitest`'s `it.effect` (or `it.*`, `layer`) is a
 * test file already and is taken as it is. Any other is wrapped: its code, then
 * `it.effect("<where>", () => program)`. A README Testing block that is
 * neither is refused: the section shows tests only.
 *
 * `node scripts/example-tests.mjs [dir]` writes them to `dir` (default
 * test/build/example-tests: `pnpm test` writes them, then vitest runs them
 * with the rest of test/, whose package provides `effect`; build/ is
 * gitignored);
 * scripts/pack-test.mjs imports `exampleTests` and runs the same files in a
 * fresh project against the packed tarballs.
 */
import * as Fs from "node:fs"
import * as Path from "node:path"
import { fileURLToPath } from "node:url"

const defaultRoot = Path.resolve(Path.dirname(fileURLToPath(import.meta.url)), "..")

/** Every ```ts block inside a JSDoc comment of a file, with the line its code starts on. */
export const jsdocExamples = (file) => {
  const text = Fs.readFileSync(file, "utf8")
  const examples = []
  for (const comment of text.matchAll(/\/\*\*[\s\S]*?\*\//g)) {
    const firstLine = text.slice(0, comment.index).split("\n").length
    const lines = comment[0].split("\n").map((line) => line.replace(/^\s*\/?\*\*? ?/, ""))
    let open
    lines.forEach((line, i) => {
      if (open === undefined && /^```(ts|typescript)\s*$/.test(line.trim())) open = i
      else if (open !== undefined && line.trim() === "```") {
        examples.push({ line: firstLine + open, code: lines.slice(open + 1, i).join("\n") })
        open = undefined
      }
    })
    if (open !== undefined) throw new Error(`${file}:${firstLine + open}: an example is never closed`)
  }
  return examples
}

/** The ```ts blocks of a `## heading` section of a markdown page, with the line each one's code starts on. */
export const sectionBlocks = (page, heading) => {
  const lines = Fs.readFileSync(page, "utf8").split("\n")
  const start = lines.findIndex((line) => line.trim() === `## ${heading}`)
  if (start < 0) throw new Error(`${page} has no "## ${heading}" section`)
  const blocks = []
  let open
  for (let i = start + 1; i < lines.length && (open !== undefined || !/^## /.test(lines[i])); i++) {
    const fence = /^```(\S*)/.exec(lines[i])
    if (fence === null) continue
    if (open === undefined) open = { language: fence[1], start: i + 1 }
    else {
      if (open.language === "ts" || open.language === "typescript") {
        blocks.push({ line: open.start + 1, code: lines.slice(open.start, i).join("\n") })
      }
      open = undefined
    }
  }
  return blocks
}

/**
 * Each edition's packages: the Effect 4 edition's examples (its JSDoc, and the
 * Testing sections of its packages' READMEs) import `@sfox-effect/effect4-*`
 * and run under vitest 5 on Node 24 (test-effect4/build/example-tests).
 */
const editions = {
  effect3: {
    packageDirs: ["domain", "core", "node", "redis", "cli"],
    rootReadme: true,
    dir: Path.join("test", "build", "example-tests")
  },
  effect4: {
    packageDirs: ["effect4-core", "effect4-node", "effect4-redis"],
    rootReadme: false,
    dir: Path.join("test-effect4", "build", "example-tests")
  }
}

const sourceFiles = (dir) =>
  Fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = Path.join(dir, entry.name)
    return entry.isDirectory() ? sourceFiles(path) : entry.name.endsWith(".ts") ? [path] : []
  })

// A test file of its own: it registers its tests with @effect/vitest's `it` or `layer`.
const isTestFile = (code) => /^import\b[^\n]*from "@effect\/vitest"/m.test(code) && /^\s*(it\.\w+|layer)\(/m.test(code)
const declaresProgram = (code) => /^(export )?const program\b/m.test(code)
const usesTheFakes = (code) =>
  /^import\b[^\n]*from "@sfox-effect\/(core|node|effect4-core|effect4-node)\/testing"/m.test(code)

/** The vitest file for one example: as it is, or wrapped in `it.effect`. */
const testFile = (source, code) =>
  isTestFile(code)
    ? `// ${source}\n${code}\n`
    : `// ${source}: the example, run as a reader runs it, inside it.effect (TestClock)\n` +
      `import { it as exampleIt } from "@effect/vitest"\n${code}\n\n` +
      `exampleIt.effect(${JSON.stringify(source)}, () => program)\n`

/**
 * The test examples of the README's Testing section and of the packages' JSDoc,
 * each as `{ source, file, code }`: where it is, a file name, the vitest file.
 */
export const exampleTests = (root = defaultRoot, edition = "effect3") => {
  const { packageDirs, rootReadme } = editions[edition]
  const tests = []
  const add = (source, code) =>
    tests.push({ source, file: `${source.replace(/[/.:]/g, "_")}.test.ts`, code: testFile(source, code) })
  // The root README has a Testing section; a package README may.
  const readmes = [...(rootReadme ? ["README.md"] : []), ...packageDirs.map((dir) => `packages/${dir}/README.md`)]
    .filter((page) => page === "README.md" || /^## Testing\s*$/m.test(Fs.readFileSync(Path.join(root, page), "utf8")))
  const blocks = readmes.flatMap((page) =>
    sectionBlocks(Path.join(root, page), "Testing").map((block) => ({ ...block, page }))
  )
  for (const block of blocks) {
    const source = `${block.page}:${block.line}`
    if (!isTestFile(block.code) && !declaresProgram(block.code)) {
      throw new Error(`${source}: a block of the Testing section is not a test (no it.effect, no \`program\`)`)
    }
    add(source, block.code)
  }
  for (const dir of packageDirs) {
    const src = Path.join(root, "packages", dir, "src")
    for (const file of sourceFiles(src).sort()) {
      for (const example of jsdocExamples(file)) {
        if (isTestFile(example.code) || (usesTheFakes(example.code) && declaresProgram(example.code))) {
          add(`${Path.relative(root, file)}:${example.line}`, example.code)
        }
      }
    }
  }
  return tests
}

/** Writes the example tests to `dir`, emptied first. */
export const writeExampleTests = (dir, root = defaultRoot, edition = "effect3") => {
  const tests = exampleTests(root, edition)
  Fs.rmSync(dir, { recursive: true, force: true })
  Fs.mkdirSync(dir, { recursive: true })
  for (const test of tests) Fs.writeFileSync(Path.join(dir, test.file), test.code)
  return tests
}

if (process.argv[1] !== undefined && Path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  // `node scripts/example-tests.mjs [dir]` writes the 3.x line's to dir; with no dir, both editions' to their own.
  const targets = process.argv[2] !== undefined
    ? [["effect3", Path.resolve(process.argv[2])]]
    : Object.entries(editions).map(([edition, { dir }]) => [edition, Path.join(defaultRoot, dir)])
  try {
    for (const [edition, dir] of targets) {
      const tests = writeExampleTests(dir, defaultRoot, edition)
      console.log(`example tests (${edition}): ${tests.length} written to ${Path.relative(process.cwd(), dir) || "."}`)
      for (const test of tests) console.log(`  ${test.source}`)
    }
  } catch (error) {
    console.error(`example tests: ${error instanceof Error ? error.message : error}`)
    process.exit(1)
  }
}
