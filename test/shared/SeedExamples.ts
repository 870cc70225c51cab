/**
 * The seed pages' own examples as a table, run by both editions'
 * SeedConformance suites (test/SeedConformance.test.ts against the 3.x
 * MockSfoxServer, test-effect4/SeedConformance.test.ts against the Effect 4
 * one) as real clients: curl, Node with axios, Python with `requests`.
 *
 * test/fixtures/seeds holds each example's text exactly as the seed gives it
 * (`seedPages` checks that against the seed pages when they are beside the
 * repository). Only the host is pointed at the server before a run; the key
 * and the user ids come from the environment, as the examples expect.
 *
 * Plain data and node:* only: what each edition does with it (the server,
 * the child process, the schema checks) is its own.
 */
import { spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as path from "node:path"
import { fileURLToPath } from "node:url"

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..")
const fixtures = path.join(repoRoot, "test", "fixtures", "seeds")

export const fixture = (name: string) => fs.readFileSync(path.join(fixtures, name), "utf8")

const productionHost = "https://api.sfox.com"

/** The example's text with sFOX's host replaced by `url`; throws when the text does not name sFOX's host. */
export const pointAt = (text: string, url: string) => {
  if (!text.includes(productionHost)) throw new Error(`the example does not name ${productionHost}:\n${text}`)
  return text.split(productionHost).join(url)
}

export const apiKey = "seed-conformance-key-0123456789"
export const seedUserId = "156c5beb-7c9f-4f68-83c0-9479703ac490"

// Each client runs when its runtime is here, and says so when it is not.
const succeeds = (command: string, args: ReadonlyArray<string>) =>
  spawnSync(command, args, { stdio: "ignore", timeout: 10_000 }).status === 0
const missing = (what: string, present: boolean) => {
  if (!present) console.warn(`SeedConformance: skipping the ${what}`)
  return !present
}
const noCurl = missing("curl examples: curl is not installed", succeeds("curl", ["--version"]))
const hasPython = succeeds("python3", ["--version"])
const noPython = missing("Python example: python3 is not installed", hasPython) ||
  missing("Python example: python3 has no 'requests' module", succeeds("python3", ["-c", "import requests"]))

/** How to run an example: a command in the environment the example expects (added to the test's own). */
export interface Run {
  readonly command: string
  readonly args: ReadonlyArray<string>
  readonly env: Readonly<Record<string, string>>
}

/** Where an example runs. */
export interface Place {
  /** The server's base URL, in place of sFOX's host. */
  readonly url: string
  /** A fresh directory of the test's, removed after it. */
  readonly dir: string
  /** The `node_modules` that holds axios, for the example's `require`. */
  readonly nodeModules: string
}

export interface SeedExample {
  readonly name: string
  /** Skipped: the runtime it needs is missing (a warning says which). */
  readonly skip: boolean
  readonly prepare: (place: Place) => Run
  /** The status and the body the client printed. */
  readonly answer: (stdout: string) => { readonly status: string; readonly body: unknown }
  /** The client writes nothing to stderr. */
  readonly quiet: boolean
  /** A single token's answer (for `seedUserId`) or a batch's (for `userIds`). */
  readonly shape: "single" | "batch"
  readonly userIds: ReadonlyArray<string>
  /** What the server saw besides a valid key. */
  readonly request: {
    readonly path?: string
    readonly contentType?: string
    readonly userIds?: ReadonlyArray<string>
  }
}

// curl's config file, not the command, asks for the status after the body:
// the seed's command line runs untouched.
const curlHome = (dir: string) => {
  fs.writeFileSync(path.join(dir, ".curlrc"), "silent\nshow-error\nwrite-out = \"\\n%{http_code}\"\n")
  return dir
}

/** Splits curl's output into the body and the status its `.curlrc` appended. */
const curlAnswer = (stdout: string) => {
  const cut = stdout.lastIndexOf("\n")
  return { body: JSON.parse(stdout.slice(0, cut)) as unknown, status: stdout.slice(cut + 1) }
}

export const seedExamples: ReadonlyArray<SeedExample> = [
  {
    name: "curl: Create User Auth Token",
    skip: noCurl,
    prepare: ({ dir, url }) => ({
      command: "sh",
      args: ["-c", pointAt(fixture("create-user-auth-token.sh"), url)],
      env: { ENTERPRISE_API_KEY: apiKey, CURL_HOME: curlHome(dir) }
    }),
    answer: curlAnswer,
    quiet: false,
    shape: "single",
    userIds: [seedUserId],
    request: { path: `/v1/enterprise/user-tokens/${seedUserId}` }
  },
  {
    name: "curl: Create Multiple User Auth Tokens",
    skip: noCurl,
    prepare: ({ dir, url }) => ({
      command: "sh",
      args: ["-c", pointAt(fixture("create-multiple-user-auth-tokens.sh"), url)],
      env: {
        ENTERPRISE_API_KEY: apiKey,
        USER_ID_1: seedUserId,
        USER_ID_2: "236f5cdc-7h82-6fh3-h37s-9382840de46575",
        CURL_HOME: curlHome(dir)
      }
    }),
    answer: curlAnswer,
    quiet: false,
    shape: "batch",
    // The seed wraps its JSON in single quotes, so the shell never expands
    // ${USER_ID_1}: the placeholders themselves are what reach sFOX.
    userIds: ["${USER_ID_1}", "${USER_ID_2}"],
    request: { contentType: "application/json", userIds: ["${USER_ID_1}", "${USER_ID_2}"] }
  },
  {
    name: "Node (axios): Create User Auth Token",
    skip: false,
    prepare: ({ dir, nodeModules, url }) => {
      const file = path.join(dir, "create-user-auth-token.cjs")
      fs.writeFileSync(file, pointAt(fixture("create-user-auth-token.axios.js.txt"), url))
      // The example `require`s axios: the test package's copy.
      return { command: process.execPath, args: [file], env: { ENTERPRISE_API_KEY: apiKey, NODE_PATH: nodeModules } }
    },
    answer: (stdout) => {
      const [status, ...rest] = stdout.trimEnd().split("\n")
      // console.log prints the body as an object literal (util.inspect), not JSON.
      return { status: status ?? "", body: new Function(`return (${rest.join("\n")})`)() as unknown }
    },
    quiet: true,
    shape: "single",
    userIds: [seedUserId],
    request: {}
  },
  {
    name: "Python (requests): Create User Auth Token",
    skip: noPython,
    prepare: ({ url }) => ({
      command: "python3",
      args: ["-c", pointAt(fixture("create-user-auth-token.requests.py"), url)],
      env: { ENTERPRISE_API_KEY: apiKey }
    }),
    answer: (stdout) => {
      const [status, repr] = stdout.trimEnd().split("\n")
      // print() shows a dict's repr; Python itself turns it into JSON.
      const asJson = spawnSync(
        "python3",
        ["-c", "import ast, json, sys; print(json.dumps(ast.literal_eval(sys.stdin.read())))"],
        { input: repr ?? "", encoding: "utf8", timeout: 30_000 }
      )
      if (asJson.status !== 0) throw new Error(`python3 could not read the answer: ${asJson.stderr}`)
      return { status: status ?? "", body: JSON.parse(asJson.stdout) as unknown }
    },
    quiet: false,
    shape: "single",
    userIds: [seedUserId],
    request: {}
  }
]

// The seed pages sit beside the repository in its development workspace
// only; a clone never has them, so their absence skips that check quietly
// (the fixtures themselves are checked in, and the examples run on them).
const seedsDir = [path.join(repoRoot, "..", "shared", "seeds"), path.join(repoRoot, "shared", "seeds")].find((dir) =>
  fs.existsSync(path.join(dir, "create-user-auth-token.md"))
)

/**
 * Each fixture with the seed page (its tags removed) that must hold it
 * character for character; undefined when the pages are not here.
 */
export const seedPages: ReadonlyArray<{ readonly page: string; readonly example: string }> | undefined =
  seedsDir === undefined ? undefined : (() => {
    const page = (name: string) => fs.readFileSync(path.join(seedsDir, name), "utf8").replace(/<[^>]+>/g, "")
    const single = page("create-user-auth-token.md")
    const batch = page("create-multiple-user-auth-tokens.md")
    return [
      { page: single, example: fixture("create-user-auth-token.sh").trimEnd() },
      { page: single, example: fixture("create-user-auth-token.axios.js.txt").trimEnd() },
      { page: single, example: fixture("create-user-auth-token.requests.py").trimEnd() },
      { page: batch, example: fixture("create-multiple-user-auth-tokens.sh").trimEnd() }
    ]
  })()
