/**
 * A persistent first-in first-out queue (two lists, the back one reversed
 * into the front when the front runs out): push and pop in O(1) amortized,
 * without copying, so that a pure transition can return a new queue on the
 * path of every request.
 */
interface Cons<A> {
  readonly head: A
  readonly tail: List<A>
}
type List<A> = Cons<A> | undefined

export interface Fifo<A> {
  readonly front: List<A>
  readonly back: List<A>
  readonly size: number
}

export const empty: Fifo<never> = { front: undefined, back: undefined, size: 0 }

const reverse = <A>(list: List<A>): List<A> => {
  let out: List<A> = undefined
  for (let at = list; at !== undefined; at = at.tail) out = { head: at.head, tail: out }
  return out
}

// The front is never empty while the queue is not: `peek` is then O(1).
const normal = <A>(front: List<A>, back: List<A>, size: number): Fifo<A> =>
  front === undefined ? { front: reverse(back), back: undefined, size } : { front, back, size }

export const push = <A>(queue: Fifo<A>, value: A): Fifo<A> =>
  normal(queue.front, { head: value, tail: queue.back }, queue.size + 1)

export const peek = <A>(queue: Fifo<A>): A | undefined => queue.front?.head

/** The queue without its first element (the same queue when empty). */
export const pop = <A>(queue: Fifo<A>): Fifo<A> =>
  queue.front === undefined ? queue : normal(queue.front.tail, queue.back, queue.size - 1)

export const toArray = <A>(queue: Fifo<A>): Array<A> => {
  const out: Array<A> = []
  for (let at = queue.front; at !== undefined; at = at.tail) out.push(at.head)
  const back: Array<A> = []
  for (let at = queue.back; at !== undefined; at = at.tail) back.push(at.head)
  return out.concat(back.reverse())
}

export const fromArray = <A>(values: ReadonlyArray<A>): Fifo<A> => {
  let front: List<A> = undefined
  for (let i = values.length - 1; i >= 0; i--) front = { head: values[i]!, tail: front }
  return { front, back: undefined, size: values.length }
}

/** The queue without the first element that `matches`: O(1) at the head, O(n) elsewhere. */
export const remove = <A>(queue: Fifo<A>, matches: (value: A) => boolean): Fifo<A> => {
  const head = peek(queue)
  if (head !== undefined && matches(head)) return pop(queue)
  const values = toArray(queue)
  const at = values.findIndex(matches)
  if (at < 0) return queue
  values.splice(at, 1)
  return fromArray(values)
}

/** The first element that `matches`, if any. */
export const find = <A>(queue: Fifo<A>, matches: (value: A) => boolean): A | undefined => {
  for (let at = queue.front; at !== undefined; at = at.tail) if (matches(at.head)) return at.head
  for (let at = queue.back; at !== undefined; at = at.tail) if (matches(at.head)) return at.head
  return undefined
}
