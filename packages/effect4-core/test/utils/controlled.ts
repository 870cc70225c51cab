import { Cause, Context, Effect, Exit, type Fiber, Layer, Scheduler, Scope } from "effect"
import { TestClock } from "effect/testing"

/**
 * A scheduler whose every task, from every fiber, waits in one queue (lower
 * priorities first, then in the order queued) until `step` runs it. Once
 * released, its tasks go to Effect's own scheduler.
 */
class ControlledScheduler implements Scheduler.Scheduler {
  readonly executionMode = "async" as const
  /** Queued tasks, as [priority, task], sorted by priority, stable. */
  readonly tasks: Array<readonly [number, () => void]> = []
  released = false
  readonly live = new Scheduler.MixedScheduler().makeDispatcher()
  private readonly dispatcher: Scheduler.SchedulerDispatcher = {
    scheduleTask: (task, priority) => this.scheduleTask(task, priority),
    flush: () => this.flush()
  }

  shouldYield(fiber: Fiber.Fiber<unknown, unknown>): boolean {
    return fiber.currentOpCount >= fiber.cache.maxOpsBeforeYield
  }
  makeDispatcher(): Scheduler.SchedulerDispatcher {
    return this.dispatcher
  }
  scheduleTask(task: () => void, priority: number): void {
    if (this.released) return this.live.scheduleTask(task, priority)
    let index = this.tasks.length
    while (index > 0 && this.tasks[index - 1]![0] > priority) index--
    this.tasks.splice(index, 0, [priority, task])
  }
  step(): void {
    const next = this.tasks.shift()
    next?.[1]()
  }
  flush(): void {
    while (this.tasks.length > 0) this.step()
    this.live.flush()
  }
}

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
 *
 * In Effect 4 a fiber resumed by a callback (a `Deferred` completed, a
 * `TestClock` sleep woken) runs at once, inside the call that resumes it;
 * what it then schedules (forks, yields) waits in the queue.
 */
export interface Controlled {
  /** The fibers' context: the test's, with this scheduler and a `TestClock` of its own over it. */
  readonly context: Context.Context<never>
  /** Runs every fiber until none has anything left to do. */
  readonly settle: () => void
  /** Queues `task` behind everything already queued: it runs when `settle` reaches it. */
  readonly later: (task: () => void) => void
  /** Starts `effect` and settles. */
  readonly fork: <A, E>(effect: Effect.Effect<A, E>) => Fiber.Fiber<A, E>
  /**
   * Runs `effect` to its end and settles. Only `TestClock`'s own
   * bookkeeping waits on the host's timers (it bounds its waits for the
   * fibers it woke with a live timer): while the effect is not done, the
   * host gets a turn, then the runtime settles again.
   */
  readonly run: <A, E>(effect: Effect.Effect<A, E>) => Promise<A>
  /**
   * Settles, then hands the fibers back to the default scheduler for good:
   * what is left behind (TestClock's warning fiber, say, which closing its
   * scope interrupts) must not wait forever for a `settle`.
   */
  readonly release: () => void
}

/**
 * A controlled runtime over the test's `base` context. Its `TestClock` is
 * its own (built over the controlled scheduler, so that the fibers a clock
 * step wakes are tracked through the one queue) and starts at 0.
 */
export const controlled = (base: Context.Context<never>): Controlled => {
  const scheduler = new ControlledScheduler()
  const settle = () => {
    while (scheduler.tasks.length > 0) scheduler.step()
  }
  const withScheduler = Context.add(base, Scheduler.Scheduler, scheduler)
  const clockScope = Scope.makeUnsafe()
  const built = Effect.runForkWith(withScheduler)(Layer.buildWithScope(TestClock.layer(), clockScope))
  settle()
  const clock = built.pollUnsafe()
  if (clock === undefined || Exit.isFailure(clock)) throw new Error("the controlled TestClock was not built")
  const context = Context.merge(withScheduler, clock.value)
  const fork = <A, E>(effect: Effect.Effect<A, E>) => {
    const fiber = Effect.runForkWith(context)(effect)
    settle()
    return fiber
  }
  const run = async <A, E>(effect: Effect.Effect<A, E>): Promise<A> => {
    const fiber = fork(effect)
    let exit = fiber.pollUnsafe()
    while (exit === undefined) {
      await new Promise((resume) => setTimeout(resume, 0))
      settle()
      exit = fiber.pollUnsafe()
    }
    if (Exit.isSuccess(exit)) return exit.value
    throw Cause.squash(exit.cause)
  }
  const release = () => {
    settle()
    scheduler.released = true
    Effect.runForkWith(context)(Scope.close(clockScope, Exit.void))
  }
  return { context, settle, later: (task) => scheduler.scheduleTask(task, 0), fork, run, release }
}

/**
 * Runs `body` with a maker of controlled runtimes over `base`, and releases
 * every one it made however `body` ends.
 */
export const controlling = async <A>(
  base: Context.Context<never>,
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
