/**
 * The batcher behind `get` as a pure transition function:
 * `step(state, event) → { state, commands }`. Time plays no part in its
 * decisions: its timers (a batch's window, its hold) are commands the shell
 * arms, and their ends are events it feeds back.
 *
 * A batch goes through these phases:
 * - `gathering`: its window is open;
 * - `queued`: its window has closed, it waits for a slot;
 * - `turn`: it holds a slot, its request waits for its rate-limit turn;
 * - `sent`: the turn came and its request was built (`TurnGranted`, the
 *   seal): from here on its users are fixed;
 * - `abandoned`: every caller left before it was sealed; its fiber is being
 *   interrupted.
 * Until it is sealed a batch takes joiners, up to `maxBatchSize`: a new user
 * goes into the oldest batch not yet sealed that has room, and a window opens
 * only when none has. While the rate limit binds, the batch waiting for its
 * turn fills up instead of a queue of small ones forming behind it.
 *
 * What a slot is. `concurrency` bounds the batches that are starting: a
 * batch holds a slot from the moment it asks for its turn until its answer
 * comes, or until its hold ends (one batch window after its request left),
 * whichever is first. A request in flight that hangs cannot be told from a
 * slow one before its timeout, and counting it until it ends let as many
 * hung requests as slots stall every new user (issue 20). Requests in flight
 * are bounded by the rate limiter instead.
 *
 * Rules (checked by the model-based test):
 * - a settled batch resolves exactly the mints it carried, never a later mint
 *   for the same user;
 * - a sealed batch takes no joiner, and its request carries exactly the
 *   users that were in it when it was sealed;
 * - a caller that leaves changes no other caller's outcome;
 * - a window is armed exactly while ids wait in it;
 * - at most `concurrency` batches hold a slot; the others wait in order;
 * - after `Close`, nobody waits: every caller is resumed, every batch
 *   interrupted.
 *
 * The state is the machine's own: a transition updates it in place and
 * returns it (10,000 joins must not copy 10,000 maps). `C` is whatever the
 * shell knows a caller by; the machine only stores and hands it back.
 *
 * @since 0.1.0
 */

/**
 * Where a batch is in its life (see the module's comment).
 *
 * @since 0.1.0
 */
export type Phase = "gathering" | "queued" | "turn" | "sent" | "abandoned"

/**
 * One user's token being minted, and who waits for it.
 *
 * @since 0.1.0
 */
export interface Mint<C> {
  readonly key: string
  readonly callers: Set<C>
  /** `queued` in a batch not yet sealed, `sent` in a sealed one. */
  state: "queued" | "sent" | "done"
  readonly batch: Batch<C>
}

/**
 * One batch request, from its window to its answer.
 *
 * @since 0.1.0
 */
export interface Batch<C> {
  readonly id: number
  /** In the order the users joined; only its `sent` state is the request's. */
  readonly mints: Map<string, Mint<C>>
  phase: Phase
  /** Whether it counts against `concurrency`. */
  slot: boolean
  /** Its users as sealed: what its request carries. */
  keys: ReadonlyArray<string> | undefined
  /** Mints of the sealed batch that someone still waits for. */
  wanted: number
}

/**
 * The batcher's whole state.
 *
 * @since 0.1.0
 */
export interface State<C> {
  readonly maxBatchSize: number
  readonly concurrency: number
  /** The current mint of every user that has one not yet settled. */
  readonly pending: Map<string, Mint<C>>
  /** Every batch not yet settled (or dropped), by id. */
  readonly batches: Map<number, Batch<C>>
  /** Batches not yet sealed, oldest first: the gathering one (if any) is last. */
  readonly open: Array<Batch<C>>
  gathering: Batch<C> | undefined
  /** Batches waiting for a slot, first queued first started. */
  readonly queued: Array<Batch<C>>
  /** Batches whose fiber runs, in the order they started. */
  readonly running: Map<number, Batch<C>>
  slots: number
  closed: boolean
  nextId: number
}

/**
 * What happened: a caller joined or left, a timer ended, a batch's turn came
 * (it is sealed), a batch settled (answered or failed: the shell reads each
 * caller's outcome from the batch's own answer), the batcher closed.
 *
 * @since 0.1.0
 */
export type Event<C> =
  | { readonly _tag: "Join"; readonly caller: C; readonly key: string }
  | { readonly _tag: "Leave"; readonly caller: C; readonly key: string }
  | { readonly _tag: "WindowClosed"; readonly batch: number }
  | { readonly _tag: "TurnGranted"; readonly batch: number }
  | { readonly _tag: "HoldEnded"; readonly batch: number }
  | { readonly _tag: "Settled"; readonly batch: number }
  | { readonly _tag: "Close" }

/**
 * What the shell must do, in order.
 * - `ArmWindow`: a new batch opened for the joining caller (it runs in that
 *   caller's context); arm its window timer.
 * - `ArmHold`: the batch was sealed; arm its hold timer.
 * - `CancelTimer`: cancel the batch's window or hold.
 * - `Start`: run the batch's request (it asks for its turn).
 * - `Interrupt`: interrupt the batch's request (the event's caller, if any,
 *   waits for it to end).
 * - `Resume`: give `callers` the outcome for `key` of the batch's answer.
 * - `ResumeInterrupted`: resume `callers` as interrupted.
 * - `Forget`: the batch is gone; drop what the shell kept for it.
 *
 * @since 0.1.0
 */
export type Command<C> =
  | { readonly _tag: "ArmWindow"; readonly batch: number }
  | { readonly _tag: "ArmHold"; readonly batch: number }
  | { readonly _tag: "CancelTimer"; readonly batch: number }
  | { readonly _tag: "Start"; readonly batch: number }
  | { readonly _tag: "Interrupt"; readonly batch: number }
  | { readonly _tag: "Resume"; readonly batch: number; readonly key: string; readonly callers: ReadonlyArray<C> }
  | { readonly _tag: "ResumeInterrupted"; readonly callers: ReadonlyArray<C> }
  | { readonly _tag: "Forget"; readonly batch: number }

/**
 * A transition's result.
 *
 * @since 0.1.0
 */
export interface Step<C> {
  readonly state: State<C>
  readonly commands: ReadonlyArray<Command<C>>
}

/**
 * A batcher with nobody waiting.
 *
 * @since 0.1.0
 */
export const initial = <C>(options: { readonly maxBatchSize: number; readonly concurrency: number }): State<C> => ({
  maxBatchSize: options.maxBatchSize,
  concurrency: options.concurrency,
  pending: new Map(),
  batches: new Map(),
  open: [],
  gathering: undefined,
  queued: [],
  running: new Map(),
  slots: 0,
  closed: false,
  nextId: 0
})

/**
 * The transition function.
 *
 * @since 0.1.0
 */
export const step = <C>(state: State<C>, event: Event<C>): Step<C> => {
  const out: Array<Command<C>> = []
  switch (event._tag) {
    case "Join":
      join(state, event.caller, event.key, out)
      break
    case "Leave":
      leave(state, event.caller, event.key, out)
      break
    case "WindowClosed":
      windowClosed(state, event.batch, out)
      break
    case "TurnGranted":
      seal(state, event.batch, out)
      break
    case "HoldEnded":
      holdEnded(state, event.batch, out)
      break
    case "Settled":
      settle(state, event.batch, out)
      break
    case "Close":
      close(state, out)
  }
  return { state, commands: out }
}

/**
 * The users a batch's request carries: fixed at its seal, `undefined` when
 * it was not sealed (every caller left before its turn: send nothing).
 *
 * @since 0.1.0
 */
export const sealedKeys = <C>(state: State<C>, batch: number): ReadonlyArray<string> | undefined => {
  const found = state.batches.get(batch)
  return found !== undefined && found.phase === "sent" ? found.keys : undefined
}

/**
 * Where a new user's mint goes: the oldest batch not yet sealed that has
 * room, or none (a new window opens). The oldest first: it is the next to
 * leave.
 *
 * @since 0.1.0
 */
export const batchFor = <B extends { readonly mints: { readonly size: number } }>(
  open: ReadonlyArray<B>,
  maxBatchSize: number
): B | undefined => {
  for (const batch of open) {
    if (batch.mints.size < maxBatchSize) return batch
  }
  return undefined
}

const join = <C>(s: State<C>, caller: C, key: string, out: Array<Command<C>>): void => {
  if (s.closed) {
    out.push({ _tag: "ResumeInterrupted", callers: [caller] })
    return
  }
  const known = s.pending.get(key)
  if (known !== undefined) {
    known.callers.add(caller)
    return
  }
  const batch = batchFor(s.open, s.maxBatchSize) ?? openWindow(s, out)
  const mint: Mint<C> = { key, callers: new Set([caller]), state: "queued", batch }
  s.pending.set(key, mint)
  batch.mints.set(key, mint)
  // The caller is in before a full batch leaves: whatever ends it reaches the caller.
  if (batch.phase === "gathering" && batch.mints.size >= s.maxBatchSize) queue(s, batch, out)
}

const openWindow = <C>(s: State<C>, out: Array<Command<C>>): Batch<C> => {
  const batch: Batch<C> = {
    id: s.nextId++,
    mints: new Map(),
    phase: "gathering",
    slot: false,
    keys: undefined,
    wanted: 0
  }
  s.batches.set(batch.id, batch)
  s.gathering = batch
  s.open.push(batch)
  out.push({ _tag: "ArmWindow", batch: batch.id })
  return batch
}

/** The window's ids stop gathering: the batch waits for a slot, still taking joiners. */
const queue = <C>(s: State<C>, batch: Batch<C>, out: Array<Command<C>>): void => {
  s.gathering = undefined
  out.push({ _tag: "CancelTimer", batch: batch.id })
  batch.phase = "queued"
  s.queued.push(batch)
  startQueued(s, out)
}

const startQueued = <C>(s: State<C>, out: Array<Command<C>>): void => {
  while (!s.closed && s.queued.length > 0 && s.slots < s.concurrency) {
    const batch = s.queued.shift()!
    batch.phase = "turn"
    batch.slot = true
    s.slots++
    s.running.set(batch.id, batch)
    out.push({ _tag: "Start", batch: batch.id })
  }
}

const windowClosed = <C>(s: State<C>, id: number, out: Array<Command<C>>): void => {
  const batch = s.batches.get(id)
  // A window cancelled or already closed finds nothing of its own.
  if (batch !== undefined && batch.phase === "gathering" && s.gathering === batch) queue(s, batch, out)
}

/** The batch's turn came: its users are fixed, its request is built from them. */
const seal = <C>(s: State<C>, id: number, out: Array<Command<C>>): void => {
  const batch = s.batches.get(id)
  // After close a batch is being interrupted: it sends nothing, and arms no hold to outlive the scope.
  if (batch === undefined || batch.phase !== "turn" || s.closed) return
  batch.phase = "sent"
  drop(s.open, batch)
  batch.keys = Array.from(batch.mints.keys())
  batch.wanted = batch.keys.length
  for (const mint of batch.mints.values()) mint.state = "sent"
  out.push({ _tag: "ArmHold", batch: id })
}

/** A sent batch has been out for one hold: it stops counting against `concurrency`. */
const holdEnded = <C>(s: State<C>, id: number, out: Array<Command<C>>): void => {
  const batch = s.batches.get(id)
  if (batch === undefined || !batch.slot || s.closed) return
  freeSlot(s, batch)
  startQueued(s, out)
}

const freeSlot = <C>(s: State<C>, batch: Batch<C>): void => {
  if (!batch.slot) return
  batch.slot = false
  s.slots--
}

const settle = <C>(s: State<C>, id: number, out: Array<Command<C>>): void => {
  const batch = s.batches.get(id)
  if (batch === undefined) return
  s.running.delete(id)
  s.batches.delete(id)
  out.push({ _tag: "CancelTimer", batch: id })
  freeSlot(s, batch)
  // A batch that failed before its turn came was still open.
  if (batch.phase === "turn") drop(s.open, batch)
  const settled: Array<Mint<C>> = []
  for (const mint of batch.mints.values()) {
    if (mint.state === "done") continue
    mint.state = "done"
    if (s.pending.get(mint.key) === mint) s.pending.delete(mint.key)
    settled.push(mint)
  }
  // The next batch leaves before this one's callers are resumed: its
  // request is on the wire while they run.
  startQueued(s, out)
  for (const mint of settled) out.push({ _tag: "Resume", batch: id, key: mint.key, callers: takeCallers(mint) })
  out.push({ _tag: "Forget", batch: id })
}

/**
 * A caller gave up. Its mint goes only when nobody else waits for it: out of
 * its batch if that is not yet sealed; a batch that nobody wants any more is
 * dropped, or interrupted.
 */
const leave = <C>(s: State<C>, caller: C, key: string, out: Array<Command<C>>): void => {
  const mint = s.pending.get(key)
  // Not waiting any more (resumed already): nothing of the caller's is left.
  if (mint === undefined || !mint.callers.delete(caller) || mint.callers.size > 0) return
  const sealed = mint.state === "sent"
  mint.state = "done"
  // A later caller for the user starts a fresh mint rather than joining one
  // that may be about to be cancelled.
  s.pending.delete(key)
  const batch = mint.batch
  if (sealed) {
    batch.wanted--
    if (batch.wanted === 0) out.push({ _tag: "Interrupt", batch: batch.id })
    return
  }
  batch.mints.delete(key)
  if (batch.mints.size === 0) abandon(s, batch, out)
}

/** Nobody waits for a batch not yet sealed any more: it goes, sending nothing. */
const abandon = <C>(s: State<C>, batch: Batch<C>, out: Array<Command<C>>): void => {
  drop(s.open, batch)
  const phase = batch.phase
  batch.phase = "abandoned"
  if (phase === "turn") {
    // Waiting for its turn: interrupting it takes no turn, and the slot
    // comes free when it has ended (`Settled`).
    out.push({ _tag: "Interrupt", batch: batch.id })
    return
  }
  if (phase === "gathering") {
    s.gathering = undefined
    out.push({ _tag: "CancelTimer", batch: batch.id })
  } else {
    drop(s.queued, batch)
  }
  s.batches.delete(batch.id)
  out.push({ _tag: "Forget", batch: batch.id })
}

const close = <C>(s: State<C>, out: Array<Command<C>>): void => {
  s.closed = true
  for (const batch of s.batches.values()) {
    out.push({ _tag: "CancelTimer", batch: batch.id })
    if (s.running.has(batch.id)) continue
    s.batches.delete(batch.id)
    out.push({ _tag: "Forget", batch: batch.id })
  }
  s.gathering = undefined
  s.open.length = 0
  s.queued.length = 0
  for (const mint of s.pending.values()) {
    mint.state = "done"
    out.push({ _tag: "ResumeInterrupted", callers: takeCallers(mint) })
  }
  s.pending.clear()
  for (const id of s.running.keys()) out.push({ _tag: "Interrupt", batch: id })
}

const takeCallers = <C>(mint: Mint<C>): ReadonlyArray<C> => {
  const callers = Array.from(mint.callers)
  mint.callers.clear()
  return callers
}

const drop = <B>(list: Array<B>, item: B): void => {
  const at = list.indexOf(item)
  if (at >= 0) list.splice(at, 1)
}

/**
 * A view of the state, for tests.
 *
 * @since 0.1.0
 */
export interface Snapshot {
  readonly window: ReadonlyArray<string> | undefined
  /** Batches waiting for a slot, in order. */
  readonly waiting: ReadonlyArray<ReadonlyArray<string>>
  /** Batches holding a slot, waiting for their turn. */
  readonly turn: ReadonlyArray<ReadonlyArray<string>>
  /** Sealed batches not yet settled, in the order they started, and whether each still holds a slot. */
  readonly sent: ReadonlyArray<{ readonly keys: ReadonlyArray<string>; readonly slot: boolean }>
  readonly slots: number
  readonly pending: number
  readonly closed: boolean
}

/**
 * The state as plain lists.
 *
 * @since 0.1.0
 */
export const snapshot = <C>(s: State<C>): Snapshot => {
  const keysOf = (batch: Batch<C>) => Array.from(batch.mints.keys())
  const running = Array.from(s.running.values())
  return {
    window: s.gathering === undefined ? undefined : keysOf(s.gathering),
    waiting: s.queued.map(keysOf),
    turn: running.filter((batch) => batch.phase === "turn").map(keysOf),
    sent: running.filter((batch) => batch.phase === "sent").map((batch) => ({ keys: batch.keys!, slot: batch.slot })),
    slots: s.slots,
    pending: s.pending.size,
    closed: s.closed
  }
}
