/**
 * What is said of a 2xx answer that is not what sFOX documents (the
 * `description` of a `MalformedResponse`): a body that is not JSON, an error
 * where tokens were due, or the paths at which the shell's schema found the
 * answer wrong. Never a value from the answer but sFOX's scrubbed `error`
 * text and short, scrubbed keys: the rest may be a token.
 *
 * @since 0.3.0
 */
import { scrub, type Scrubber } from "./Scrub.js"
import { type Answer, excerpt } from "./Status.js"

/**
 * A body that could not be parsed as JSON.
 *
 * @since 0.3.0
 */
export const notJson = (answer: Pick<Answer, "headers" | "body">, scrubber: Scrubber): string =>
  answer.body.length === 0 ? "empty body" : `not JSON: ${excerpt(answer, scrubber)}`

/**
 * A decoder that threw (a stack or memory limit on a hostile body): the
 * thrown value is not kept, it could quote the body.
 *
 * @since 0.3.0
 */
export const undecodable = "answer could not be decoded"

/**
 * sFOX's own `error` text in an answer that should have held tokens, if it
 * holds one.
 *
 * @since 0.3.0
 */
export const errorField = (json: unknown): string | undefined =>
  typeof json === "object" && json !== null && typeof (json as { error?: unknown }).error === "string"
    ? (json as { error: string }).error
    : undefined

/**
 * The description of a success status whose body is sFOX's error, if it is one.
 *
 * @since 0.3.0
 */
export const errorBody = (json: unknown, scrubber: Scrubber): string | undefined => {
  const error = errorField(json)
  return error === undefined ? undefined : `success status with an error body: ${scrubber.scrub(error)}`
}

/**
 * One node of a schema's issue tree, as the walk below needs it: the shell
 * tells its own schema library's issues apart into these.
 *
 * - `Pointer`: the issue under it is at `path`, relative to the pointer.
 * - `Wrapper`: one issue under it, at the same path (a refinement, a transformation).
 * - `Group`: several issues at the same path (none at all: a problem of its own).
 * - `Leaf`: a problem; `missing` when a required key is absent.
 *
 * @since 0.3.0
 */
export type IssueView<I> =
  | { readonly _tag: "Pointer"; readonly path: ReadonlyArray<PropertyKey>; readonly issue: I }
  | { readonly _tag: "Wrapper"; readonly issue: I }
  | { readonly _tag: "Group"; readonly issues: ReadonlyArray<I> }
  | { readonly _tag: "Leaf"; readonly missing: boolean }

/**
 * A problem found: where, and whether something was missing there.
 *
 * @since 0.3.0
 */
export interface Issue {
  readonly path: ReadonlyArray<PropertyKey>
  readonly missing: boolean
}

/**
 * How many problems a description shows; the others are counted.
 *
 * @since 0.3.0
 */
export const shownIssues = 3

/**
 * Most nodes of an issue tree walked: a batch of 100,000 bad tokens has as
 * many issues, and the description stays as cheap.
 *
 * @since 0.3.0
 */
export const maxIssueSteps = 10_000

/**
 * The first `limit` problems of an issue tree, in order, and how many were
 * found in all (within `maxIssueSteps` nodes). It follows the tree only (as
 * deep as the schema, a few levels) and reads paths and tags, never a value:
 * formatting an issue, as schema libraries do, may quote the value (a
 * token) or walk a deeply nested answer whole, which overflows the stack.
 *
 * @since 0.3.0
 */
export const collectIssues = <I>(
  root: I,
  view: (issue: I) => IssueView<I>,
  limit: number = shownIssues
): { readonly found: ReadonlyArray<Issue>; readonly total: number } => {
  const found: Array<Issue> = []
  let total = 0
  const leaf = (path: ReadonlyArray<PropertyKey>, missing: boolean) => {
    total++
    if (found.length < limit) found.push({ path, missing })
  }
  const stack: Array<[I, ReadonlyArray<PropertyKey>]> = [[root, []]]
  for (let steps = 0; stack.length > 0 && steps < maxIssueSteps; steps++) {
    const [issue, path] = stack.pop()!
    const node = view(issue)
    switch (node._tag) {
      case "Pointer":
        stack.push([node.issue, [...path, ...node.path]])
        break
      case "Wrapper":
        stack.push([node.issue, path])
        break
      case "Group":
        if (node.issues.length === 0) leaf(path, false)
        for (let i = node.issues.length - 1; i >= 0; i--) stack.push([node.issues[i]!, path])
        break
      case "Leaf":
        leaf(path, node.missing)
    }
  }
  return { found, total }
}

// A key of the answer's (an index aside) is sFOX's text: scrubbed and cut short.
const segmentText = (segment: PropertyKey): string =>
  typeof segment === "number" ? String(segment) : scrub(String(segment).slice(0, 40))

/**
 * What the schema found wrong: the first problems by path (`data.0.expires:
 * unexpected value`), and how many more there were.
 *
 * @since 0.3.0
 */
export const describeIssues = <I>(root: I, view: (issue: I) => IssueView<I>): string => {
  const { found, total } = collectIssues(root, view, shownIssues)
  const shown = found.map((issue) => {
    const path = issue.path.length === 0 ? "body" : issue.path.map(segmentText).join(".")
    return `${path}: ${issue.missing ? "missing" : "unexpected value"}`
  })
  const more = total > shownIssues ? ` (+${total - shownIssues} more)` : ""
  return `${shown.join("; ")}${more}`
}
