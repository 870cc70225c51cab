import { SplitPlan } from "@sfox-effect/domain"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import { HttpFailure, type RequestFailure } from "../SfoxError.js"
import * as Logging from "./logging.js"

/**
 * The shell of the refused-batch split (`@sfox-effect/domain`'s `SplitPlan`:
 * read its comment for the plan and its budget). One function,
 * `whenRefused`, is what both `get` and `createMany` do when sFOX refuses a
 * batch.
 */

/**
 * Whether a refused batch may have been refused for one of its users rather
 * than as a whole (see `SplitPlan.mayBeAboutOneUser`).
 */
export const mayBeAboutOneUser = (error: RequestFailure): boolean =>
  error._tag === "HttpFailure" && SplitPlan.mayBeAboutOneUser(error.status)

export const splitBudget = SplitPlan.splitBudget

type Outcomes<A> = ReadonlyMap<string, Exit.Exit<A, RequestFailure>>
type Mint<A> = (userIds: ReadonlyArray<string>) => Effect.Effect<ReadonlyMap<string, A>, RequestFailure>

/**
 * A batch of `userIds` failed with `error`: when that may be about some of
 * its users, the split finds them (one outcome per user); any other failure
 * is the whole batch's.
 */
export const whenRefused = <A>(
  mint: Mint<A>,
  userIds: ReadonlyArray<string>,
  error: RequestFailure,
  onSplit: (size: number) => void
): Effect.Effect<Outcomes<A>, RequestFailure> =>
  userIds.length > 1 && mayBeAboutOneUser(error) ? afterRefusal(mint, userIds, error, onSplit) : Effect.fail(error)

/**
 * Runs the split plan: each `Mint` it asks for is sent at once, and its
 * answer fed back, until every part is answered. Users the split did not
 * reach get an `HttpFailure` that names nobody and quotes nothing of sFOX's,
 * which may be about another user.
 */
export const afterRefusal = <A>(
  mint: Mint<A>,
  userIds: ReadonlyArray<string>,
  refusal: RequestFailure,
  onSplit: (size: number) => void
): Effect.Effect<Outcomes<A>> =>
  Effect.suspend(() => {
    const tokens = new Map<string, A>()
    const { commands, state } = SplitPlan.start(userIds, refusal, true)
    const run = (commands: ReadonlyArray<SplitPlan.Command>): Effect.Effect<void> =>
      Effect.forEach(commands, (command) => {
        if (command._tag === "Split") return Effect.sync(() => onSplit(command.size))
        return Effect.flatMap(Effect.either(mint(command.ids)), (answer) => {
          if (answer._tag === "Left") return run(SplitPlan.step(state, eventOf(command.ids, answer.left)).commands)
          for (const [id, token] of answer.right) tokens.set(id, token)
          return run(SplitPlan.step(state, eventOf(command.ids, undefined)).commands)
        })
      }, { concurrency: "unbounded", discard: true })
    return Logging.batchSplit(userIds.length, refusal).pipe(
      Effect.zipRight(run(commands)),
      Effect.zipRight(Effect.sync(() => exits(userIds, state.outcomes, tokens)))
    )
  })

const eventOf = (ids: ReadonlyArray<string>, error: RequestFailure | undefined): SplitPlan.Event<RequestFailure> =>
  error === undefined
    ? { _tag: "Minted", ids }
    : { _tag: "Refused", ids, error, aboutOneUser: mayBeAboutOneUser(error) }

/** One exit per user, in the batch's order. */
const exits = <A>(
  userIds: ReadonlyArray<string>,
  outcomes: ReadonlyMap<string, SplitPlan.Outcome<RequestFailure>>,
  tokens: ReadonlyMap<string, A>
): Outcomes<A> => {
  const out = new Map<string, Exit.Exit<A, RequestFailure>>()
  for (const id of userIds) {
    const outcome = outcomes.get(id)!
    out.set(
      id,
      outcome._tag === "Minted"
        ? Exit.succeed(tokens.get(id)!)
        : Exit.fail(outcome._tag === "Failed" ? outcome.error : unsplit(outcome.error, outcome.spent))
    )
  }
  return out
}

const unsplit = (error: RequestFailure, spent: number): RequestFailure =>
  new HttpFailure({
    status: (error as HttpFailure).status,
    description: SplitPlan.unsplitDescription(spent)
  })

/**
 * Mints a batch of `get` (`whole`) with one outcome per user: a refusal goes
 * to `whenRefused`. `userIds` gives the batch's users once its request was
 * built (at its rate-limit turn).
 */
export const resolveEach = <A>(
  mint: Mint<A>,
  whole: Effect.Effect<ReadonlyMap<string, A>, RequestFailure>,
  userIds: () => ReadonlyArray<string>,
  onSplit: (size: number) => void
): Effect.Effect<Outcomes<A>, RequestFailure> =>
  Effect.matchEffect(whole, {
    onSuccess: (tokens) => Effect.succeed(minted(userIds(), tokens)),
    onFailure: (error) => whenRefused(mint, userIds(), error, onSplit)
  })

/**
 * One chunk of `createMany`, all or nothing: a refusal goes to
 * `whenRefused`, and the users it refused are named in the error.
 */
export const mintAll = <A>(
  mint: Mint<A>,
  userIds: ReadonlyArray<string>,
  onSplit: (size: number) => void
): Effect.Effect<ReadonlyMap<string, A>, RequestFailure> =>
  Effect.catchAll(
    mint(userIds),
    (error) => Effect.flatMap(whenRefused(mint, userIds, error, onSplit), (outcomes) => allOrRefused(userIds, outcomes))
  )

const allOrRefused = <A>(
  userIds: ReadonlyArray<string>,
  outcomes: Outcomes<A>
): Effect.Effect<ReadonlyMap<string, A>, RequestFailure> => {
  const plain = new Map<string, SplitPlan.Outcome<RequestFailure>>()
  const tokens = new Map<string, A>()
  for (const [id, exit] of outcomes) {
    if (Exit.isSuccess(exit)) tokens.set(id, exit.value)
    else if (exit.cause._tag === "Fail") plain.set(id, { _tag: "Failed", error: exit.cause.error })
  }
  const verdict = SplitPlan.verdict(userIds, plain, mayBeAboutOneUser)
  switch (verdict._tag) {
    case "AllMinted":
      return Effect.succeed(tokens)
    case "Whole":
      // A part that failed as a whole (a 503, say) fails the call as it is.
      return Effect.fail(verdict.error)
    case "Refused":
      return Effect.fail(refusedIn(verdict.userIds, outcomes.size, verdict.first))
  }
}

/** The error of a `createMany` chunk that sFOX refused for some of its users, naming them. */
const refusedIn = (refused: ReadonlyArray<string>, of: number, about: RequestFailure): RequestFailure => {
  if (about._tag !== "HttpFailure") return about
  return new HttpFailure({
    status: about.status,
    description: SplitPlan.refusedDescription(refused, of, about.description),
    userIds: refused
  })
}

/** Every user of a batch that was answered: each with its own token. */
const minted = <A>(ids: ReadonlyArray<string>, tokens: ReadonlyMap<string, A>): Outcomes<A> => {
  const out = new Map<string, Exit.Exit<A, RequestFailure>>()
  for (const id of ids) out.set(id, Exit.succeed(tokens.get(id)!))
  return out
}
