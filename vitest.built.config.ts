import { defineConfig } from "vitest/config"
import base from "./vitest.config.js"

// The tests of the built packages (`*.built.test.ts`): `pnpm build` first.
export default defineConfig({
  ...base,
  test: { ...base.test, include: ["test/**/*.built.test.ts"], exclude: ["**/node_modules/**"], reporters: ["default"] }
})
