// The shape of the runtime code, as the functional-core issue measures it: the longest functions of
// packages/*/src (a function whose body is one wrapped function, `make = () => Effect.gen(function*() {…})`,
// counted once), and in runtime code (src, tests and testing helpers aside) the mutable `let`s, `unsafe*` calls,
// raw timers and `runFork`/`runSync`/`runPromise` calls, and the lines of each package's public modules.
//
//   node scripts/shape.mjs               prints the report
//   node scripts/shape.mjs --max 60      also exits 1 when a function is over 60 lines
import { execFileSync } from "node:child_process"
import * as fs from "node:fs"
import * as path from "node:path"
import ts from "typescript"

const args = process.argv.slice(2)
const maxAt = args.indexOf("--max")
const max = maxAt >= 0 ? Number(args[maxAt + 1]) : undefined

const files = execFileSync("git", ["ls-files", "packages/*/src/*.ts", "packages/*/src/**/*.ts"], { encoding: "utf8" })
  .split("\n")
  .filter((file) => file.endsWith(".ts") && fs.existsSync(file))

const functionsOf = (file, source) => {
  const found = []
  const visit = (node, owner) => {
    let name = owner
    if (
      ts.isVariableDeclaration(node) && node.initializer &&
      (ts.isArrowFunction(node.initializer) || ts.isFunctionExpression(node.initializer))
    ) name = node.name.getText(source)
    if (
      ts.isFunctionDeclaration(node) || ts.isArrowFunction(node) || ts.isFunctionExpression(node) ||
      ts.isMethodDeclaration(node)
    ) {
      const first = source.getLineAndCharacterOfPosition(node.getStart(source)).line
      const last = source.getLineAndCharacterOfPosition(node.getEnd()).line
      const own = node.name && ts.isIdentifier(node.name) ? node.name.text : undefined
      found.push({ lines: last - first + 1, file, line: first + 1, name: own ?? name ?? "(anonymous)" })
    }
    ts.forEachChild(node, (child) => visit(child, name))
  }
  visit(source, undefined)
  return found
}

// A wrapping function and the one it wraps are one function: keep the outer.
const outermost = (found) => {
  const kept = []
  for (const fn of [...found].sort((a, b) => b.lines - a.lines)) {
    const wrapped = kept.some((k) => k.file === fn.file && Math.abs(k.line - fn.line) <= 8 && k.lines - fn.lines <= 12)
    if (!wrapped) kept.push(fn)
  }
  return kept
}

const counts = { let: 0, unsafe: 0, timers: 0, run: 0 }
const countIn = (text) => {
  counts.let += (text.match(/(^|[^\w.])let\s/gm) ?? []).length
  counts.unsafe += (text.match(/\.unsafe[A-Z]\w*\(|\bunsafe[A-Z]\w*\(/g) ?? []).length
  counts.timers += (text.match(/\b(setTimeout|setInterval|setImmediate)\(/g) ?? []).length
  counts.run += (text.match(/\b(runFork|runSync|runPromise|runCallback)\b/g) ?? []).length
}

const functions = []
const publicLines = new Map()
for (const file of files) {
  const text = fs.readFileSync(file, "utf8")
  for (const fn of functionsOf(file, ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true))) functions.push(fn)
  const inInternal = file.includes("/internal/")
  const testing = /\/(testing|FakeSfox|SfoxSimulator|MockSfoxServer|Simulation[A-Z]\w*)\.ts$/.test(file) ||
    file.includes("/simulator/")
  if (!testing) countIn(text)
  if (!inInternal) {
    const pkg = file.split("/")[1]
    publicLines.set(pkg, (publicLines.get(pkg) ?? 0) + text.split("\n").length)
  }
}

const kept = outermost(functions)
console.log("Longest functions in packages/*/src:")
for (const fn of kept.slice(0, 10)) console.log(`${String(fn.lines).padStart(5)}  ${fn.name}  ${fn.file}:${fn.line}`)
const over = max === undefined ? [] : kept.filter((fn) => fn.lines > max)
if (max !== undefined) console.log(`functions over ${max} lines: ${over.length} (of ${kept.length})`)
console.log(
  `runtime code (testing aside): ${counts.let} let, ${counts.unsafe} unsafe* calls, ${counts.timers} raw timers, ` +
    `${counts.run} run* calls`
)
console.log(
  "lines of public modules: " +
    Array.from(publicLines, ([pkg, lines]) => `${pkg} ${lines}`).join(", ")
)
console.log(`(${files.length} files; ${path.basename(process.cwd())})`)
process.exit(over.length > 0 ? 1 : 0)
