#!/usr/bin/env node
/**
 * `pnpm test:pack` (after scripts/pack-test.mjs): proves the Effect 4
 * edition's built packages install and run outside the workspace, under
 * Node 24 (scripts/node24.mjs) with this machine's own npm, as a user starting
 * an Effect 4 application today gets them.
 *
 * 1. `pnpm pack` @sfox-effect/domain and the three effect4 packages (built by
 *    `pnpm build`; a `dist` older than `src` is refused). Every tarball holds
 *    README.md and LICENSE, and every relative link of its markdown reaches a
 *    file of it; the effect4 ones also name the README's Effect 4 install line
 *    and carry their API reference (API.md, linked from the README, and api/*.md).
 * 2. In a fresh project, the README's Effect 4 install line (the line of its
 *    "Install" section that names `@sfox-effect/effect4-*`), our package names
 *    replaced by their tarballs and the rest resolved from the registry as
 *    the README's ranges say, installed by npm running on Node 24, then
 *    @sfox-effect/effect4-redis beside it (the README's "add it for a shared
 *    rate limit"). The `effect` they bring must be a 4.x.
 * 3. The README's Effect 4 quick start (the ```ts block of its "Quick start"
 *    section that imports `@sfox-effect/effect4-*`), transpiled as it is, run
 *    on Node 24 against the Effect 4 `MockSfoxServer`, through
 *    `SFOX_ENTERPRISE_API_KEY` and `SFOX_BASE_URL`.
 * 4. An ES module and a CommonJS program: a wrong key recovered with
 *    `Effect.catchTag("Unauthorized", …)`, `FakeSfox`, a `RedisRateLimiter`
 *    with no Redis behind it (`RateLimiterUnavailable`), and a batch; each
 *    checks it loaded the build of its own module format.
 * 5. tsc type-checks an `.mts` and a `.cts` consumer (`module: nodenext`)
 *    against the installed declarations.
 */
import * as Fs from "node:fs"
import { createRequire } from "node:module"
import * as Os from "node:os"
import * as Path from "node:path"
import { fileURLToPath } from "node:url"
import { node24 } from "./node24.mjs"
import {
  blocksIn,
  checkApiReference,
  checkLinks,
  fail,
  isEffect4Line,
  newestMtime,
  npmLinesOf,
  readmeSection,
  run,
  seconds,
  StepError,
  tarEntries,
  tarFile
} from "./pack-test.mjs"

const root = Path.resolve(Path.dirname(fileURLToPath(import.meta.url)), "..")
const require = createRequire(Path.join(root, "package.json"))
const started = Date.now()
const packages = ["domain", "effect4-core", "effect4-node", "effect4-redis"].map((dir) => {
  const path = Path.join(root, "packages", dir)
  return { dir, path, manifest: JSON.parse(Fs.readFileSync(Path.join(path, "package.json"), "utf8")) }
})

const checkBuilt = () => {
  for (const pkg of packages) {
    const marker = Path.join(pkg.path, "dist", "cjs", "package.json")
    if (!Fs.existsSync(marker)) fail(`${pkg.manifest.name} is not built: run \`pnpm build\` first`)
    if (newestMtime(Path.join(pkg.path, "src")) > Fs.statSync(marker).mtimeMs) {
      fail(`${pkg.manifest.name}: dist is older than src: run \`pnpm build\` first`)
    }
  }
}

/** The README's Effect 4 install line: the one line of its Install section naming an effect4 package. */
const effect4InstallLine = () => {
  const lines = npmLinesOf("Install").filter(isEffect4Line)
  if (lines.length !== 1) fail(`README.md's Install section should have one Effect 4 install line, has ${lines.length}`)
  return lines[0]
}

/** The install line as npm arguments: our packages (and theirs) as tarballs, the rest as written. */
const installArguments = (line, tarballs) => {
  const ours = new Set()
  const add = (name) => {
    const index = packages.findIndex((pkg) => pkg.manifest.name === name)
    if (index < 0) fail(`the README installs ${name}, which is not a package of the Effect 4 edition`)
    if (ours.has(index)) return
    ours.add(index)
    for (const dependency of Object.keys(packages[index].manifest.dependencies ?? {})) {
      if (dependency.startsWith("@sfox-effect/")) add(dependency)
    }
  }
  const others = line.split(/\s+/).slice(2).filter((word) => {
    if (!word.startsWith("@sfox-effect/")) return true
    add(word)
    return false
  })
  return [...[...ours].sort().map((index) => tarballs[index]), ...others]
}

const checkTarballContents = (tarballs, line) => {
  const license = Fs.readFileSync(Path.join(root, "LICENSE"), "utf8")
  packages.forEach((pkg, i) => {
    const entries = new Set(tarEntries(tarballs[i]))
    for (const file of ["package/README.md", "package/LICENSE"]) {
      if (!entries.has(file)) fail(`the ${pkg.manifest.name} tarball has no ${file.slice("package/".length)}`)
    }
    if (tarFile(tarballs[i], "package/LICENSE") !== license) fail(`${pkg.manifest.name}'s LICENSE is not the root's`)
    // @sfox-effect/domain has no API reference (scripts/docs.mjs writes none: it is not an API): links only.
    if (!pkg.dir.startsWith("effect4-")) {
      checkLinks(pkg.manifest.name, tarballs[i], entries)
      return
    }
    const readme = tarFile(tarballs[i], "package/README.md")
    if (!readme.includes(line)) {
      fail(`${pkg.manifest.name}'s README.md does not hold the README's Effect 4 install line:\n${line}`)
    }
    // API.md linked from the README, api/*.md, and every relative link of the tarball's markdown (checkLinks).
    checkApiReference(pkg, tarballs[i], entries, readme)
  })
  console.log(`  ✓ ${"every tarball: README.md, API.md, LICENSE, links".padEnd(44)}`)
}

const quickStartRunner = `
import * as assert from "node:assert/strict"
import { execFile } from "node:child_process"
import { MockSfoxServer } from "@sfox-effect/effect4-node/testing"
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
    console.error(\`the quick start failed (\${error.code ?? error.signal}):\\n\${stdout}\${stderr}\`)
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

// The part the ES module and the CommonJS program share: plain JavaScript, no import syntax.
const programBody = `
const apiKey = "pack-test-key"

const overHttp = Effect.scoped(Effect.gen(function*() {
  const server = yield* MockSfoxServer.make({ apiKey })
  const wrong = yield* UserTokenService.make({ apiKey: Redacted.make("not-the-key"), baseUrl: server.url })
  const caught = yield* wrong.create("u1").pipe(
    Effect.map(() => "minted with a wrong key"),
    Effect.catchTag("Unauthorized", (error) => Effect.succeed(\`caught \${error._tag}\`))
  )
  const tokens = yield* UserTokenService.make({ apiKey: Redacted.make(apiKey), baseUrl: server.url })
  const one = yield* tokens.create("u1")
  const many = yield* tokens.createMany(["u2", "u3", "u2"])
  const invalid = yield* Effect.flip(tokens.create(""))
  return { caught, one, many, invalid }
})).pipe(Effect.provide(NodeSfox.httpClient))

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
  assert.equal(http.caught, "caught Unauthorized")
  assert.ok(http.one instanceof UserAuthToken)
  assert.equal(http.one.userId, "u1")
  assert.match(Redacted.value(http.one.token), /^[0-9a-f]{64}$/)
  assert.deepEqual(http.many.map((token) => token.userId), ["u2", "u3"])
  assert.equal(http.invalid._tag, "InvalidUserId")
  assert.equal(fake.userId, "u4")
  assert.equal(down._tag, "RateLimiterUnavailable")
  console.log(JSON.stringify({ format, node: process.versions.node, caught: http.caught, minted: 4 }))
}).catch((error) => {
  console.error(error)
  process.exit(1)
})
`

const esmProgram = `
import * as assert from "node:assert/strict"
import { UserAuthToken, UserTokenService } from "@sfox-effect/effect4-core"
import { FakeSfox } from "@sfox-effect/effect4-core/testing"
import { NodeSfox } from "@sfox-effect/effect4-node"
import { MockSfoxServer } from "@sfox-effect/effect4-node/testing"
import { RedisRateLimiter } from "@sfox-effect/effect4-redis"
import { Effect, Redacted } from "effect"

const format = "esm"
const resolved = [
  import.meta.resolve("@sfox-effect/effect4-core"),
  import.meta.resolve("@sfox-effect/effect4-core/testing"),
  import.meta.resolve("@sfox-effect/effect4-node"),
  import.meta.resolve("@sfox-effect/effect4-node/testing"),
  import.meta.resolve("@sfox-effect/effect4-redis")
]
${programBody}
`

const cjsProgram = `
"use strict"
const assert = require("node:assert/strict")
const { UserAuthToken, UserTokenService } = require("@sfox-effect/effect4-core")
const { FakeSfox } = require("@sfox-effect/effect4-core/testing")
const { NodeSfox } = require("@sfox-effect/effect4-node")
const { MockSfoxServer } = require("@sfox-effect/effect4-node/testing")
const { RedisRateLimiter } = require("@sfox-effect/effect4-redis")
const { Effect, Redacted } = require("effect")

const format = "cjs"
const resolved = [
  require.resolve("@sfox-effect/effect4-core"),
  require.resolve("@sfox-effect/effect4-core/testing"),
  require.resolve("@sfox-effect/effect4-node"),
  require.resolve("@sfox-effect/effect4-node/testing"),
  require.resolve("@sfox-effect/effect4-redis")
]
${programBody}
`

const typedConsumer = `
import { SfoxRateLimiter, type UserAuthToken, type UserTokenError, UserTokenService } from "@sfox-effect/effect4-core"
import { FakeSfox, Fault } from "@sfox-effect/effect4-core/testing"
import { NodeSfox } from "@sfox-effect/effect4-node"
import { MockSfoxServer } from "@sfox-effect/effect4-node/testing"
import { RedisRateLimiter } from "@sfox-effect/effect4-redis"
import { type Config, Effect, Layer, Redacted } from "effect"

export const overHttp: Effect.Effect<UserAuthToken | string, UserTokenError | Config.ConfigError> = Effect.scoped(Effect.gen(function*() {
  const server = yield* MockSfoxServer.make({ apiKey: "key" })
  yield* server.enqueue([Fault.status(503)])
  const tokens = yield* UserTokenService.make({ apiKey: Redacted.make("key"), baseUrl: server.url })
  return yield* tokens.create("u1").pipe(Effect.catchTag("Unauthorized", (error) => Effect.succeed(error._tag)))
})).pipe(Effect.provide(NodeSfox.httpClient))

export const inMemory = Effect.gen(function*() {
  const tokens = yield* UserTokenService
  return yield* tokens.createMany(["u1"])
}).pipe(
  Effect.provide(FakeSfox.layerTest({}, { maxBatchSize: 10 })),
  Effect.catchTag("EmptyBatch", () => Effect.succeed([]))
)

export const explicit = UserTokenService.layer({ apiKey: Redacted.make("key") }).pipe(
  Layer.provide(NodeSfox.httpClientWith({ connectTimeout: "1 second" }))
)
export const shared = RedisRateLimiter.layer({
  url: Redacted.make("redis://127.0.0.1:6379"),
  limit: 250,
  interval: "10 seconds",
  prefix: "egress-1:"
})
export const inProcess = SfoxRateLimiter.layer({ limit: 250, interval: "10 seconds" })
`

const main = () => {
  checkBuilt()
  const node = node24()
  // npm's own launcher runs on whichever node comes first on PATH: Node 24's directory first.
  const env = { PATH: `${Path.dirname(node)}${Path.delimiter}${process.env.PATH}` }
  const work = Fs.mkdtempSync(Path.join(Os.tmpdir(), "sfox-effect4-pack-"))
  const cleanup = () => {
    if (process.env.PACK_TEST_KEEP === "1") console.log(`kept ${work}`)
    else Fs.rmSync(work, { recursive: true, force: true })
  }
  for (const signal of ["SIGINT", "SIGTERM"]) {
    process.once(signal, () => {
      cleanup()
      process.exit(130)
    })
  }
  try {
    console.log(`Effect 4 pack test in ${work} (Node ${
      run("node --version", node, ["--version"], {
        cwd: work,
        timeoutSeconds: 30
      }).stdout.trim()
    })`)
    const line = effect4InstallLine()
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
    checkTarballContents(tarballs, line)

    const project = Path.join(work, "effect4-consumer")
    Fs.mkdirSync(project)
    Fs.writeFileSync(
      Path.join(project, "package.json"),
      JSON.stringify({ name: "sfox-effect4-pack-test", version: "0.0.0", private: true }, null, 2)
    )
    console.log(`      README: ${line}`)
    run(
      "npm install (the README's Effect 4 line, Node 24)",
      "npm",
      ["install", "--no-audit", "--no-fund", "--ignore-scripts", ...installArguments(line, tarballs)],
      { cwd: project, env, timeoutSeconds: 300 }
    )
    // What the README says to add for a shared rate limit: the programs below use it too.
    const redis = packages.findIndex((pkg) => pkg.dir === "effect4-redis")
    run(
      "npm install @sfox-effect/effect4-redis (Node 24)",
      "npm",
      ["install", "--no-audit", "--no-fund", "--ignore-scripts", tarballs[redis]],
      { cwd: project, env, timeoutSeconds: 300 }
    )
    const effectVersion = JSON.parse(
      Fs.readFileSync(Path.join(project, "node_modules", "effect", "package.json"), "utf8")
    ).version
    if (!effectVersion.startsWith("4.")) fail(`the Effect 4 install line brought effect ${effectVersion}`)
    for (const pkg of packages) {
      const manifest = JSON.parse(
        Fs.readFileSync(Path.join(project, "node_modules", "@sfox-effect", pkg.dir, "package.json"), "utf8")
      )
      for (const [name, range] of Object.entries(manifest.dependencies ?? {})) {
        if (range.startsWith("workspace:")) fail(`the packed ${manifest.name} still depends on ${name}@${range}`)
      }
    }
    console.log(`      effect ${effectVersion}`)

    const source = blocksIn(readmeSection("Quick start"), "ts").find((code) => /@sfox-effect\/effect4-/.test(code))
    if (source === undefined) fail("README.md's Quick start section has no Effect 4 ```ts block")
    const ts = require("typescript")
    const { outputText } = ts.transpileModule(source, {
      compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 }
    })
    Fs.writeFileSync(Path.join(project, "quick-start.mjs"), outputText)
    Fs.writeFileSync(Path.join(project, "run-quick-start.mjs"), quickStartRunner)
    const quick = run("the README's Effect 4 quick start", node, ["run-quick-start.mjs"], {
      cwd: project,
      timeoutSeconds: 60
    })
    console.log(`      ${quick.stdout.trim().split("\n").at(-1)}`)

    Fs.writeFileSync(Path.join(project, "program.mjs"), esmProgram)
    Fs.writeFileSync(Path.join(project, "program.cjs"), cjsProgram)
    for (const file of ["program.mjs", "program.cjs"]) {
      const result = run(`node ${file} (catchTag("Unauthorized"))`, node, [file], { cwd: project, timeoutSeconds: 60 })
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
          lib: ["es2024", "dom"],
          strict: true,
          exactOptionalPropertyTypes: true,
          noEmit: true,
          skipLibCheck: true,
          types: []
        },
        files: ["consumer.mts", "consumer.cts"]
      })
    )
    run("tsc: .mts and .cts consumers (nodenext)", node, [require.resolve("typescript/bin/tsc")], {
      cwd: project,
      timeoutSeconds: 120
    })
    console.log(`Effect 4 pack test passed in ${seconds(started)}`)
  } finally {
    cleanup()
  }
}

try {
  main()
} catch (error) {
  console.error(
    `Effect 4 pack test failed after ${seconds(started)}: ${error instanceof StepError ? error.message : error}`
  )
  process.exit(1)
}
