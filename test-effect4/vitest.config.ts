import * as path from "node:path"
import { defineConfig } from "vitest/config"

// The Effect 4 edition's tests, on Node 24 under vitest 5 (`node scripts/test-effect4.mjs`, which
// `pnpm test` runs after the 3.x line's): its packages' unit tests (packages/effect4-*/test) and the
// tests across packages and over real sockets (test-effect4/).
const root = path.join(__dirname, "..")
const src = (pkg: string, file: string) => path.join(root, "packages", pkg, "src", file)

export default defineConfig({
  root,
  resolve: {
    // Tests run against the sources, never a stale build.
    alias: [
      { find: /^@sfox-effect\/domain$/, replacement: src("domain", "index.ts") },
      { find: /^@sfox-effect\/effect4-core$/, replacement: src("effect4-core", "index.ts") },
      { find: /^@sfox-effect\/effect4-core\/testing$/, replacement: src("effect4-core", "testing.ts") },
      {
        find: /^@sfox-effect\/effect4-core\/internal\/clientProtocol$/,
        replacement: src("effect4-core", "internal/clientProtocol.ts")
      },
      {
        find: /^@sfox-effect\/effect4-core\/internal\/optionSchema$/,
        replacement: src("effect4-core", "internal/optionSchema.ts")
      },
      { find: /^@sfox-effect\/effect4-node$/, replacement: src("effect4-node", "index.ts") },
      { find: /^@sfox-effect\/effect4-node\/testing$/, replacement: src("effect4-node", "testing.ts") },
      { find: /^@sfox-effect\/effect4-redis$/, replacement: src("effect4-redis", "index.ts") }
    ]
  },
  test: {
    include: ["packages/effect4-*/test/**/*.test.ts", "test-effect4/**/*.test.ts"],
    exclude: ["**/node_modules/**"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    sequence: { concurrent: false },
    reporters: ["default", ["json", { outputFile: ".vitest/results-effect4.json" }]]
  }
})
