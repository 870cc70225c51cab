#!/usr/bin/env node
/**
 * `pnpm test:pack`: proves the built packages install and run outside the
 * workspace, as a user would get them from the registry.
 *
 * 1. `pnpm pack` the four packages (run `pnpm build` first: the packed `dist`
 *    is what is tested, and a `dist` older than `src` is refused).
 * 2. In a fresh project under the OS temp directory, `npm install` the
 *    tarballs with the peer dependencies (`effect`, `@effect/platform`,
 *    `@effect/platform-node`, at the versions the workspace is tested with)
 *    from the npm registry.
 * 3. Runs one program as ES module (`.mjs`) and one as CommonJS (`.cjs`):
 *    each starts `MockSfoxServer` (`@sfox-effect/node/testing`), mints
 *    through `UserTokenService` over `NodeSfox.httpClient` (one scripted 503
 *    retried, one batch), mints with `FakeSfox` from
 *    `@sfox-effect/core/testing`, gets `RateLimiterUnavailable` from a
 *    `RedisRateLimiter` with no Redis behind it (ioredis comes from the
 *    registry as the package's dependency), loads `Cli` from
 *    `@sfox-effect/cli`, and checks it loaded the build of its own module
 *    format.
 * 4. Type-checks an ESM (`.mts`) and a CommonJS (`.cts`) consumer with
 *    `module: nodenext` against the installed declarations.
 * 5. Runs the installed `sfox-tokens create --mock` (the bin of
 *    `@sfox-effect/cli`), plain and `--json`, and `sfox-tokens --version`.
 * 6. In a second fresh project, installs with the README's own install line
 *    (the first `npm i` line of its "Install" section, read at run time, our
 *    package names replaced by their tarballs and the rest resolved from the
 *    registry as the README's ranges say), checks that neither the CLI's
 *    packages nor `@effect/platform-node` came with it, mints one token
 *    against `MockSfoxServer` from there, and runs the README's quick-start
 *    program itself (its first ```ts block, transpiled) against a
 *    `MockSfoxServer`, through `SFOX_ENTERPRISE_API_KEY` and `SFOX_BASE_URL`.
 *    Then, in that same project, the README's test line (the `npm i -D` line
 *    of its "Testing" section, as written: vitest and @effect/vitest from the
 *    registry), and vitest runs the example tests (scripts/example-tests.mjs:
 *    the Testing snippets of the READMEs and the JSDoc's test examples) against
 *    the installed tarballs, as a reader pastes them; tsc type-checks them.
 * 7. Every other `npm i` line of the README's Install section (the CLI's) in
 *    a fresh project of its own, then `sfox-tokens create --mock u1` from it.
 *
 * Before installing, every tarball must hold README.md (naming one of the
 * README's install lines and linking API.md), API.md with its pages under
 * api/, and LICENSE (the root's); every relative link of every markdown
 * file in a tarball must reach a file of that tarball (and a heading of it,
 * for a `#fragment`). While the manifests have no `repository`, `homepage`
 * and `bugs` (no public URL is known yet), it warns: fill them in every
 * packages/<pkg>/package.json once there is one.
 *
 * Needs network access to the npm registry. Every step has a time limit; the
 * temporary project is removed at the end (`PACK_TEST_KEEP=1` keeps it).
 */
import { spawnSync } from "node:child_process"
import * as Fs from "node:fs"
import { createRequire } from "node:module"
import * as Os from "node:os"
import * as Path from "node:path"
import { fileURLToPath } from "node:url"
import { exampleTests } from "./example-tests.mjs"

const root = Path.resolve(Path.dirname(fileURLToPath(import.meta.url)), "..")
const require = createRequire(Path.join(root, "package.json"))
// The domain first: core's tarball depends on it, so every install takes it too.
const packages = ["domain", "core", "node", "redis", "cli"].map((dir) => {
  const path = Path.join(root, "packages", dir)
  return { dir, path, manifest: JSON.parse(Fs.readFileSync(Path.join(path, "package.json"), "utf8")) }
})
const started = Date.now()
const seconds = (since) => `${((Date.now() - since) / 1000).toFixed(1)} s`

class StepError extends Error {}

const fail = (message) => {
  throw new StepError(message)
}

/** The versions the workspace resolves, so the tarballs meet what the tests ran against. */
const workspaceVersion = (name) => {
  // The cli package has every peer of the others among its own.
  const cliPackage = createRequire(Path.join(root, "packages", "cli", "package.json"))
  return JSON.parse(Fs.readFileSync(cliPackage.resolve(`${name}/package.json`), "utf8")).version
}

// pnpm's own settings reach child processes as npm_config_*; npm would read
// them as its own (and warn about most). Keep only the ones about the network.
const kept = /^npm_config_(registry|cache|proxy|https_proxy|noproxy|strict_ssl|cafile|userconfig)$/i
const childEnv = Object.fromEntries(
  Object.entries(process.env).filter(([name]) => !/^(npm|pnpm)_/i.test(name) || kept.test(name))
)

const run = (label, command, args, { allowFailure = false, cwd, env = {}, timeoutSeconds }) => {
  const start = Date.now()
  const result = spawnSync(command, args, {
    cwd,
    env: { ...childEnv, NO_COLOR: "1", ...env },
    encoding: "utf8",
    timeout: timeoutSeconds * 1000,
    killSignal: "SIGKILL",
    maxBuffer: 64 * 1024 * 1024
  })
  const output = `${result.stdout ?? ""}${result.stderr ?? ""}`.trim()
  if (result.error?.code === "ETIMEDOUT") {
    fail(`${label}: no result within ${timeoutSeconds} s\n${output}`)
  }
  if (result.error) fail(`${label}: could not run ${command}: ${result.error.message}`)
  if (result.status !== 0 && !allowFailure) {
    fail(`${label}: \`${command} ${args.join(" ")}\` exited with ${result.status ?? result.signal}\n${output}`)
  }
  console.log(`  ✓ ${label.padEnd(44)} ${seconds(start).padStart(7)}`)
  return result
}

/** A `## Heading` section of the root README, up to the next `## `. */
const readmeSection = (heading) => {
  const readme = Fs.readFileSync(Path.join(root, "README.md"), "utf8")
  const start = readme.search(new RegExp(`^## ${heading}\\s*$`, "m"))
  if (start < 0) fail(`README.md has no "## ${heading}" section`)
  const rest = readme.slice(start + 3)
  const end = rest.search(/^## /m)
  return end < 0 ? rest : rest.slice(0, end)
}

/** The code of each fenced block of a README section whose info string starts with `language`. */
const blocksIn = (section, language) =>
  [...section.matchAll(/^```(\w+)[^\n]*\n([\s\S]*?)^```\s*$/gm)]
    .filter((match) => match[1] === language)
    .map((match) => match[2])

/** Every `npm i …` line of a README section's sh blocks (comments dropped). */
const npmLinesOf = (heading) => {
  const lines = blocksIn(readmeSection(heading), "sh").flatMap((block) =>
    block.split("\n").map((line) => line.replace(/\s#.*$/, "").trim()).filter((line) => /^npm (i|install) /.test(line))
  )
  if (lines.length === 0) fail(`README.md's ${heading} section has no \`npm i\` line`)
  return lines
}

/** Whether an install line is the Effect 4 edition's (scripts/pack-test-effect4.mjs proves those). */
export const isEffect4Line = (line) => /@sfox-effect\/effect4-|@effect\/vitest@\^4|(^|\s)effect@\^4/.test(line)

/** Every `npm i …` line of the README's Install section for the 3.x line: the first is the library's. */
const readmeInstallLines = () => npmLinesOf("Install").filter((line) => !isEffect4Line(line))

/** The README's install line as npm arguments: our packages (and theirs) as tarballs, the rest as written. */
const installArguments = (line, tarballs) => {
  const words = line.split(/\s+/).slice(2)
  const ours = new Set()
  const add = (name) => {
    const index = packages.findIndex((pkg) => pkg.manifest.name === name)
    if (index < 0) fail(`the README installs ${name}, which is not a package of this workspace`)
    if (ours.has(index)) return
    ours.add(index)
    for (const dependency of Object.keys(packages[index].manifest.dependencies ?? {})) {
      if (dependency.startsWith("@sfox-effect/")) add(dependency)
    }
  }
  const others = words.filter((word) => {
    if (!word.startsWith("@sfox-effect/")) return true
    add(word)
    return false
  })
  return [...[...ours].sort().map((index) => tarballs[index]), ...others]
}

const tarEntries = (tarball) =>
  spawnSync("tar", ["-tzf", tarball], { encoding: "utf8" }).stdout.split("\n").filter((line) => line !== "")

const tarFile = (tarball, entry) => spawnSync("tar", ["-xzOf", tarball, entry], { encoding: "utf8" }).stdout

/**
 * @sfox-effect/domain is installed only as core's dependency, never by a
 * user's install line, and has no API reference of its own (scripts/docs.mjs
 * writes none: it is not an API); its README says so. Its tarball is checked
 * for a README, the LICENSE and links that lead somewhere, not for an
 * install line or API.md.
 */
const internalOnly = new Set(["@sfox-effect/domain"])

/** Each tarball holds a README naming one of the README's install lines, and the root's LICENSE. */
const checkTarballContents = (tarballs) => {
  const license = Fs.readFileSync(Path.join(root, "LICENSE"), "utf8")
  const installLines = readmeInstallLines()
  packages.forEach((pkg, i) => {
    const entries = new Set(tarEntries(tarballs[i]))
    for (const file of ["package/README.md", "package/LICENSE"]) {
      if (!entries.has(file)) fail(`the ${pkg.manifest.name} tarball has no ${file.slice("package/".length)}`)
    }
    if (tarFile(tarballs[i], "package/LICENSE") !== license) fail(`${pkg.manifest.name}'s LICENSE is not the root's`)
    const readme = tarFile(tarballs[i], "package/README.md")
    if (internalOnly.has(pkg.manifest.name)) {
      checkLinks(pkg.manifest.name, tarballs[i], entries)
      return
    }
    if (!installLines.some((line) => readme.includes(line))) {
      fail(`${pkg.manifest.name}'s README.md holds none of the README's install lines:\n${installLines.join("\n")}`)
    }
    checkApiReference(pkg, tarballs[i], entries, readme)
  })
  console.log(`  ✓ ${"every tarball: README.md, API.md, LICENSE".padEnd(44)}`)
  const missing = ["repository", "homepage", "bugs"].filter((field) =>
    packages.some((pkg) => pkg.manifest[field] === undefined)
  )
  if (missing.length > 0) {
    console.log(
      `  ! the manifests have no ${missing.join(", ")}: no public URL is known yet; add them to every ` +
        `packages/<pkg>/package.json once there is one (see ARCHITECTURE.md, "Publishing")`
    )
  }
}

/** GitHub's anchors for the headings of a markdown page (outside code blocks). */
const anchorsOf = (text) => {
  const anchors = new Set()
  const seen = new Map()
  let fence = false
  for (const line of text.split("\n")) {
    if (/^(```|~~~)/.test(line)) fence = !fence
    const heading = fence ? null : /^#{1,6} (.*)$/.exec(line)
    if (heading === null) continue
    const slug = heading[1].trim().toLowerCase().replace(/[^\p{L}\p{N}\s_-]/gu, "").replace(/\s/g, "-")
    const count = seen.get(slug) ?? 0
    seen.set(slug, count + 1)
    anchors.add(count === 0 ? slug : `${slug}-${count}`)
  }
  return anchors
}

/** Every `[text](target)` of a page whose target is not a URL, with the line it is on (code blocks left out). */
const relativeLinksOf = (text) => {
  const links = []
  let fence = false
  text.split("\n").forEach((line, i) => {
    if (/^(```|~~~)/.test(line)) fence = !fence
    if (fence) return
    for (const match of line.replace(/`[^`]*`/g, "").matchAll(/\]\(([^)\s]+)\)/g)) {
      if (!/^[a-z][a-z0-9+.-]*:/i.test(match[1])) links.push({ target: match[1], line: i + 1 })
    }
  })
  return links
}

/**
 * The API reference a user reads in node_modules: API.md, linked from the
 * README, with its pages under api/; every relative link of every markdown
 * file of the tarball reaches a file of the tarball, and a heading of it.
 */
const checkApiReference = (pkg, tarball, entries, readme) => {
  const name = pkg.manifest.name
  if (!entries.has("package/API.md")) fail(`the ${name} tarball has no API.md`)
  if (![...entries].some((entry) => /^package\/api\/[^/]+\.md$/.test(entry))) {
    fail(`the ${name} tarball has no API pages (api/*.md)`)
  }
  if (!relativeLinksOf(readme).some((link) => link.target.split("#")[0] === "API.md")) {
    fail(`${name}'s README.md does not link API.md`)
  }
  checkLinks(name, tarball, entries)
}

/** Every relative link of every markdown file of the tarball reaches a file of the tarball, and a heading of it. */
const checkLinks = (name, tarball, entries) => {
  const pages = new Map(
    [...entries].filter((entry) => entry.endsWith(".md")).map((entry) => [entry, tarFile(tarball, entry)])
  )
  const broken = []
  for (const [page, text] of pages) {
    for (const link of relativeLinksOf(text)) {
      const [path, fragment] = link.target.split("#")
      const target = path === "" ? page : Path.posix.normalize(Path.posix.join(Path.posix.dirname(page), path))
      const where = `${page.slice("package/".length)}:${link.line}: ${link.target}`
      if (!entries.has(target)) broken.push(`${where} (no such file in the tarball)`)
      else if (fragment !== undefined && pages.has(target) && !anchorsOf(pages.get(target)).has(fragment)) {
        broken.push(`${where} (no such heading)`)
      }
    }
  }
  if (broken.length > 0) fail(`${name}: links that lead nowhere in the tarball:\n${broken.join("\n")}`)
}

const newestMtime = (dir) => {
  let newest = 0
  for (const entry of Fs.readdirSync(dir, { withFileTypes: true })) {
    const path = Path.join(dir, entry.name)
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(path) : Fs.statSync(path).mtimeMs)
  }
  return newest
}

const checkBuilt = () => {
  for (const pkg of packages) {
    const marker = Path.join(pkg.path, "dist", "cjs", "package.json")
    if (!Fs.existsSync(marker)) fail(`${pkg.manifest.name} is not built: run \`pnpm build\` first`)
    if (newestMtime(Path.join(pkg.path, "src")) > Fs.statSync(marker).mtimeMs) {
      fail(`${pkg.manifest.name}: dist is older than src: run \`pnpm build\` first`)
    }
  }
}

const esmProgram = `
import * as assert from "node:assert/strict"
import { UserAuthToken, UserTokenService } from "@sfox-effect/core"
import { FakeSfox, Fault } from "@sfox-effect/core/testing"
import { NodeSfox } from "@sfox-effect/node"
import { MockSfoxServer } from "@sfox-effect/node/testing"
import { RedisRateLimiter } from "@sfox-effect/redis"
import { Cli } from "@sfox-effect/cli"
import { Effect, Layer, Redacted } from "effect"

const format = "esm"
const resolved = [
  import.meta.resolve("@sfox-effect/core"),
  import.meta.resolve("@sfox-effect/core/testing"),
  import.meta.resolve("@sfox-effect/node"),
  import.meta.resolve("@sfox-effect/node/testing"),
  import.meta.resolve("@sfox-effect/redis"),
  import.meta.resolve("@sfox-effect/cli")
]
${"__BODY__"}
`

const cjsProgram = `
"use strict"
const assert = require("node:assert/strict")
const { UserAuthToken, UserTokenService } = require("@sfox-effect/core")
const { FakeSfox, Fault } = require("@sfox-effect/core/testing")
const { NodeSfox } = require("@sfox-effect/node")
const { MockSfoxServer } = require("@sfox-effect/node/testing")
const { RedisRateLimiter } = require("@sfox-effect/redis")
const { Cli } = require("@sfox-effect/cli")
const { Effect, Layer, Redacted } = require("effect")

const format = "cjs"
const resolved = [
  require.resolve("@sfox-effect/core"),
  require.resolve("@sfox-effect/core/testing"),
  require.resolve("@sfox-effect/node"),
  require.resolve("@sfox-effect/node/testing"),
  require.resolve("@sfox-effect/redis"),
  require.resolve("@sfox-effect/cli")
]
${"__BODY__"}
`

// The part both programs share: plain JavaScript, no import syntax.
const programBody = `
const apiKey = "pack-test-key"

const Tokens = Layer.unwrapEffect(
  Effect.map(MockSfoxServer, (server) => UserTokenService.layer({ apiKey: Redacted.make(apiKey), baseUrl: server.url }))
).pipe(Layer.provide(NodeSfox.httpClient), Layer.provideMerge(MockSfoxServer.layer({ apiKey })))

const overHttp = Effect.gen(function*() {
  const server = yield* MockSfoxServer
  const tokens = yield* UserTokenService
  yield* server.enqueue(Fault.status(503))
  const one = yield* tokens.create("u1")
  const many = yield* tokens.createMany(["u2", "u3", "u2"])
  const invalid = yield* Effect.flip(tokens.create(""))
  const statuses = (yield* server.requests).map((request) => request.status)
  return { one, many, invalid, statuses }
}).pipe(Effect.provide(Tokens))

const inMemory = Effect.gen(function*() {
  const tokens = yield* UserTokenService
  return yield* tokens.create("u4")
}).pipe(Effect.provide(FakeSfox.layerTest()))

// Port 1 on loopback: nothing listens, the connection is refused at once.
const redisDown = Effect.scoped(Effect.flatMap(
  RedisRateLimiter.make({ url: "redis://127.0.0.1:1", limit: 1, interval: "1 second", connectTimeout: "200 millis" }),
  (limiter) => Effect.flip(limiter.withTurn(Effect.void, { maxWaitMillis: 1000, onLate: () => "late" }))
))

Effect.runPromise(Effect.all([overHttp, inMemory, redisDown])).then(([http, fake, down]) => {
  const dir = "/dist/" + format + "/"
  for (const file of resolved) assert.ok(String(file).includes(dir), \`\${file} is not the \${format} build\`)
  assert.ok(http.one instanceof UserAuthToken)
  assert.equal(http.one.userId, "u1")
  assert.match(Redacted.value(http.one.token), /^[0-9a-f]{64}$/)
  assert.deepEqual(http.many.map((token) => token.userId), ["u2", "u3"])
  assert.equal(http.invalid._tag, "InvalidUserId")
  assert.deepEqual(http.statuses, [503, 201, 201])
  assert.equal(fake.userId, "u4")
  assert.equal(down._tag, "RateLimiterUnavailable")
  assert.equal(Cli.ExitCode.RateLimiterUnavailable, 11)
  console.log(JSON.stringify({ format, minted: 4, statuses: http.statuses }))
}).catch((error) => {
  console.error(error)
  process.exit(1)
})
`

const typedConsumer = `
import { SfoxRateLimiter, type UserAuthToken, type UserTokenError, UserTokenService } from "@sfox-effect/core"
import { FakeSfox, Fault, SfoxSimulator } from "@sfox-effect/core/testing"
import { Cli } from "@sfox-effect/cli"
import { NodeSfox } from "@sfox-effect/node"
import { MockSfoxServer, type MockSfoxServerService } from "@sfox-effect/node/testing"
import { RedisRateLimiter } from "@sfox-effect/redis"
import { ConfigError, Effect, Layer, Redacted } from "effect"

const Tokens: Layer.Layer<UserTokenService | MockSfoxServer, ConfigError.ConfigError> = Layer.unwrapEffect(
  Effect.map(MockSfoxServer, (server) => UserTokenService.layer({ apiKey: server.apiKey, baseUrl: server.url }))
).pipe(Layer.provide(NodeSfox.httpClient), Layer.provideMerge(MockSfoxServer.layer({ apiKey: "key" })))

export const overHttp: Effect.Effect<UserAuthToken, UserTokenError | ConfigError.ConfigError> = Effect.gen(function*() {
  const server: MockSfoxServerService = yield* MockSfoxServer
  yield* server.enqueue([Fault.status(503)])
  const requests: ReadonlyArray<SfoxSimulator.RecordedRequest> = yield* server.requests
  const tokens = yield* UserTokenService
  return requests.length === 0 ? yield* tokens.create("u1") : yield* tokens.get("u1")
}).pipe(Effect.provide(Tokens))

export const inMemory = Effect.flatMap(UserTokenService, (tokens) => tokens.createMany(["u1"])).pipe(
  Effect.provide(FakeSfox.layerTest({}, { maxBatchSize: 10 })),
  Effect.catchTag("EmptyBatch", () => Effect.succeed([]))
)

export const explicit = UserTokenService.layer({ apiKey: Redacted.make("key") }).pipe(
  Layer.provide(NodeSfox.httpClientWith({ connectTimeout: "1 second" }))
)
export const exitCode: Cli.ExitCode = Cli.ExitCode.Ok
export const shared: Layer.Layer<SfoxRateLimiter, ConfigError.ConfigError> = RedisRateLimiter.layer({
  url: Redacted.make("redis://127.0.0.1:6379"),
  limit: 250,
  interval: "10 seconds",
  prefix: "egress-1:"
})
export const inProcess: Layer.Layer<SfoxRateLimiter, ConfigError.ConfigError> = SfoxRateLimiter.layer({
  limit: 250,
  interval: "10 seconds"
})
`

// The runtime alone: what a program using NodeSfox gets when it installs @sfox-effect/node.
const runtimeProgram = `
import * as assert from "node:assert/strict"
import { UserTokenService } from "@sfox-effect/core"
import { NodeSfox } from "@sfox-effect/node"
import { MockSfoxServer } from "@sfox-effect/node/testing"
import { Effect, Redacted } from "effect"

const program = Effect.gen(function*() {
  const server = yield* MockSfoxServer.make({ apiKey: "runtime-only-key" })
  const tokens = yield* UserTokenService.make({ apiKey: Redacted.make("runtime-only-key"), baseUrl: server.url })
  return yield* tokens.create("u1")
}).pipe(Effect.scoped, Effect.provide(NodeSfox.httpClient))

Effect.runPromise(program).then((token) => {
  assert.equal(token.userId, "u1")
  console.log(JSON.stringify({ minted: token.userId }))
}).catch((error) => {
  console.error(error)
  process.exit(1)
})
`

/** Packages the CLI brings, and @effect/platform-node with its cluster, rpc, sql and workflow. */
const notInRuntime = [
  "@sfox-effect/cli",
  "@effect/cli",
  "@effect/printer",
  "@effect/printer-ansi",
  "@effect/platform-node",
  "@effect/platform-node-shared",
  "@effect/cluster",
  "@effect/rpc",
  "@effect/sql",
  "@effect/workflow"
]

const directorySize = (dir) =>
  Fs.readdirSync(dir, { withFileTypes: true }).reduce((sum, entry) => {
    const path = Path.join(dir, entry.name)
    return sum + (entry.isDirectory() ? directorySize(path) : entry.isFile() ? Fs.statSync(path).size : 0)
  }, 0)

/** Packages installed under a node_modules, nested ones included. */
const installedPackages = (modules) =>
  Fs.existsSync(modules)
    ? Fs.readdirSync(modules, { withFileTypes: true }).reduce((count, entry) => {
      if (!entry.isDirectory() || entry.name.startsWith(".")) return count
      const path = Path.join(modules, entry.name)
      if (entry.name.startsWith("@")) return count + installedPackages(path)
      return count + 1 + installedPackages(Path.join(path, "node_modules"))
    }, 0)
    : 0

const runtimeOnly = (work, tarballs) => {
  const project = Path.join(work, "runtime-only")
  Fs.mkdirSync(project)
  Fs.writeFileSync(
    Path.join(project, "package.json"),
    JSON.stringify({ name: "sfox-effect-runtime-only", version: "0.0.0", private: true }, null, 2)
  )
  const line = readmeInstallLines()[0]
  console.log(`      README: ${line}`)
  run(
    "npm install (the README's install line)",
    "npm",
    ["install", "--no-audit", "--no-fund", "--ignore-scripts", ...installArguments(line, tarballs)],
    { cwd: project, timeoutSeconds: 300 }
  )
  const resolved = ["effect", "@effect/platform"].map((name) =>
    `${name}@${JSON.parse(Fs.readFileSync(Path.join(project, "node_modules", name, "package.json"), "utf8")).version}`
  )
  console.log(`      npm resolved ${resolved.join(", ")}`)
  const modules = Path.join(project, "node_modules")
  const present = notInRuntime.filter((name) => Fs.existsSync(Path.join(modules, name)))
  if (present.length > 0) fail(`installing @sfox-effect/node alone brought ${present.join(", ")}`)
  console.log(
    `      ${installedPackages(modules)} packages, ${(directorySize(modules) / 1e6).toFixed(1)} MB in node_modules`
  )
  Fs.writeFileSync(Path.join(project, "program.mjs"), runtimeProgram)
  const result = run("node program.mjs (runtime only)", process.execPath, ["program.mjs"], {
    cwd: project,
    timeoutSeconds: 60
  })
  console.log(`      ${result.stdout.trim().split("\n").at(-1)}`)
  quickStart(project)
  exampleTestsIn(project, tarballs)
}

/**
 * The README's test line in the project the app line made, then the example
 * tests (the READMEs' Testing snippets, the JSDoc's test examples) run by the
 * vitest it installed, against the installed tarballs.
 */
const exampleTestsIn = (project, tarballs) => {
  for (const line of npmLinesOf("Testing").filter((line) => !isEffect4Line(line))) {
    console.log(`      README: ${line}`)
    const words = line.split(/\s+/).slice(2)
    const args = words.some((word) => word.startsWith("@sfox-effect/"))
      ? installArguments(`npm i ${words.filter((word) => word !== "-D").join(" ")}`, tarballs)
      : words.filter((word) => word !== "-D")
    run(
      "npm install -D (the README's test line)",
      "npm",
      ["install", "-D", "--no-audit", "--no-fund", "--ignore-scripts", ...args],
      { cwd: project, timeoutSeconds: 300 }
    )
  }
  const tests = exampleTests(root)
  const dir = Path.join(project, "example-tests")
  Fs.mkdirSync(dir)
  for (const test of tests) Fs.writeFileSync(Path.join(dir, test.file), test.code)
  const vitest = Path.join(project, "node_modules", ".bin", "vitest")
  if (!Fs.existsSync(vitest)) fail("the README's test line installed no vitest")
  const result = run(`vitest: ${tests.length} example tests`, vitest, [
    "run",
    "example-tests",
    "--testTimeout",
    "60000"
  ], {
    cwd: project,
    timeoutSeconds: 300
  })
  const summary = /Tests\s+(\d+) passed/.exec(result.stdout)
  if (summary === null) fail(`vitest printed no "Tests N passed" line:\n${result.stdout}`)
  console.log(`      ${summary[1]} tests passed, from ${tests.map((test) => test.source).join(", ")}`)
  // vitest does not type-check: tsc does, as an editor would, against the installed declarations.
  Fs.writeFileSync(
    Path.join(dir, "tsconfig.json"),
    JSON.stringify({
      compilerOptions: {
        module: "preserve",
        moduleResolution: "bundler",
        target: "es2022",
        strict: true,
        exactOptionalPropertyTypes: true,
        noEmit: true,
        skipLibCheck: true,
        types: []
      },
      include: ["*.ts"]
    })
  )
  run("tsc: the example tests", process.execPath, [require.resolve("typescript/bin/tsc"), "-p", dir], {
    cwd: project,
    timeoutSeconds: 120
  })
}

/**
 * The README's quick-start program (the first ```ts block of its "Quick
 * start" section), transpiled as it is, run in its own process with the key
 * and base URL of a `MockSfoxServer` in its environment.
 */
const quickStartRunner = `
import * as assert from "node:assert/strict"
import { execFile } from "node:child_process"
import { MockSfoxServer } from "@sfox-effect/node/testing"
import { Effect } from "effect"

const apiKey = "quick-start-key"
const program = Effect.scoped(Effect.gen(function*() {
  const server = yield* MockSfoxServer.make({ apiKey })
  const env = { ...process.env, SFOX_ENTERPRISE_API_KEY: apiKey, SFOX_BASE_URL: server.url, NO_PROXY: "127.0.0.1,localhost", no_proxy: "127.0.0.1,localhost" }
  delete env.ENTERPRISE_API_KEY
  const run = yield* Effect.promise(() => new Promise((resolve) =>
    execFile(process.execPath, ["quick-start.mjs"], { env, timeout: 30_000 }, (error, stdout, stderr) =>
      resolve({ error, stdout, stderr }))
  ))
  return { ...run, requests: yield* server.requests }
}))

Effect.runPromise(program).then(({ error, stdout, stderr, requests }) => {
  if (error) {
    console.error(\`the quick start failed (\${error.code ?? error.signal}):\n\${stdout}\${stderr}\`)
    process.exit(1)
  }
  assert.equal(requests.length, 1, "one request")
  assert.equal(requests[0].authorization, "valid")
  assert.equal(requests[0].status, 201)
  console.log(stdout.trim())
}).catch((error) => {
  console.error(error)
  process.exit(1)
})
`

const quickStart = (project) => {
  const source = blocksIn(readmeSection("Quick start"), "ts")[0]
  if (source === undefined) fail("README.md's Quick start section has no ```ts block")
  const ts = require("typescript")
  const { outputText } = ts.transpileModule(source, {
    compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 }
  })
  Fs.writeFileSync(Path.join(project, "quick-start.mjs"), outputText)
  Fs.writeFileSync(Path.join(project, "run-quick-start.mjs"), quickStartRunner)
  const result = run("the README's quick start (MockSfoxServer)", process.execPath, ["run-quick-start.mjs"], {
    cwd: project,
    timeoutSeconds: 60
  })
  console.log(`      ${result.stdout.trim().split("\n").at(-1)}`)
}

/** The README's other install lines (the CLI's), each in a fresh project, each proven by the bin it installs. */
const otherInstallLines = (work, tarballs) => {
  readmeInstallLines().slice(1).forEach((line, i) => {
    const project = Path.join(work, `readme-install-${i + 2}`)
    Fs.mkdirSync(project)
    Fs.writeFileSync(
      Path.join(project, "package.json"),
      JSON.stringify({ name: `sfox-effect-readme-install-${i + 2}`, version: "0.0.0", private: true }, null, 2)
    )
    console.log(`      README: ${line}`)
    run(
      `npm install (the README's install line ${i + 2})`,
      "npm",
      ["install", "--no-audit", "--no-fund", "--ignore-scripts", ...installArguments(line, tarballs)],
      { cwd: project, timeoutSeconds: 300 }
    )
    const bin = Path.join(project, "node_modules", ".bin", "sfox-tokens")
    if (!Fs.existsSync(bin)) fail(`the README's install line ${i + 2} installed no sfox-tokens`)
    const result = run("sfox-tokens create --mock u1 (from it)", bin, ["create", "--mock", "u1"], {
      cwd: project,
      timeoutSeconds: 60
    })
    if (!/^u1 {2}\S+ {2}expires \d{4}-/m.test(result.stdout)) {
      fail(`sfox-tokens printed no token line:\n${result.stdout}`)
    }
  })
}

const main = () => {
  checkBuilt()
  const work = Fs.mkdtempSync(Path.join(Os.tmpdir(), "sfox-effect-pack-"))
  const cleanup = () => {
    if (process.env.PACK_TEST_KEEP === "1") console.log(`kept ${work}`)
    else Fs.rmSync(work, { recursive: true, force: true })
  }
  // A Ctrl-C or a CI kill still removes the temporary project.
  for (const signal of ["SIGINT", "SIGTERM"]) {
    process.once(signal, () => {
      cleanup()
      process.exit(130)
    })
  }
  try {
    console.log(`pack test in ${work}`)
    const tarballs = packages.map((pkg) => {
      const before = new Set(Fs.readdirSync(work))
      run(`pnpm pack ${pkg.manifest.name}`, "pnpm", ["pack", "--pack-destination", work], {
        cwd: pkg.path,
        timeoutSeconds: 120
      })
      const created = Fs.readdirSync(work).filter((file) => file.endsWith(".tgz") && !before.has(file))
      if (created.length !== 1) fail(`pnpm pack ${pkg.manifest.name}: expected one tarball, found ${created}`)
      return Path.join(work, created[0])
    })
    checkTarballContents(tarballs)

    const project = Path.join(work, "consumer")
    Fs.mkdirSync(project)
    // No "type": the .mjs and .cjs files say what they are; .mts and .cts too.
    Fs.writeFileSync(
      Path.join(project, "package.json"),
      JSON.stringify({ name: "sfox-effect-pack-test", version: "0.0.0", private: true }, null, 2)
    )
    const peers = ["effect", "@effect/platform", "@effect/platform-node", "@types/node"].map((name) =>
      `${name}@${name === "@types/node" ? require("@types/node/package.json").version : workspaceVersion(name)}`
    )
    run(
      `npm install (tarballs + ${peers.length} from npm)`,
      "npm",
      ["install", "--no-audit", "--no-fund", "--ignore-scripts", "--prefer-offline", ...tarballs, ...peers],
      { cwd: project, timeoutSeconds: 300 }
    )

    for (const pkg of packages) {
      const manifest = JSON.parse(
        Fs.readFileSync(Path.join(project, "node_modules", "@sfox-effect", pkg.dir, "package.json"), "utf8")
      )
      for (const [name, range] of Object.entries(manifest.dependencies ?? {})) {
        if (range.startsWith("workspace:")) fail(`the packed ${manifest.name} still depends on ${name}@${range}`)
      }
    }

    Fs.writeFileSync(Path.join(project, "program.mjs"), esmProgram.replace("__BODY__", programBody))
    Fs.writeFileSync(Path.join(project, "program.cjs"), cjsProgram.replace("__BODY__", programBody))
    for (const file of ["program.mjs", "program.cjs"]) {
      const result = run(`node ${file}`, process.execPath, [file], { cwd: project, timeoutSeconds: 60 })
      console.log(`      ${result.stdout.trim().split("\n").at(-1)}`)
    }

    Fs.writeFileSync(Path.join(project, "consumer.mts"), typedConsumer)
    Fs.writeFileSync(Path.join(project, "consumer.cts"), typedConsumer)
    Fs.writeFileSync(
      Path.join(project, "tsconfig.json"),
      JSON.stringify({
        compilerOptions: {
          module: "nodenext",
          moduleResolution: "nodenext",
          target: "es2022",
          strict: true,
          exactOptionalPropertyTypes: true,
          noEmit: true,
          skipLibCheck: true,
          types: ["node"]
        },
        files: ["consumer.mts", "consumer.cts"]
      })
    )
    run("tsc: .mts and .cts consumers (nodenext)", process.execPath, [require.resolve("typescript/bin/tsc")], {
      cwd: project,
      timeoutSeconds: 120
    })

    const bin = Path.join(project, "node_modules", ".bin", "sfox-tokens")
    if (!Fs.existsSync(bin)) fail("npm installed no sfox-tokens executable")
    const binTarget = Fs.realpathSync(bin)
    // The bin is the package's launcher (bin/), which loads its dist/esm/bin.js.
    if (!binTarget.includes(Path.join("@sfox-effect", "cli", "bin"))) {
      fail(`sfox-tokens is not @sfox-effect/cli's bin: ${binTarget}`)
    }
    const plain = run("sfox-tokens create --mock u1", bin, ["create", "--mock", "u1"], {
      cwd: project,
      timeoutSeconds: 60
    })
    if (!/^u1 {2}\S+ {2}expires \d{4}-/m.test(plain.stdout)) fail(`sfox-tokens printed no token line:\n${plain.stdout}`)
    const json = run("sfox-tokens create --mock --json u1 u2", bin, ["create", "--mock", "--json", "u1", "u2"], {
      cwd: project,
      timeoutSeconds: 60
    })
    const users = JSON.parse(json.stdout).data.map((row) => row.partner_user_id)
    if (users.join() !== "u1,u2") fail(`sfox-tokens --json: expected u1,u2, got ${users}`)
    const version = run("sfox-tokens --version", bin, ["--version"], { cwd: project, timeoutSeconds: 60 })
    const cliVersion = packages.find((pkg) => pkg.dir === "cli").manifest.version
    if (version.stdout.trim() !== cliVersion) {
      fail(`sfox-tokens --version: expected ${cliVersion}, got ${version.stdout}`)
    }

    runtimeOnly(work, tarballs)
    otherInstallLines(work, tarballs)

    console.log(`pack test passed in ${seconds(started)}`)
  } finally {
    cleanup()
  }
}

export {
  blocksIn,
  checkApiReference,
  checkLinks,
  childEnv,
  fail,
  newestMtime,
  npmLinesOf,
  readmeSection,
  run,
  seconds,
  StepError,
  tarEntries,
  tarFile
}

if (process.argv[1] && Path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    main()
  } catch (error) {
    console.error(`pack test failed after ${seconds(started)}: ${error instanceof StepError ? error.message : error}`)
    process.exit(1)
  }
}
