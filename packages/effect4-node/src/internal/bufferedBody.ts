/**
 * A response body as undici delivers it, kept in memory: written by the
 * request's dispatch handler (`internal/exchange.ts`), read by every
 * accessor of its response (`internal/undiciResponse.ts`).
 *
 * Buffered rather than a `Readable`: an sFOX answer is small and always read
 * whole, and a stream per response (with its promise for `bytes()`) was a
 * measurable part of a request's cost. Nothing here holds the response, so a
 * response dropped unread can still be collected (and its request aborted).
 */
export abstract class BufferedBody {
  /** Every chunk so far, in order; kept whole so that a `stream` reader mid-way never loses its place. */
  readonly chunks: Array<Uint8Array> = []
  /** undici delivered the end of the body. */
  ended = false
  /** Why the body cannot be read whole; set once (but a refusal wins over anything). */
  failure: Error | undefined = undefined
  private size = 0
  private whole: Uint8Array | undefined = undefined
  // Readers waiting for the end (or the failure), and `stream` pulls waiting for any change.
  private endWaiters: Array<() => void> | undefined = undefined
  private changeWaiters: Array<() => void> | undefined = undefined

  /**
   * Ends the request now, dropping its connection (a half-read one cannot go
   * back to the pool); the body then fails, unless it had already settled.
   */
  abstract abort(reason?: Error): void

  /** Whether anything more can happen to the body: its end or its failure. */
  get settled(): boolean {
    return this.ended || this.failure !== undefined
  }

  /** The whole body, once settled; throws its failure. Concatenated once, for every reader. */
  bytes(): Uint8Array {
    if (this.failure !== undefined) throw this.failure
    if (this.whole !== undefined) return this.whole
    const chunks = this.chunks
    return this.whole = chunks.length === 1
      ? chunks[0]!
      : chunks.length === 0
      ? new Uint8Array(0)
      : Buffer.concat(chunks, this.size)
  }

  /** Calls `wake` once the body settles: it must be unsettled now. */
  onSettled(wake: () => void): void {
    ;(this.endWaiters ??= []).push(wake)
  }

  /** Calls `wake` once at the next chunk, end or failure: the body must be unsettled now. */
  onChange(wake: () => void): void {
    ;(this.changeWaiters ??= []).push(wake)
  }

  protected push(chunk: Uint8Array): void {
    this.chunks.push(chunk)
    this.size += chunk.length
    const waiters = this.changeWaiters
    if (waiters !== undefined) {
      this.changeWaiters = undefined
      this.wake(waiters)
    }
  }

  protected end(): void {
    if (this.settled) return
    this.ended = true
    this.wakeAll()
  }

  protected fail(error: Error): void {
    if (this.settled) return
    this.failure = error
    this.wakeAll()
  }

  /**
   * Refuses the body with `error` whatever has happened to it (the size
   * check: its failure must be what every later reader sees), aborting the
   * request if it is still running.
   */
  refuse(error: Error): void {
    this.abort(error)
    this.failure = error
    this.wakeAll()
  }

  private wakeAll(): void {
    const ends = this.endWaiters
    const changes = this.changeWaiters
    this.endWaiters = this.changeWaiters = undefined
    if (ends !== undefined) this.wake(ends)
    if (changes !== undefined) this.wake(changes)
  }

  /**
   * Calls `wakers`, each a reader's resume. Effect 4 runs a fiber resumed
   * from a callback at once, on the caller's stack: a subclass fed from a
   * place where its readers' code must not run (undici's parser) defers this.
   */
  protected wake(wakers: ReadonlyArray<() => void>): void {
    for (const wake of wakers) wake()
  }
}
