/**
 * What to do after sFOX refused a batch with an answer that may be about one
 * of its users, as a pure transition function: halve the batch and mint the
 * halves (both at once), down to single users, so that every good user still
 * gets its token and each refused user gets the answer about itself alone. A
 * failure about the whole request (401, 429, 5xx, transport) met by a part
 * is the outcome of every user of that part.
 *
 * Extra requests: about 2·log2(n) per refused user of a batch of n, and never
 * more than `splitBudget(n)` for one batch (enough to find two refused users
 * exactly): a server that refuses everything must not cost 2n requests per
 * batch. Users the split did not reach are `Unsplit`.
 *
 * `start(ids, refusal) → { state, commands }`, then
 * `step(state, event) → { state, commands }` for each part's answer; the
 * plan is done when every `Mint` it asked for has been answered, and
 * `outcomes` then has one outcome per user. `E` is the shell's error; the
 * plan reads nothing of it but what the event says (`aboutOneUser`).
 *
 * @since 0.1.0
 */
import { printable } from "./Printable.js"

/**
 * Whether a refusal with this HTTP status may be about one user of a batch
 * rather than the batch as a whole: a 4xx that is not about the key (401,
 * 403), the pace (429), the time (408) or the request's form (405, 406,
 * 415). A 404 "user not found: x" or a 422 about one id is; so is a 400 or
 * 413 about the batch's size, which halves cure as well.
 *
 * @since 0.1.0
 */
export const mayBeAboutOneUser = (status: number): boolean =>
  status >= 400 && status < 500 && status !== 401 && status !== 403 && status !== 429 && !aboutTheForm.has(status)

const aboutTheForm = new Set([405, 406, 408, 415])

/**
 * The most extra requests spent splitting one refused batch of `size` users: 28 for 100.
 *
 * @since 0.1.0
 */
export const splitBudget = (size: number): number => 4 * Math.ceil(Math.log2(Math.max(2, size)))

/**
 * One user's outcome: minted; failed with a part's error (about it alone,
 * or about its whole part); or not reached, the split having stopped after
 * `spent` extra requests while splitting a part refused with `error`.
 *
 * @since 0.1.0
 */
export type Outcome<E> =
  | { readonly _tag: "Minted" }
  | { readonly _tag: "Failed"; readonly error: E }
  | { readonly _tag: "Unsplit"; readonly error: E; readonly spent: number }

/**
 * The plan's state.
 *
 * @since 0.1.0
 */
export interface State<E> {
  readonly budget: number
  spent: number
  /** Parts asked for and not yet answered. */
  inFlight: number
  readonly outcomes: Map<string, Outcome<E>>
}

/**
 * A part's answer. `aboutOneUser`: whether its refusal may be about one of
 * its users (`mayBeAboutOneUser` of its status; `false` for a failure that is
 * not an HTTP answer).
 *
 * @since 0.1.0
 */
export type Event<E> =
  | { readonly _tag: "Minted"; readonly ids: ReadonlyArray<string> }
  | { readonly _tag: "Refused"; readonly ids: ReadonlyArray<string>; readonly error: E; readonly aboutOneUser: boolean }

/**
 * `Split`: a part of `size` users is being halved (for telemetry). `Mint`:
 * mint these users as one batch, and feed its answer back.
 *
 * @since 0.1.0
 */
export type Command =
  | { readonly _tag: "Split"; readonly size: number }
  | { readonly _tag: "Mint"; readonly ids: ReadonlyArray<string> }

/**
 * A transition's result.
 *
 * @since 0.1.0
 */
export interface Step<E> {
  readonly state: State<E>
  readonly commands: ReadonlyArray<Command>
}

/**
 * The plan for a batch of `ids` refused with `refusal`.
 *
 * @since 0.1.0
 */
export const start = <E>(ids: ReadonlyArray<string>, refusal: E, aboutOneUser: boolean): Step<E> => {
  const state: State<E> = { budget: splitBudget(ids.length), spent: 0, inFlight: 0, outcomes: new Map() }
  const commands: Array<Command> = []
  refused(state, ids, refusal, aboutOneUser, commands)
  return { state, commands }
}

/**
 * A part was answered.
 *
 * @since 0.1.0
 */
export const step = <E>(state: State<E>, event: Event<E>): Step<E> => {
  const commands: Array<Command> = []
  state.inFlight--
  if (event._tag === "Minted") {
    for (const id of event.ids) state.outcomes.set(id, minted)
  } else {
    refused(state, event.ids, event.error, event.aboutOneUser, commands)
  }
  return { state, commands }
}

/**
 * Whether every part asked for has been answered.
 *
 * @since 0.1.0
 */
export const isDone = <E>(state: State<E>): boolean => state.inFlight === 0

const minted: Outcome<never> = { _tag: "Minted" }

const refused = <E>(
  state: State<E>,
  ids: ReadonlyArray<string>,
  error: E,
  aboutOneUser: boolean,
  commands: Array<Command>
): void => {
  if (ids.length === 1 || !aboutOneUser) return each(state, ids, { _tag: "Failed", error })
  if (state.spent + 2 > state.budget) return each(state, ids, { _tag: "Unsplit", error, spent: state.spent })
  state.spent += 2
  state.inFlight += 2
  const middle = Math.ceil(ids.length / 2)
  commands.push(
    { _tag: "Split", size: ids.length },
    { _tag: "Mint", ids: ids.slice(0, middle) },
    { _tag: "Mint", ids: ids.slice(middle) }
  )
}

const each = <E>(state: State<E>, ids: ReadonlyArray<string>, outcome: Outcome<E>): void => {
  for (const id of ids) state.outcomes.set(id, outcome)
}

/**
 * What a call that wanted every user of the batch (all or nothing) makes of
 * the outcomes: all minted; a failure about a whole part (a 503, say: the
 * call fails with it as it is); or the users refused about themselves (or
 * not reached), in the batch's order, and the first such error.
 *
 * @since 0.1.0
 */
export type Verdict<E> =
  | { readonly _tag: "AllMinted" }
  | { readonly _tag: "Whole"; readonly error: E }
  | { readonly _tag: "Refused"; readonly userIds: ReadonlyArray<string>; readonly first: E }

/**
 * The verdict over `outcomes`, read in the order of `ids`.
 *
 * @since 0.1.0
 */
export const verdict = <E>(
  ids: ReadonlyArray<string>,
  outcomes: ReadonlyMap<string, Outcome<E>>,
  aboutOneUser: (error: E) => boolean
): Verdict<E> => {
  const refusedIds: Array<string> = []
  let first: E | undefined
  for (const id of ids) {
    const outcome = outcomes.get(id)
    if (outcome === undefined || outcome._tag === "Minted") continue
    if (!aboutOneUser(outcome.error)) return { _tag: "Whole", error: outcome.error }
    refusedIds.push(id)
    if (refusedIds.length === 1) first = outcome.error
  }
  return refusedIds.length === 0 ? { _tag: "AllMinted" } : { _tag: "Refused", userIds: refusedIds, first: first! }
}

/**
 * The description of an `Unsplit` user's failure: it names nobody and
 * quotes nothing of sFOX's, which may be about another user.
 *
 * @since 0.3.0
 */
export const unsplitDescription = (spent: number): string =>
  `refused in a batch with other users; the split that tells them apart stopped after ${spent} extra requests`

/**
 * The description of an all-or-nothing call's failure when sFOX refused
 * `refused` of its `of` users: the first five named (printable, quoted),
 * the rest counted, then sFOX's `description` of the first refusal.
 *
 * @since 0.3.0
 */
export const refusedDescription = (refused: ReadonlyArray<string>, of: number, description: string): string => {
  const shown = refused.slice(0, 5).map((id) => printable(JSON.stringify(id))).join(", ")
  const more = refused.length > 5 ? ` and ${refused.length - 5} more` : ""
  return `sFOX refused ${refused.length} of ${of} users (${shown}${more}): ${description}`
}
