/**
 * The scripted faults the shared cases use, as the constructors each edition
 * already has (`Fault` from its `testing` module): a table written against
 * `Faults<F>` is built once per edition with that edition's own values.
 */
export interface Faults<F> {
  status(
    status: number,
    options?: { readonly body?: string | object; readonly headers?: Readonly<Record<string, string>> }
  ): F
  malformed(body: string, status?: number): F
  batch(mode: "drop" | "add" | "duplicate" | "mislabel"): F
  oversize(bytes: number): F
  reset(): F
  resetAfterHeaders(): F
  noAnswer(): F
  shortBody(): F
}

/** What the shared checks read of a request the simulator recorded (both editions record more). */
export interface Recorded {
  readonly path: string
  readonly userIds: ReadonlyArray<string>
  readonly headers: Readonly<Record<string, string | undefined>>
  readonly body: string
  readonly status: number
}

/** A call's outcome, edition-free: the token's user, or the typed failure. */
export type Outcome =
  | { readonly ok: true; readonly userId: string }
  | { readonly ok: false; readonly error: { readonly _tag: string; readonly message: string } }

/** The three ways a caller gets a token for one user. */
export type Method = "create" | "createMany" | "get"
export const methods: ReadonlyArray<Method> = ["create", "createMany", "get"]
