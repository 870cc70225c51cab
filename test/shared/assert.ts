/**
 * The assertions the shared cases make, as an interface: each edition hands
 * in its own `assert` (@effect/vitest's, chai's under vitest 3 or 5), so the
 * checks run exactly as they did when they lived in one edition's file, and
 * this folder imports nothing that resolves differently per edition (no
 * `effect`, `@effect/*`, `vitest` or `@sfox-effect/*` but the domain).
 */
export interface Assert {
  isTrue(value: unknown, message?: string): void
  isFalse(value: unknown, message?: string): void
  isDefined(value: unknown, message?: string): void
  isUndefined(value: unknown, message?: string): void
  strictEqual(actual: unknown, expected: unknown, message?: string): void
  deepStrictEqual(actual: unknown, expected: unknown, message?: string): void
  include(haystack: string, needle: string, message?: string): void
  notInclude(haystack: string, needle: string, message?: string): void
  match(value: string, pattern: RegExp, message?: string): void
  isAbove(value: number, than: number, message?: string): void
  isBelow(value: number, than: number, message?: string): void
  isAtLeast(value: number, than: number, message?: string): void
  isAtMost(value: number, than: number, message?: string): void
  fail(message?: string): never
}
