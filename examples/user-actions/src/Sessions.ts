/**
 * The example's own login: a session token (sent as `Authorization: Bearer`)
 * maps to one of our users, whose id is also their sFOX `user_id`. A real
 * service would look sessions up in its store; this one keeps a fixed table.
 */
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"

export class Sessions extends Context.Tag("@sfox-effect/example-user-actions/Sessions")<
  Sessions,
  {
    /** The user id behind a session token, if the session exists. */
    readonly userIdOf: (session: Redacted.Redacted<string>) => Effect.Effect<Option.Option<string>>
  }
>() {
  /** Sessions from a fixed table: session token → user id. */
  static readonly layer = (table: Readonly<Record<string, string>>): Layer.Layer<Sessions> => {
    const sessions = new Map(Object.entries(table))
    return Layer.succeed(Sessions, {
      userIdOf: (session) => Effect.sync(() => Option.fromNullable(sessions.get(Redacted.value(session))))
    })
  }
}

/** Two demo users, with the user ids of sFOX's documentation. */
export const demoSessions: Readonly<Record<string, string>> = {
  "session-alice": "156c5beb-7c9f-4f68-83c0-9479703ac490",
  "session-bob": "client_db29326e-5df6-4d8b-aaaa-b75dc194a0a2"
}
