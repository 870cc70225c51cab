import * as Fs from "node:fs"
import * as Path from "node:path"
import { assert, describe, it } from "vitest"

/**
 * Belt and braces beside the lint rule in eslint.config.mjs: no file of the
 * domain's sources imports Effect, a Node API or another package of ours.
 */
const src = Path.join(__dirname, "..", "src")

const files = (dir: string): Array<string> =>
  Fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? files(Path.join(dir, entry.name)) : [Path.join(dir, entry.name)]
  )

// Static imports and re-exports (`import … from "x"`, `export … from "x"`,
// `import "x"`), dynamic imports and `require`.
const specifiers = (text: string): Array<string> => {
  const found: Array<string> = []
  const patterns = [
    /\b(?:import|export)\s[^"'`;]*?\bfrom\s*["']([^"']+)["']/g,
    /\bimport\s*["']([^"']+)["']/g,
    /\bimport\s*\(\s*["']([^"']+)["']\s*\)/g,
    /\brequire\s*\(\s*["']([^"']+)["']\s*\)/g
  ]
  for (const pattern of patterns) for (const match of text.matchAll(pattern)) found.push(match[1]!)
  return found
}

const forbidden = (specifier: string): boolean =>
  specifier === "effect" || specifier.startsWith("effect/") || specifier.startsWith("@effect/") ||
  specifier.startsWith("node:") || specifier.startsWith("@sfox-effect/")

describe("the domain imports nothing from Effect", () => {
  it("finds the imports it checks (the check itself works)", () => {
    assert.deepStrictEqual(
      specifiers(
        "import * as Effect from \"effect/Effect\"\nimport type { X } from '@effect/platform'\n" +
          "export * as A from \"./A.js\"\nconst fs = await import(\"node:fs\")\nimport \"effect\""
      ).filter(forbidden),
      ["effect/Effect", "@effect/platform", "effect", "node:fs"]
    )
  })

  it("no file under packages/domain/src imports effect, @effect/*, node:* or @sfox-effect/*", () => {
    const checked = files(src).filter((file) => file.endsWith(".ts"))
    assert.isAbove(checked.length, 10)
    for (const file of checked) {
      const bad = specifiers(Fs.readFileSync(file, "utf8")).filter(forbidden)
      assert.deepStrictEqual(bad, [], Path.relative(src, file))
    }
  })
})
