import { RateLimiterUnavailable, SfoxRateLimiter } from "@sfox-effect/core"
import { Budget, ErrorText, SharedLimiterMachine } from "@sfox-effect/domain"
import * as Clock from "effect/Clock"
import * as Config from "effect/Config"
import * as ConfigError from "effect/ConfigError"
import * as Deferred from "effect/Deferred"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type * as Scope from "effect/Scope"
import { Redis } from "ioredis"
import type * as RedisRateLimiter from "../RedisRateLimiter.js"
import * as Options from "./options.js"
import * as Script from "./script.js"

/** Everything one limiter's calls share: the checked options, the connection, the fallback's state. */
interface Shell {
  readonly key: string
  readonly limit: number
  readonly windowMillis: number
  readonly commandTimeoutMillis: number
  readonly defaultHoldMillis: number
  readonly where: string
  readonly scrub: (text: string) => string
  readonly redis: Redis
  readonly scripts: Script.Scripts
  readonly pollers: Effect.Semaphore
  readonly processId: string
  counter: number
  /** The last connection error ioredis reported, scrubbed: said when a command times out. */
  readonly health: { lastError: string }
  readonly fallback: { readonly limiter: SfoxRateLimiter.Service; readonly text: string } | undefined
  machine: SharedLimiterMachine.State
  /** Done when the limiter's scope closes: every wait ends, every call fails (see `make`). */
  readonly closed: Deferred.Deferred<void>
}

export const make = (
  options: RedisRateLimiter.Options
): Effect.Effect<SfoxRateLimiter.Service, ConfigError.ConfigError, Scope.Scope> =>
  Effect.gen(function*() {
    const settings = yield* Options.decode(options)
    const { commandTimeout: commandTimeoutMillis, connectTimeout: connectTimeoutMillis, limit, url } = settings
    const intervalMillis = Duration.toMillis(settings.interval)
    const defaultHoldMillis = settings.maxRequestDuration
    const fallback = yield* makeFallback(settings.fallback)
    const scrub = (text: string) => url.secrets.reduce((out, secret) => out.split(secret).join("<redacted>"), text)
    const health = { lastError: "not connected yet" }
    const redis = yield* connect({
      url: url.text,
      where: url.where,
      connectTimeoutMillis,
      commandTimeoutMillis,
      onError: (message) => health.lastError = scrub(message),
      orFallback: fallback === undefined ? "" : " (or use the fallback budget)"
    })
    const shell: Shell = {
      key: `${settings.prefix}turns`,
      limit,
      windowMillis: Budget.windowMillis(intervalMillis),
      commandTimeoutMillis,
      defaultHoldMillis,
      where: url.where,
      scrub,
      redis,
      scripts: Script.define(redis),
      pollers: yield* Effect.makeSemaphore(limit),
      processId: globalThis.crypto.randomUUID(),
      counter: 0,
      health,
      fallback: fallback?.service,
      machine: SharedLimiterMachine.initial(fallback?.windowMillis ?? 0),
      closed: yield* Deferred.make<void>()
    }
    // Added after the client's release, so run before it. A caller sleeping
    // until the next turn could free (up to `interval`), and every caller
    // queued behind it for a place among the pollers, waited out that sleep
    // after the scope had closed, and only then failed on the closed
    // connection: a new call, too, hung behind them. As the in-process
    // limiter does, a closed limiter fails every waiting and later caller
    // with RateLimiterUnavailable at once.
    yield* Effect.addFinalizer(() => Deferred.succeed(shell.closed, undefined))
    return SfoxRateLimiter.of({ withTurn: (request, options) => withTurn(shell, request, options) })
  })

const makeFallback = (budget: RedisRateLimiter.Options["fallback"]) =>
  budget === undefined
    ? Effect.succeed(undefined)
    : SfoxRateLimiter.make({ limit: budget.limit, interval: budget.interval }).pipe(
      Effect.mapError((error) =>
        ConfigError.isInvalidData(error) ? ConfigError.InvalidData(["fallback", ...error.path], error.message) : error
      ),
      Effect.map((limiter) => {
        const interval = Duration.decode(budget.interval)
        return {
          service: { limiter, text: `${budget.limit} per ${Duration.format(interval)}` },
          windowMillis: Budget.windowMillis(Duration.toMillis(interval))
        }
      })
    )

/** The client, for the life of the scope; the first connection waited for at most `connectTimeout`. */
const connect = (options: {
  readonly url: string
  readonly where: string
  readonly connectTimeoutMillis: number
  readonly commandTimeoutMillis: number
  readonly onError: (message: string) => void
  readonly orFallback: string
}) =>
  Effect.gen(function*() {
    const { commandTimeoutMillis, connectTimeoutMillis, url } = options
    const redis = yield* Effect.acquireRelease(
      Effect.sync(() => {
        const client = new Redis(url, {
          lazyConnect: true,
          // A command while Redis is away fails at once rather than queueing:
          // a queued reservation could land after its caller gave up.
          enableOfflineQueue: false,
          maxRetriesPerRequest: 0,
          connectTimeout: Math.min(connectTimeoutMillis, 10_000),
          // Reconnect for ever, at most a second apart.
          retryStrategy: (times) => Math.min(50 * times, 1_000)
        })
        // ioredis prints an error event nobody listens to; ours are reported
        // through the calls that fail.
        client.on("error", (error: Error) => {
          options.onError(error.message)
        })
        return client
      }),
      (client) =>
        Effect.promise(() =>
          client.status === "ready"
            ? client.quit().catch(() => client.disconnect())
            : Promise.resolve(client.disconnect())
        ).pipe(Effect.timeout(Duration.millis(commandTimeoutMillis * 4)), Effect.ignore)
    )
    const connected = yield* Effect.tryPromise(() => redis.connect()).pipe(
      Effect.timeout(Duration.millis(connectTimeoutMillis)),
      Effect.as(true),
      Effect.catchAll(() => Effect.succeed(false))
    )
    if (!connected) {
      yield* Effect.logWarning(
        `sfox-effect: Redis at ${options.where} did not answer within ${connectTimeoutMillis} ms; calls fail with RateLimiterUnavailable${options.orFallback} until it does`
      )
    }
    return redis
  })

const closedError = () => new RateLimiterUnavailable({ description: ErrorText.limiterClosed })

/** Fails at once once the limiter's scope has closed. */
const whileOpen = (shell: Shell): Effect.Effect<void, RateLimiterUnavailable> =>
  Effect.flatMap(Deferred.isDone(shell.closed), (closed) => closed ? Effect.fail(closedError()) : Effect.void)

/** A sleep between two asks, cut short (failing) when the limiter's scope closes. */
const pause = (shell: Shell, millis: number): Effect.Effect<void, RateLimiterUnavailable> =>
  Effect.zipRight(
    Effect.raceFirst(Effect.sleep(Duration.millis(millis)), Deferred.await(shell.closed)),
    whileOpen(shell)
  )

const unavailable = (shell: Shell, description: string) =>
  new RateLimiterUnavailable({ description: `Redis at ${shell.where}: ${shell.scrub(description)}` })

/** One script call, bounded by `SharedLimiterMachine.commandBound`. */
const call = <A, E2>(
  shell: Shell,
  run: () => Promise<A>,
  leftMillis: number,
  onLate: () => E2
): Effect.Effect<A, RateLimiterUnavailable | E2> => {
  const bound = SharedLimiterMachine.commandBound(leftMillis, shell.commandTimeoutMillis)
  return Effect.tryPromise({
    try: run,
    catch: (error) => unavailable(shell, error instanceof Error ? error.message : "the command failed")
  }).pipe(
    Effect.timeoutFail({
      duration: Duration.millis(bound.millis),
      onTimeout: (): RateLimiterUnavailable | E2 =>
        bound.callerBound
          ? onLate()
          : unavailable(shell, `no answer within ${bound.millis} ms (last error: ${shell.health.lastError})`)
    })
  )
}

/**
 * Takes a turn: asks the script, and while it says none is free, sleeps
 * for as long as it says none can free, within the caller's wait.
 */
const acquire = <E2>(
  shell: Shell,
  member: string,
  holdMillis: number,
  options: SfoxRateLimiter.TurnOptions<E2>
): Effect.Effect<void, E2 | RateLimiterUnavailable> =>
  Effect.flatMap(Clock.currentTimeMillis, (startedAt) => {
    const deadlineAt = startedAt + options.maxWaitMillis
    const ask = () => shell.scripts.acquire(shell.key, shell.limit, shell.windowMillis, holdMillis, member)
    const loop: Effect.Effect<void, E2 | RateLimiterUnavailable> = Effect.flatMap(
      Effect.zipRight(whileOpen(shell), Clock.currentTimeMillis),
      (askedAt) =>
        Effect.flatMap(call(shell, ask, deadlineAt - askedAt, options.onLate), (wait) =>
          Effect.flatMap(Clock.currentTimeMillis, (now) => {
            const next = SharedLimiterMachine.afterAnswer(wait, now, deadlineAt)
            return next._tag === "Granted"
              ? Effect.void
              : next._tag === "Late"
              ? Effect.fail(options.onLate())
              : Effect.zipRight(pause(shell, next.millis), loop)
          }))
    )
    // At most `limit` callers of this process ask Redis at a time: no more
    // turns than that can free in one window, and a crowd of waiters polling
    // at the same instant would only load Redis. The wait for a place among
    // them counts against the caller's time too.
    const polled = shell.pollers.withPermits(1)(loop)
    return Number.isFinite(options.maxWaitMillis)
      ? Effect.timeoutFail(polled, {
        duration: Duration.millis(Math.max(0, options.maxWaitMillis)),
        onTimeout: options.onLate
      })
      : polled
  })

/**
 * A turn of the shared budget: a reservation taken before the request, moved
 * to the request's end after it, cancelled if the request is never sent.
 */
const viaRedis = <A, E, R, E2>(
  shell: Shell,
  request: Effect.Effect<A, E, R>,
  options: SfoxRateLimiter.TurnOptions<E2>
): Effect.Effect<A, E | E2 | RateLimiterUnavailable, R> =>
  Effect.uninterruptibleMask((restore) => {
    const member = `${shell.processId}:${shell.counter++}`
    const holdMillis = options.maxDurationMillis ?? shell.defaultHoldMillis
    return restore(acquire(shell, member, holdMillis, options)).pipe(
      // Interrupted or out of time while asking: the turn may have been
      // taken all the same; a request never sent needs none. The command
      // runs after the reservation on this one connection.
      Effect.onError(() => Effect.sync(() => void shell.scripts.cancel(shell.key, member).catch(() => {}))),
      Effect.zipRight(
        Effect.ensuring(
          restore(request),
          // Not awaited: the turn's window runs from when Redis hears of
          // the end, later than the end itself; if Redis never hears of
          // it, the reservation runs out after its hold.
          Effect.sync(() => void shell.scripts.release(shell.key, member, shell.windowMillis).catch(() => {}))
        )
      )
    )
  })

/** Feeds the fallback machine one event; its commands are the caller's to run. */
const feed = (shell: Shell, event: SharedLimiterMachine.Event, now: number) => {
  const { commands, state } = SharedLimiterMachine.step(shell.machine, event, now)
  shell.machine = state
  return commands
}

const viaFallback = <A, E, R, E2>(
  shell: Shell,
  limiter: SfoxRateLimiter.Service,
  request: Effect.Effect<A, E, R>,
  options: SfoxRateLimiter.TurnOptions<E2>
) =>
  Effect.suspend(() => {
    feed(shell, { _tag: "FallbackStarted" }, 0)
    return limiter.withTurn(request, options).pipe(
      Effect.ensuring(Effect.flatMap(Clock.currentTimeMillis, (now) =>
        Effect.sync(() => {
          feed(shell, { _tag: "FallbackEnded" }, now)
        })))
    )
  })

/** Runs what the fallback machine decided for one call, in order. */
const runCommands = <A, E, R, E2>(
  shell: Shell,
  commands: ReadonlyArray<SharedLimiterMachine.Command>,
  request: Effect.Effect<A, E, R>,
  options: SfoxRateLimiter.TurnOptions<E2>,
  reason = ""
): Effect.Effect<A, E | E2 | RateLimiterUnavailable, R> => {
  const [command, ...rest] = commands
  switch (command?._tag) {
    case "WarnEngaged":
      return Effect.zipRight(
        Effect.logWarning(
          `sfox-effect: the shared sFOX budget is unavailable (${reason}); this process now keeps to its fallback budget of ${
            shell
              .fallback!.text
          } until Redis answers again`
        ),
        runCommands(shell, rest, request, options, reason)
      )
    case "WarnBack":
      return Effect.zipRight(
        Effect.logWarning(`sfox-effect: Redis at ${shell.where} answers again; back on the shared budget`),
        runCommands(shell, rest, request, options, reason)
      )
    case "UseFallback":
      return viaFallback(shell, shell.fallback!.limiter, request, options)
    case "WaitThenAsk":
      return Effect.zipRight(
        pause(shell, command.millis),
        withTurn(shell, request, { ...options, maxWaitMillis: command.maxWaitMillis })
      )
    case "Late":
      return Effect.fail(options.onLate())
    case "UseShared":
    case undefined:
      return sharedOrFallback(shell, request, options)
  }
}

/** The shared budget; a failure of its own (never the request's) engages the fallback. */
const sharedOrFallback = <A, E, R, E2>(
  shell: Shell,
  request: Effect.Effect<A, E, R>,
  options: SfoxRateLimiter.TurnOptions<E2>
): Effect.Effect<A, E | E2 | RateLimiterUnavailable, R> =>
  Effect.catchIf(
    viaRedis(shell, request, options),
    (error): error is RateLimiterUnavailable =>
      error instanceof RateLimiterUnavailable && error.description.startsWith(`Redis at ${shell.where}:`),
    (error) =>
      Effect.suspend(() =>
        runCommands(shell, feed(shell, { _tag: "SharedFailed" }, 0), request, options, error.description)
      )
  )

const withTurn = <A, E, R, E2>(
  shell: Shell,
  request: Effect.Effect<A, E, R>,
  options: SfoxRateLimiter.TurnOptions<E2>
): Effect.Effect<A, E | E2 | RateLimiterUnavailable, R> => {
  if (shell.fallback === undefined) return Effect.zipRight(whileOpen(shell), viaRedis(shell, request, options))
  return Effect.flatMap(Effect.zipRight(whileOpen(shell), Clock.currentTimeMillis), (now) =>
    runCommands(
      shell,
      feed(
        shell,
        { _tag: "Ask", redisReady: shell.redis.status === "ready", maxWaitMillis: options.maxWaitMillis },
        now
      ),
      request,
      options
    ))
}

export const layer = (options: RedisRateLimiter.Options): Layer.Layer<SfoxRateLimiter, ConfigError.ConfigError> =>
  Layer.scoped(SfoxRateLimiter, make(options))

export const layerConfig = (
  options: RedisRateLimiter.ConfigOptions
): Layer.Layer<SfoxRateLimiter, ConfigError.ConfigError> => {
  const { url = Config.redacted("SFOX_REDIS_URL"), ...rest } = options
  return Layer.scoped(SfoxRateLimiter, Effect.flatMap(url, (url) => make({ ...rest, url })))
}
