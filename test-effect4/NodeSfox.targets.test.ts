/**
 * Where a request goes: the URL read without parsing lands where `new URL`
 * says, anything unusual is parsed, and dot segments go out resolved.
 * The Effect 4 edition's twin of test/NodeSfox.targets.test.ts.
 */
import { assert, describe, it } from "@effect/vitest"
import { NodeSfox } from "@sfox-effect/effect4-node"
import { Effect } from "effect"
import { HttpClient, HttpClientRequest } from "effect/http"
import * as Http from "node:http"
import { Targets } from "../packages/effect4-node/src/internal/requestTarget.js"
import { leakFree } from "./utils/harness.js"
import { rawServer } from "./utils/nodeSfox.js"

describe("NodeSfox.httpClient's request targets", () => {
  const origin = "http://127.0.0.1:4000"
  const parsed = (url: string) => {
    const parsed = new URL(url)
    return { origin: parsed.origin, path: parsed.pathname + parsed.search }
  }

  it("a URL read without parsing goes where new URL says it goes", () => {
    const paths = [
      "/v1/enterprise/user-tokens/u1",
      "/v1/enterprise/user-tokens/a%20b%2Fc",
      "/a//b",
      "/a/./b",
      "/a/../b",
      "/a/%2e%2E/b",
      "/a/.%2e",
      "/.well-known/x",
      "/a b",
      "/a\tb",
      "/a\\b",
      "/a#fragment",
      "/a?",
      "/a?b=1&c=%zz&d=/./e",
      "/a?q='x'",
      "/a?q=\"x\"",
      "/é?ü",
      "/%41%2F",
      "/a:b@c!$&()*+,;=~_-."
    ]
    const targets = new Targets()
    assert.deepStrictEqual(targets.of(HttpClientRequest.get(`${origin}/`)), { origin, path: "/" })
    for (const path of paths) {
      assert.deepStrictEqual(targets.of(HttpClientRequest.get(origin + path)), parsed(origin + path), path)
    }
  })

  it("the origin as a URL spells it otherwise, and URL parameters and fragments, are parsed", () => {
    const targets = new Targets()
    targets.of(HttpClientRequest.get(`${origin}/`))
    for (
      const url of [
        "HTTP://127.0.0.1:4000/x",
        "http://127.0.0.1:40001/x",
        "http://user:secret@127.0.0.1:4000/x",
        "http://example.com:80/x",
        "https://example.com:443/x?y=1"
      ]
    ) {
      assert.deepStrictEqual(targets.of(HttpClientRequest.get(url)), parsed(url), url)
    }
    const withParams = HttpClientRequest.get(`${origin}/x`).pipe(
      HttpClientRequest.setUrlParam("a", "1 2"),
      HttpClientRequest.setHash("h")
    )
    assert.deepStrictEqual(targets.of(withParams), { origin, path: "/x?a=1+2" })
    // A URL with no origin of its own is never taken for a path after one.
    targets.of(HttpClientRequest.get("file:///tmp/x"))
    assert.throws(() => targets.of(HttpClientRequest.get("null/x")))
    assert.deepStrictEqual(targets.of(HttpClientRequest.get(`${origin}/y`)), { origin, path: "/y" })
  })

  it.live("a URL with dot segments goes out resolved", () =>
    leakFree(
      Effect.gen(function*() {
        const paths: Array<string> = []
        const server = Http.createServer((req, res) => {
          paths.push(req.url ?? "")
          res.end("ok")
        })
        const port = yield* rawServer(server)
        for (const path of ["/a/b", "/a/../b", "/a/%2e/b?c=/./d"]) {
          yield* Effect.flatMap(HttpClient.get(`http://127.0.0.1:${port}${path}`), (r) => r.text)
        }
        assert.deepStrictEqual(paths, ["/a/b", "/b", "/a/b?c=/./d"])
        const invalid = yield* Effect.flip(HttpClient.get("http://127.0.0.1:notaport/"))
        // Effect 4's one HttpClientError, its reason an InvalidUrlError (3.x: RequestError InvalidUrl).
        assert.strictEqual(invalid._tag, "HttpClientError")
        assert.strictEqual(invalid.reason._tag, "InvalidUrlError")
      }).pipe(Effect.scoped, Effect.provide(NodeSfox.httpClient))
    ))
})
