/**
 * A code block of README.md or docs/*.md opened by the comment
 * `<!-- quoted byte for byte from <path> … -->` must be that file, whole:
 * the file is what CI runs (e.g. examples/user-actions/src/node-http.ts and
 * its test), the page is what readers copy, and they must not drift apart.
 * To change such a block, change the file and paste it over the block.
 */
import { assert, describe, it } from "@effect/vitest"
import * as Fs from "node:fs"
import * as Path from "node:path"

const root = Path.resolve(__dirname, "..")
const marker = /^<!-- quoted byte for byte from (\S+)/

interface Quote {
  readonly page: string
  readonly line: number
  readonly file: string
  readonly code: string | undefined
}

/** Every marked block of a page: the file it quotes and the block's code (undefined when no block follows). */
const quotesOf = (page: string, text: string): ReadonlyArray<Quote> => {
  const lines = text.split("\n")
  const quotes: Array<Quote> = []
  lines.forEach((line, i) => {
    const found = marker.exec(line)
    if (found === null) return
    const fence = /^(`{3,})\S*/.exec(lines[i + 1] ?? "")
    const end = fence === null ? -1 : lines.findIndex((l, j) => j > i + 1 && l === fence[1])
    const code = end === -1 ? undefined : `${lines.slice(i + 2, end).join("\n")}\n`
    quotes.push({ page, line: i + 1, file: found[1]!, code })
  })
  return quotes
}

const pages = [
  "README.md",
  ...Fs.readdirSync(Path.join(root, "docs")).filter((name) => name.endsWith(".md")).map((name) => `docs/${name}`)
]

describe("quoted files", () => {
  const quotes = pages.flatMap((page) => quotesOf(page, Fs.readFileSync(Path.join(root, page), "utf8")))

  it("the README quotes the node:http server example", () => {
    assert.deepInclude(quotes.map((q) => `${q.page} ${q.file}`), "README.md examples/user-actions/src/node-http.ts")
  })

  for (const quote of quotes) {
    it(`${quote.page}:${quote.line} is ${quote.file}, byte for byte`, () => {
      assert.isDefined(quote.code, "the marker must be followed by a fenced code block")
      assert.strictEqual(quote.code, Fs.readFileSync(Path.join(root, quote.file), "utf8"))
    })
  }

  it("a changed file or block is caught", () => {
    const file = "examples/user-actions/src/node-http.ts"
    const text = Fs.readFileSync(Path.join(root, file), "utf8")
    const page = (code: string) => `intro\n<!-- quoted byte for byte from ${file} -->\n\`\`\`ts\n${code}\`\`\`\nafter\n`
    assert.strictEqual(quotesOf("x.md", page(text))[0]!.code, text)
    assert.notStrictEqual(quotesOf("x.md", page(text.replace("400", "502")))[0]!.code, text)
    assert.isUndefined(quotesOf("x.md", `<!-- quoted byte for byte from ${file} -->\ntext\n`)[0]!.code)
  })
})
