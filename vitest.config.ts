import * as path from "node:path"
import { defineConfig } from "vitest/config"
import ProgressReporter from "./scripts/vitest-progress.js"

const src = (pkg: string, file: string) => path.join(__dirname, "packages", pkg, "src", file)

export default defineConfig({
  resolve: {
    // Tests run against the sources, never a stale build.
    alias: [
      { find: /^@sfox-effect\/domain$/, replacement: src("domain", "index.ts") },
      { find: /^@sfox-effect\/core$/, replacement: src("core", "index.ts") },
      { find: /^@sfox-effect\/core\/testing$/, replacement: src("core", "testing.ts") },
      {
        find: /^@sfox-effect\/core\/internal\/clientProtocol$/,
        replacement: src("core", "internal/clientProtocol.ts")
      },
      {
        find: /^@sfox-effect\/core\/internal\/optionSchema$/,
        replacement: src("core", "internal/optionSchema.ts")
      },
      { find: /^@sfox-effect\/node$/, replacement: src("node", "index.ts") },
      { find: /^@sfox-effect\/node\/testing$/, replacement: src("node", "testing.ts") },
      { find: /^@sfox-effect\/redis$/, replacement: src("redis", "index.ts") },
      { find: /^@sfox-effect\/cli$/, replacement: src("cli", "index.ts") }
    ]
  },
  test: {
    include: ["packages/*/test/**/*.test.ts", "test/**/*.test.ts", "examples/*/test/**/*.test.ts"],
    // They run the built bin: `pnpm test:built`, after `pnpm build`.
    // The Effect 4 edition's tests run under vitest 5 on Node 24: test-effect4/vitest.config.ts.
    exclude: ["**/node_modules/**", "packages/effect4-*/**", "test-effect4/**"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    sequence: { concurrent: false },
    // The JSON report lets .ci/run close with a plain "N passed, N failed" line.
    // Without a terminal, the progress reporter says how many files are done
    // and, every 30 s, which are still running (the default reporter prints a
    // file only when it ends).
    reporters: ["default", new ProgressReporter(), ["json", { outputFile: ".vitest/results.json" }]]
  }
})
