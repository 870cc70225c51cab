import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import { HttpFailure, type RequestFailure } from "../SfoxError.js"
import * as Logging from "./logging.js"

/**
 * Whether a refused batch may have been refused for one of its users rather
 * than as a whole: a 4xx that is not about the key (401, 403), the pace
 * (429), the time (408) or the request's form (405, 406, 415). A 404 "user
 * not found: x" or a 422 about one id is; so is a 400 or 413 about the
 * batch's size, which halves cure as well.
 */
export const mayBeAboutOneUser = (error: RequestFailure): boolean =>
  error._tag === "HttpFailure" && error.status >= 400 && error.status < 500 && !notAboutUsers.has(error.status)

const notAboutUsers = new Set([405, 406, 408, 415])

/** The most extra requests spent splitting one refused batch of `size` users: 28 for 100. */
export const splitBudget = (size: number): number => 4 * Math.ceil(Math.log2(Math.max(2, size)))

type Outcomes<A> = ReadonlyMap<string, Exit.Exit<A, RequestFailure>>
type Mint<A> = (userIds: ReadonlyArray<string>) => Effect.Effect<ReadonlyMap<string, A>, RequestFailure>

/**
 * After sFOX refused a batch with an answer that may be about one user:
 * halves the batch and mints the halves (both at once), down to single users,
 * so that every good user still gets its token and each refused user gets the
 * answer about itself alone. A failure about the whole request (401, 429,
 * 5xx, transport) met by a part is the outcome of every user of that part.
 *
 * Extra requests: about 2·log2(n) per refused user of a batch of n, each
 * taking its turn of the rate limit like any other, and never more than
 * `splitBudget(n)` for one batch (enough to find two refused users exactly):
 * a server that refuses everything must not cost 2n requests per batch. Users
 * the split did not reach get an `HttpFailure` that names nobody and quotes
 * nothing of sFOX's, which may be about another user.
 */
export const afterRefusal = <A>(
  mint: Mint<A>,
  userIds: ReadonlyArray<string>,
  refusal: RequestFailure,
  onSplit: (size: number) => void
): Effect.Effect<Outcomes<A>> => {
  const budget = splitBudget(userIds.length)
  let spent = 0
  const part = (ids: ReadonlyArray<string>): Effect.Effect<Outcomes<A>> =>
    Effect.matchEffect(mint(ids), {
      onSuccess: (tokens) => Effect.succeed(minted(ids, tokens)),
      onFailure: (error) => split(ids, error)
    })
  const split = (ids: ReadonlyArray<string>, error: RequestFailure): Effect.Effect<Outcomes<A>> => {
    if (ids.length === 1 || !mayBeAboutOneUser(error)) {
      const failed = Exit.fail(error)
      return Effect.succeed(each(ids, () => failed))
    }
    if (spent + 2 > budget) {
      const unsplit = Exit.fail(
        new HttpFailure({
          status: (error as HttpFailure).status,
          description: `refused in a batch with other users; the split that tells them apart stopped after ${spent} ` +
            "extra requests"
        })
      )
      return Effect.succeed(each(ids, () => unsplit))
    }
    spent += 2
    onSplit(ids.length)
    const middle = Math.ceil(ids.length / 2)
    return Effect.map(
      Effect.all([part(ids.slice(0, middle)), part(ids.slice(middle))], { concurrency: 2 }),
      ([left, right]) => new Map([...left, ...right])
    )
  }
  return Effect.zipRight(Logging.batchSplit(userIds.length, refusal), split(userIds, refusal))
}

/**
 * Mints a batch (`whole`) with one outcome per user: a refusal that may be
 * about one user is split (`afterRefusal`, by `mint`); any other failure is
 * the whole batch's. `userIds` gives the batch's users once its request was
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
    onFailure: (error) => {
      const ids = userIds()
      return ids.length > 1 && mayBeAboutOneUser(error) ? afterRefusal(mint, ids, error, onSplit) : Effect.fail(error)
    }
  })

/** Every user of a batch that was answered: each with its own token. */
const minted = <A>(ids: ReadonlyArray<string>, tokens: ReadonlyMap<string, A>): Outcomes<A> =>
  each(ids, (id) => Exit.succeed(tokens.get(id)!))

const each = <A>(
  ids: ReadonlyArray<string>,
  outcome: (id: string) => Exit.Exit<A, RequestFailure>
): Map<string, Exit.Exit<A, RequestFailure>> => {
  const out = new Map<string, Exit.Exit<A, RequestFailure>>()
  for (const id of ids) out.set(id, outcome(id))
  return out
}
