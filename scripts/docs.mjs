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
 * 3. docgen leaves out static properties of classes (`UserTokenService.layer`,
 *    `FakeSfox.layerTest`, `MockSfoxServer.make`, ...: it documents static
 *    methods only), and those are the entry points of most programs. Each
 *    one is read from its class's source and written into the class's page
 *    as docgen writes a static method; one without a description, `@since`
 *    or an example fails the run.
 * 4. Every public item must have an example: exports, statics and the
 *    members of exported namespaces. Class instance members (methods,
 *    properties) are shown by their class's example, and `export * from`
 *    entries by the module they point to; `exempt` below names what is let
 *    through for now. The counts per package are printed.
 * 5. The markdown is written into each package, where its tarball carries
 *    it (package.json's `files`): packages/<pkg>/API.md, the index, and
 *    packages/<pkg>/api/<Module>.md, one page per module, front matter and
 *    site markup left out so that they read as plain markdown anywhere,
 *    node_modules included. They are committed: CI (.ci/run) runs this
 *    script and fails when they differ from what it writes, so a JSDoc
 *    change ships with its pages, and packing needs no 4-minute docgen run.
 *
 * Both editions are documented this way: the 3.x line (core, node, redis,
 * cli, against effect 3) and the Effect 4 edition (effect4-core,
 * effect4-node, effect4-redis, against effect 4: the `effect` of their own
 * node_modules, the paths of tsconfig.effect4.json): see `editions` (the
 * Node docgen runs on) and `runDocgen` (how docgen resolves `effect`).
 */
import { spawnSync } from "node:child_process"
import * as Fs from "node:fs"
import { createRequire } from "node:module"
import * as Path from "node:path"
import { fileURLToPath } from "node:url"
import { jsdocExamples } from "./example-tests.mjs"
import { node24 } from "./node24.mjs"

const root = Path.resolve(Path.dirname(fileURLToPath(import.meta.url)), "..")
const require = createRequire(Path.join(root, "package.json"))
const tsc = require.resolve("typescript/bin/tsc")
const ts = require("typescript")
const packageAt = (dir) => {
  const path = Path.join(root, "packages", dir)
  return { dir, path, name: JSON.parse(Fs.readFileSync(Path.join(path, "package.json"), "utf8")).name }
}
// docgen runs `tsc` and `tsx` from PATH.
const env = { ...process.env, PATH: `${Path.join(root, "node_modules", ".bin")}${Path.delimiter}${process.env.PATH}` }

/**
 * An edition: its packages (the paths its examples resolve each other's
 * sources by), the tsconfig its examples are type-checked with, and the Node
 * docgen runs on: the tsx it runs the examples with is the edition's Node,
 * Node 24 for the Effect 4 edition (`node24`), the one its packages are for
 * (`engines`; effect4-node's undici 8) and its tests run on.
 */
const editions = [
  {
    tsconfig: "tsconfig.base.json",
    packages: ["domain", "core", "node", "redis", "cli"].map(packageAt),
    node: () => process.execPath
  },
  {
    tsconfig: "tsconfig.effect4.json",
    packages: ["domain", "effect4-core", "effect4-node", "effect4-redis"].map(packageAt),
    node: node24
  }
]
for (const edition of editions) {
  for (const pkg of edition.packages) pkg.edition = edition
}
// @sfox-effect/domain is not an API of its own (users install core, which
// depends on it; its README says so): its JSDoc examples are type-checked
// like every package's (once: they import no edition), but docgen writes no
// pages for it, and its items need no example. It stays among each edition's
// `packages` for the paths docgen's examples resolve the other packages'
// sources by.
const checked = editions.flatMap((edition, i) => edition.packages.filter((pkg) => i === 0 || pkg.dir !== "domain"))
const documented = editions.flatMap((edition) => edition.packages.filter((pkg) => pkg.dir !== "domain"))

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
  try {
    return jsdocExamples(file)
  } catch (error) {
    return fail(error instanceof Error ? error.message : String(error))
  }
}

const checkExamples = (pkg) => {
  const out = Path.join(pkg.path, "build", "examples")
  Fs.rmSync(out, { recursive: true, force: true })
  Fs.mkdirSync(out, { recursive: true })
  const where = new Map()
  for (const file of sourceFiles(Path.join(pkg.path, "src"))) {
    for (const example of examplesOf(file)) {
      const source = `${Path.relative(root, file)}:${example.line}`
      // Readers copy examples: one that needs `any` to compile teaches the wrong thing.
      if (/(?::|\bas|<|\|)\s*any\b/.test(example.code)) fail(`${source}: an example uses \`any\``)
      const name = `${Path.relative(Path.join(pkg.path, "src"), file).replace(/[/.]/g, "_")}_L${example.line}.ts`
      // `export {}` keeps every example a module of its own.
      Fs.writeFileSync(Path.join(out, name), `// ${source}\n${example.code}\nexport {}\n`)
      where.set(name, source)
    }
  }
  // tsc refuses a project with no file (the domain has no example yet).
  if (where.size === 0) return 0
  Fs.writeFileSync(
    Path.join(out, "tsconfig.json"),
    JSON.stringify(
      {
        extends: Path.relative(out, Path.join(root, pkg.edition.tsconfig)),
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
for (const pkg of checked) {
  console.log(`docs: ${pkg.name}: ${checkExamples(pkg)} example(s) type-check`)
}

/**
 * docgen reads its options from docgen.json and the package's name and
 * `homepage` from package.json in its working directory, and wants a
 * homepage we do not have. So it runs in packages/<pkg>/build/docgen: a
 * package.json of its own, the package's docgen.json with `paths` from our
 * package names to their sources, and `src` linked to the package's.
 *
 * docgen parses the sources (ts-morph) with compiler options of its own,
 * `moduleResolution: "node"` unless docgen.json's `parseCompilerOptions` says
 * otherwise, and prints the type the checker infers for an export declared
 * without one (`productionUrl`). That resolution reads no package.json
 * `exports`: our packages' types would come from their dist (`any` when it is
 * stale or not built), and effect 4, which declares its types in `exports`
 * only (effect 3 also has `types` and `typesVersions`), would resolve past
 * the package's own effect 4 to the workspace root's effect 3, and
 * `effect/http/*` to nothing. So the sources are parsed as the examples are
 * compiled (`moduleResolution: "Bundler"`, the `paths`), but for `noEmit`.
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
    pkg.edition.packages.flatMap((other) =>
      other === pkg ? [] : [
        [other.name, [Path.join(other.path, "src", "index.ts")]],
        [`${other.name}/*`, [Path.join(other.path, "src", "*.ts")]]
      ]
    )
  )
  config.examplesCompilerOptions = { ...config.examplesCompilerOptions, paths }
  const { noEmit: _, ...options } = config.examplesCompilerOptions
  config.parseCompilerOptions = { ...options, ...config.parseCompilerOptions }
  Fs.writeFileSync(Path.join(stage, "docgen.json"), JSON.stringify(config, null, 2))
  const node = pkg.edition.node()
  const result = spawnSync(node, [require.resolve("@effect/docgen/bin.cjs")], {
    cwd: stage,
    // tsc and tsx (`#!/usr/bin/env node`) run on the edition's Node.
    env: node === process.execPath ? env : { ...env, PATH: `${Path.dirname(node)}${Path.delimiter}${env.PATH}` },
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

/**
 * Items that may lack an example for now, by page and heading, each with the
 * reason. Keep it short: every entry is a hole in the docs.
 */
const exempt = new Map([])

/** The JSDoc of a node: its text (description) and tags, or undefined. */
const jsDocOf = (node, text) => {
  const ranges = ts.getLeadingCommentRanges(text, node.getFullStart()) ?? []
  const last = ranges.filter((r) => text.slice(r.pos, r.pos + 3) === "/**").at(-1)
  if (last === undefined) return undefined
  const lines = text.slice(last.pos + 3, last.end - 2).split("\n").map((line) => line.replace(/^\s*\* ?/, ""))
  const tagAt = lines.findIndex((line) => /^@\w/.test(line.trim()))
  const description = (tagAt === -1 ? lines : lines.slice(0, tagAt)).join("\n").trim()
  const tags = []
  for (const line of tagAt === -1 ? [] : lines.slice(tagAt)) {
    const m = /^@(\w+)\s*(.*)$/.exec(line.trim())
    if (m) tags.push({ name: m[1], lines: [m[2]] })
    else tags.at(-1).lines.push(line)
  }
  const tag = (name) => tags.filter((t) => t.name === name).map((t) => t.lines.join("\n").trim())
  return { description, since: tag("since")[0], examples: tag("example"), internal: tag("internal").length > 0 }
}

/** The signature of a static property, as it would be declared. */
const staticSignature = (member, text) => {
  const name = member.name.getText()
  // One line, as docgen prints the signatures it writes itself.
  const declared = (type) =>
    `static readonly ${name}: ${type.replace(/\s*\n\s*/g, " ").replace(/\( /g, "(").replace(/ \)/g, ")")}`
  if (member.type !== undefined) return declared(member.type.getText())
  const init = member.initializer
  if (init !== undefined && (ts.isArrowFunction(init) || ts.isFunctionExpression(init)) && init.type !== undefined) {
    const params = init.parameters.map((p) =>
      `${p.name.getText()}${p.questionToken || p.initializer ? "?" : ""}: ${p.type?.getText() ?? "unknown"}`
    )
    return declared(`(${params.join(", ")}) => ${init.type.getText()}`)
  }
  return fail(`${text}: static ${name} needs a declared type (or a return type) to be documented`)
}

/** Every static property of every exported class of a source file. */
const staticsOf = (file) => {
  const text = Fs.readFileSync(file, "utf8")
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true)
  const found = []
  for (const statement of source.statements) {
    if (!ts.isClassDeclaration(statement) || statement.name === undefined) continue
    if (!statement.modifiers?.some((m) => m.kind === ts.SyntaxKind.ExportKeyword)) continue
    for (const member of statement.members) {
      if (!ts.isPropertyDeclaration(member)) continue
      if (!member.modifiers?.some((m) => m.kind === ts.SyntaxKind.StaticKeyword)) continue
      if (member.modifiers.some((m) => m.kind === ts.SyntaxKind.PrivateKeyword)) continue
      const where = `${Path.relative(root, file)}:${source.getLineAndCharacterOfPosition(member.getStart()).line + 1}`
      const doc = jsDocOf(member, text)
      if (doc?.internal) continue
      const name = `${statement.name.text}.${member.name.getText()}`
      if (doc === undefined || doc.description === "") fail(`${where}: static ${name} has no description`)
      if (doc.since === undefined) fail(`${where}: static ${name} has no @since`)
      found.push({
        className: statement.name.text,
        name: member.name.getText(),
        doc,
        signature: staticSignature(member, where)
      })
    }
  }
  return found
}

/** Writes each static into its class's section of the page, as docgen writes a static method. */
const addStatics = (pkg, out) => {
  let count = 0
  for (const page of Fs.readdirSync(Path.join(out, "modules")).filter((page) => page.endsWith(".ts.md"))) {
    const file = Path.join(pkg.path, "src", page.replace(/\.md$/, ""))
    if (!Fs.existsSync(file)) continue
    const statics = staticsOf(file)
    if (statics.length === 0) continue
    const path = Path.join(out, "modules", page)
    const lines = Fs.readFileSync(path, "utf8").split("\n")
    for (const className of new Set(statics.map((s) => s.className))) {
      const at = lines.indexOf(`## ${className} (class)`)
      if (at === -1) fail(`${pkg.dir}/${page}: the class ${className} has statics but no section`)
      // Its own text runs to the next heading (outside code blocks).
      let end = at + 1
      for (let fence = false; end < lines.length; end++) {
        if (/^(```|~~~)/.test(lines[end])) fence = !fence
        else if (!fence && /^#{1,3} /.test(lines[end])) break
      }
      const entries = statics.filter((s) => s.className === className).flatMap((s) => [
        `### ${s.name} (static method)`,
        "",
        s.doc.description,
        "",
        "**Signature**",
        "",
        "```ts",
        s.signature,
        "```",
        "",
        ...s.doc.examples.flatMap((example) => ["**Example**", "", example, ""]),
        `Added in v${s.doc.since}`,
        ""
      ])
      lines.splice(end, 0, ...entries)
      count += statics.filter((s) => s.className === className).length
    }
    Fs.writeFileSync(path, lines.join("\n"))
  }
  return count
}

/**
 * The items of a package's pages: every `##`/`###` heading but the
 * overview, whether an example follows it before the next heading, and
 * whether it must have one.
 */
const itemsOf = (pkg, out) =>
  Fs.readdirSync(Path.join(out, "modules")).filter((page) => page.endsWith(".ts.md")).flatMap((page) => {
    const items = []
    let fence = false
    for (const line of Fs.readFileSync(Path.join(out, "modules", page), "utf8").split("\n")) {
      if (/^(```|~~~)/.test(line)) fence = !fence
      if (fence) continue
      const heading = /^(#{1,4}) (.*)$/.exec(line)
      if (heading !== null) {
        // docgen files an export without @category under "utils".
        if (heading[1] === "#" && heading[2] === "utils") fail(`${pkg.dir}/${page}: an export has no @category`)
        if (heading[1].length >= 2 && !heading[2].endsWith(" overview")) {
          items.push({ page, title: heading[2], example: false })
        } else items.push({ page, title: undefined, example: false })
      } else if (line.trim() === "**Example**" && items.length > 0) items.at(-1).example = true
    }
    return items.filter((item) => item.title !== undefined).map((item) => ({
      ...item,
      required: !/^From "/.test(item.title) && !/ \((method|property)\)$/.test(item.title)
    }))
  })

/** A docgen page as plain markdown: a title instead of the front matter, the site's HTML out. */
const plainPage = (pkg, module, text) => {
  const body = text.replace(/^---\n[\s\S]*?\n---\n+/, "")
    .replace(/^<h2 class="text-delta">Table of contents<\/h2>$/m, "**Contents**")
  const entry = module === "index" ? pkg.name : module === "testing" ? `${pkg.name}/testing` : undefined
  const title = entry === undefined ? `# ${module} (${pkg.name})` : `# ${module}: \`${entry}\``
  return `${title}\n\nPart of [the API reference of ${pkg.name}](../API.md). Generated from the JSDoc; do not edit.\n\n${body}`
}

/** The first paragraph of a page's overview, on one line. */
const overviewOf = (text) => {
  const lines = text.split("\n")
  const at = lines.findIndex((line) => / overview$/.test(line))
  if (at === -1) return ""
  const paragraph = []
  for (const line of lines.slice(at + 2)) {
    if (line.trim() === "") break
    paragraph.push(line.trim())
  }
  return paragraph.join(" ").replace(/\|/g, "\\|")
}

/** packages/<pkg>/API.md and packages/<pkg>/api/: what the package's tarball carries. */
const writePackageApi = (pkg, modulesDir) => {
  const dir = Path.join(pkg.path, "api")
  Fs.rmSync(dir, { recursive: true, force: true })
  Fs.mkdirSync(dir, { recursive: true })
  const modules = Fs.readdirSync(modulesDir).filter((page) => page.endsWith(".ts.md"))
    .map((page) => page.replace(/\.ts\.md$/, ""))
    // The entry points first, then the modules they export.
    .sort((a, b) =>
      Number(b === "index") - Number(a === "index") || Number(b === "testing") - Number(a === "testing") ||
      a.localeCompare(b)
    )
  const rows = modules.map((module) => {
    const text = Fs.readFileSync(Path.join(modulesDir, `${module}.ts.md`), "utf8")
    Fs.writeFileSync(Path.join(dir, `${module}.md`), plainPage(pkg, module, text))
    const entry = module === "index" ? ` (\`${pkg.name}\`)` : module === "testing" ? ` (\`${pkg.name}/testing\`)` : ""
    return `| [${module}](api/${module}.md)${entry} | ${overviewOf(text)} |`
  })
  Fs.writeFileSync(
    Path.join(pkg.path, "API.md"),
    `# ${pkg.name}: API reference\n\n` +
      `Every export of the package, one page per module, generated from the JSDoc of its sources (do not edit): ` +
      `signatures, options, errors and examples. Every example type-checks, and the examples that show a test run as ` +
      `tests. The guide is [README.md](README.md).\n\n| module | what it holds |\n| --- | --- |\n${rows.join("\n")}\n`
  )
  return modules.length
}

const summary = []
const holes = []
for (const pkg of documented) {
  const out = runDocgen(pkg)
  const statics = addStatics(pkg, out)
  const items = itemsOf(pkg, out)
  const missing = items.filter((item) => item.required && !item.example)
  const held = missing.filter((item) => exempt.has(`${pkg.dir}/${item.page}`))
  summary.push(
    `docs: ${pkg.name}: ${items.length} documented item(s) (${statics} static(s) among them), ` +
      `${items.filter((item) => item.example).length} with an example; ` +
      `${items.filter((item) => item.required).length} must have one, ${missing.length} lack it` +
      (held.length > 0
        ? ` (${held.length} exempt: ${
          [...new Set(held.map((item) => exempt.get(`${pkg.dir}/${item.page}`)))].join("; ")
        })`
        : "")
  )
  for (const item of missing) {
    if (!exempt.has(`${pkg.dir}/${item.page}`)) holes.push(`  ${pkg.dir}/modules/${item.page}: ${item.title}`)
  }
  summary.push(`docs: ${pkg.name}: ${writePackageApi(pkg, Path.join(out, "modules"))} page(s) in ${pkg.dir}/api/`)
}

for (const line of summary) console.log(line)
if (holes.length > 0) fail(`${holes.length} item(s) have no example:\n${holes.join("\n")}`)
console.log(
  `docs: written to packages/<pkg>/API.md and packages/<pkg>/api/ in ${((Date.now() - started) / 1000).toFixed(1)} s`
)
