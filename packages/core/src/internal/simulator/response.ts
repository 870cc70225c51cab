import type { SimResponse } from "../../SfoxSimulator.js"

/** A normal JSON answer. */
export const json = (status: number, body: unknown, headers: Readonly<Record<string, string>> = {}): SimResponse => ({
  status,
  headers: { "content-type": "application/json", ...headers },
  body: typeof body === "string" ? body : JSON.stringify(body),
  delivery: { _tag: "Normal" }
})
