#!/usr/bin/env node
/**
 * `pnpm run docs`: API docs for every package, with type-checked examples.
 *
 * 1. Every ```ts block in a JSDoc comment of packages/<pkg>/src is written to
 *    packages/<pkg>/build/examples and type-checked with tsc against the
 *    sources (`tsconfig.base.json`'s paths). @effect/docgen checks examples
 *    too, but not those on classes (`UserTokenService`, `FakeSfox`,
 *    `MockSfoxServer`, ...), which are the ones readers copy first.
 * 2. @effect/docgen runs for each package (packages/<pkg>/docgen.json): it
 *    fails on an export without `@since` or a description, type-checks and
 *    runs the examples it knows, and writes markdown.
 * 3. The markdown is gathered in docs/api/<pkg>, with docs/api/README.md as
 *    the index: docs/api/ is generated and gitignored; the pages beside it
 *    (docs/reliability.md, docs/performance.md) are written by hand and
 *    committed, and this script never touches them.
 */
import { spawnSync } from "node:child_process"
import * as Fs from "node:fs"
import { createRequire } from "node:module"
import * as Path from "node:path"
import { fileURLToPath } from "node:url"

const root = Path.resolve(Path.dirname(fileURLToPath(import.meta.url)), "..")
const require = createRequire(Path.join(root, "package.json"))
const tsc = require.resolve("typescript/bin/tsc")
const packages = ["core", "node", "redis", "cli"].map((dir) => {
  const path = Path.join(root, "packages", dir)
  return { dir, path, name: JSON.parse(Fs.readFileSync(Path.join(path, "package.json"), "utf8")).name }
})
// docgen runs `tsc` and `tsx` from PATH.
const env = { ...process.env, PATH: `${Path.join(root, "node_modules", ".bin")}${Path.delimiter}${process.env.PATH}` }

const fail = (message) => {
  console.error(`docs: ${message}`)
  process.exit(1)
}

const sourceFiles = (dir) =>
  Fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = Path.join(dir, entry.name)
    return entry.isDirectory() ? sourceFiles(path) : entry.name.endsWith(".ts") ? [path] : []
  })

/** Every ```ts block inside a JSDoc comment, with the source line it starts on. */
const examplesOf = (file) => {
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
    if (open !== undefined) fail(`${Path.relative(root, file)}:${firstLine + open}: an example is never closed`)
  }
  return examples
}

const checkExamples = (pkg) => {
  const out = Path.join(pkg.path, "build", "examples")
  Fs.rmSync(out, { recursive: true, force: true })
  Fs.mkdirSync(out, { recursive: true })
  const where = new Map()
  for (const file of sourceFiles(Path.join(pkg.path, "src"))) {
    for (const example of examplesOf(file)) {
      const source = `${Path.relative(root, file)}:${example.line}`
      const name = `${Path.relative(Path.join(pkg.path, "src"), file).replace(/[/.]/g, "_")}_L${example.line}.ts`
      // `export {}` keeps every example a module of its own.
      Fs.writeFileSync(Path.join(out, name), `// ${source}\n${example.code}\nexport {}\n`)
      where.set(name, source)
    }
  }
  Fs.writeFileSync(
    Path.join(out, "tsconfig.json"),
    JSON.stringify(
      {
        extends: Path.relative(out, Path.join(root, "tsconfig.base.json")),
        compilerOptions: { noEmit: true, noUnusedLocals: false, types: ["node"] },
        include: ["*.ts"]
      },
      null,
      2
    )
  )
  if (where.size === 0) return 0
  const result = spawnSync(process.execPath, [tsc, "-p", Path.join(out, "tsconfig.json")], {
    encoding: "utf8",
    timeout: 180_000
  })
  if (result.status !== 0) {
    const output = `${result.stdout}${result.stderr}`.replace(
      /^(?:.*[/\\])?([\w.-]+_L\d+\.ts)\((\d+),(\d+)\)/gm,
      (match, name, line) => `${match}  [example at ${where.get(name)}, its line ${Number(line) - 1}]`
    )
    fail(`an example in ${pkg.name} does not compile:\n${output}`)
  }
  return where.size
}

const started = Date.now()
for (const pkg of packages) {
  console.log(`docs: ${pkg.name}: ${checkExamples(pkg)} example(s) type-check`)
}

/**
 * docgen reads its options from docgen.json and the package's name and
 * `homepage` from package.json in its working directory, and wants a
 * homepage we do not have. So it runs in packages/<pkg>/build/docgen: a
 * package.json of its own, the package's docgen.json with `paths` from our
 * package names to their sources, and `src` linked to the package's.
 */
const runDocgen = (pkg) => {
  const stage = Path.join(pkg.path, "build", "docgen")
  Fs.rmSync(stage, { recursive: true, force: true })
  Fs.mkdirSync(stage, { recursive: true })
  Fs.symlinkSync(Path.join(pkg.path, "src"), Path.join(stage, "src"), "dir")
  Fs.writeFileSync(Path.join(stage, "package.json"), JSON.stringify({ name: pkg.name, homepage: "../README.md" }))
  const config = JSON.parse(Fs.readFileSync(Path.join(pkg.path, "docgen.json"), "utf8"))
  delete config.$schema
  const paths = Object.fromEntries(
    packages.flatMap((other) =>
      other === pkg ? [] : [
        [other.name, [Path.join(other.path, "src", "index.ts")]],
        [`${other.name}/*`, [Path.join(other.path, "src", "*.ts")]]
      ]
    )
  )
  config.examplesCompilerOptions = { ...config.examplesCompilerOptions, paths }
  Fs.writeFileSync(Path.join(stage, "docgen.json"), JSON.stringify(config, null, 2))
  const result = spawnSync(process.execPath, [require.resolve("@effect/docgen/bin.cjs")], {
    cwd: stage,
    env,
    stdio: "inherit",
    timeout: 300_000
  })
  if (result.status !== 0) fail(`docgen failed for ${pkg.name} (${result.error ?? `exit ${result.status}`})`)
  const out = Path.join(stage, "docs")
  // docgen's markdown formatter turns the opening `---` of each module page's
  // front matter into `***`; put it back so that the pages render.
  for (const page of Fs.readdirSync(Path.join(out, "modules"))) {
    const file = Path.join(out, "modules", page)
    Fs.writeFileSync(file, Fs.readFileSync(file, "utf8").replace(/^\*\*\*\n+title:/, "---\ntitle:"))
  }
  return out
}

const target = Path.join(root, "docs", "api")
Fs.rmSync(target, { recursive: true, force: true })
for (const pkg of packages) {
  const out = runDocgen(pkg)
  Fs.mkdirSync(target, { recursive: true })
  Fs.renameSync(out, Path.join(target, pkg.dir))
}

const index = packages.map((pkg) => {
  const modules = Fs.readdirSync(Path.join(target, pkg.dir, "modules"))
    .filter((page) => page.endsWith(".ts.md"))
    .sort()
    .map((page) => `  - [${page.replace(/\.md$/, "")}](${pkg.dir}/modules/${page})`)
  return `- \`${pkg.name}\`\n${modules.join("\n")}`
})
Fs.writeFileSync(
  Path.join(target, "README.md"),
  `# sfox-effect API docs\n\nGenerated by \`pnpm run docs\`; do not edit.\n\n${index.join("\n")}\n`
)
console.log(`docs: written to docs/api/ in ${((Date.now() - started) / 1000).toFixed(1)} s`)
