import { Cause, type Effect, Exit, type Fiber, FiberRef, Runtime, Scheduler } from "effect"

/**
 * A runtime whose fibers run only when the test lets them: every task they
 * schedule (a start, a resumption, a yield) waits in one queue until
 * `settle` runs it.
 *
 * `settle` runs tasks until the queue is empty. Then every fiber of the
 * runtime is done or suspended on something outside it (a `Deferred` the
 * test holds, a `TestClock` sleep, a callback), so nothing more can happen
 * until the test acts: a test can say "nothing else happened" without
 * counting yields and hoping they were enough.
 */
export interface Controlled {
  readonly runtime: Runtime.Runtime<never>
  /** Runs every fiber until none has anything left to do. */
  readonly settle: () => void
  /** Queues `task` behind everything already queued: it runs when `settle` reaches it. */
  readonly later: (task: () => void) => void
  /** Starts `effect` and settles. */
  readonly fork: <A, E>(effect: Effect.Effect<A, E>) => Fiber.RuntimeFiber<A, E>
  /**
   * Runs `effect` to its end and settles. Only `TestClock`'s own
   * bookkeeping waits on the host's timers (it yields to the host between
   * steps): while the effect is not done, the host gets a turn, then the
   * runtime settles again.
   */
  readonly run: <A, E>(effect: Effect.Effect<A, E>) => Promise<A>
  /**
   * Settles, then hands the fibers back to the default scheduler for good:
   * what is left behind (TestClock's warning fiber, say, which the test's
   * finalizers interrupt) must not wait forever for a `settle`.
   */
  readonly release: () => void
}

export const controlled = (base: Runtime.Runtime<never>): Controlled => {
  const scheduler = new Scheduler.ControlledScheduler()
  const runtime = Runtime.setFiberRef(base, FiberRef.currentScheduler, scheduler)
  const settle = () => {
    while (scheduler.tasks.buckets.length > 0) scheduler.step()
  }
  const fork = <A, E>(effect: Effect.Effect<A, E>) => {
    const fiber = Runtime.runFork(runtime)(effect)
    settle()
    return fiber
  }
  const run = async <A, E>(effect: Effect.Effect<A, E>): Promise<A> => {
    const fiber = fork(effect)
    let exit = fiber.unsafePoll()
    while (exit === null) {
      await new Promise((resume) => setTimeout(resume, 0))
      settle()
      exit = fiber.unsafePoll()
    }
    if (Exit.isSuccess(exit)) return exit.value
    throw Cause.squash(exit.cause)
  }
  const release = () => {
    settle()
    scheduler.deferred = true
  }
  return { runtime, settle, later: (task) => scheduler.scheduleTask(task, 0), fork, run, release }
}

/**
 * Runs `body` with a maker of controlled runtimes over `base`, and releases
 * every one it made however `body` ends.
 */
export const controlling = async <A>(
  base: Runtime.Runtime<never>,
  body: (make: () => Controlled) => Promise<A>
): Promise<A> => {
  const made: Array<Controlled> = []
  try {
    return await body(() => {
      const c = controlled(base)
      made.push(c)
      return c
    })
  } finally {
    for (const c of made) c.release()
  }
}
