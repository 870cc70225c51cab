import type * as HttpBody from "effect/http/HttpBody"

/**
 * Whether a request with `body` can be sent again carrying the same bytes:
 * the one rule for every path that sends a request twice (a retry after a
 * failure or an unwelcome answer, the new token after a 401). A body that
 * cannot is sent once, and its caller gets the first answer: sent again, it
 * would go out empty (or cut), and the caller would get the answer to a
 * request it never made.
 *
 * Effect 4's bodies are the five kinds of 3.x: `Empty`, `Uint8Array`, `Raw`,
 * `FormData` and `Stream`. Replayable: no body, bytes (`HttpBody.text`,
 * `json`, `jsonUnsafe`, `urlParams`, `uint8Array`: a `Uint8Array` body keeps
 * its text or its bytes, and encodes the text once), and a `Raw` or
 * `FormData` body (`formData`, `formDataRecord`) made of strings, bytes and
 * `Blob`s (a `File` is one). A `Blob` is immutable and read from its start by
 * each send (a file behind one that changed fails to read: an error, not
 * other bytes). Not replayable: a `Stream` (`stream`, and `file` /
 * `fileFromInfo`, which are streams: an Effect stream may be over a source
 * that is read once, and nothing tells), and a `Raw` of anything else (a Node
 * `Readable`, an async iterable, a `ReadableStream`, a generator, or a value
 * of unknown kind: a body is not sent twice on a guess).
 */
export const isReplayable = (body: HttpBody.HttpBody): boolean => {
  switch (body._tag) {
    case "Empty":
    case "Uint8Array":
      return true
    case "Raw":
      return isReplayableValue(body.body)
    case "FormData":
      return isReplayableForm(body.formData)
    case "Stream":
      return false
  }
}

/** A `Raw` body's value: what a client sends as it is. */
const isReplayableValue = (value: unknown): boolean =>
  value === null || value === undefined || typeof value === "string" || isBytes(value) || isBlob(value) ||
  (typeof FormData === "function" && value instanceof FormData && isReplayableForm(value))

const isBytes = (value: unknown): boolean => ArrayBuffer.isView(value) || value instanceof ArrayBuffer

const isBlob = (value: unknown): boolean => typeof Blob === "function" && value instanceof Blob

/** A form's entries are strings and `File`s by the standard; a stand-in's may be anything. */
const isReplayableForm = (form: FormData): boolean => {
  if (typeof form.forEach !== "function") return false
  let replayable = true
  form.forEach((value) => {
    if (typeof value !== "string" && !isBlob(value)) replayable = false
  })
  return replayable
}
