/**
 * How much of an answer's body is read, and what becomes of what was read:
 * the bounds (a 2xx body's grows with the users asked for; an error's is a
 * few pages), and the text of the bytes read, cut or refused past its bound.
 * The shell reads the bytes its own way (its client's stream) and stops once
 * past the bound: the rest of a body is never read.
 *
 * @since 0.3.0
 */

/**
 * Most bytes of a non-2xx body that are read: its `error` text, or an
 * excerpt of an HTML page, is all an error keeps.
 *
 * @since 0.3.0
 */
export const maxErrorBodyBytes = 64 * 1024

/**
 * Most bytes of a 2xx body that are read, for a request of `users` ids: at
 * least 1 MiB (NodeSfox's own default limit, so the two agree), and 4 KiB
 * per id beyond that. sFOX's token object is about 150 bytes (a
 * 256-character id makes it about 400): the room is for fields sFOX may
 * add, without letting a hostile or broken server fill the memory of a
 * client that has no size limit of its own (`FetchHttpClient`).
 *
 * @since 0.3.0
 */
export const maxSuccessBodyBytes = (users: number): number => Math.max(1024 * 1024, 64 * 1024 + 4 * 1024 * users)

/**
 * The bound on the body of an answer with `status` to a request for `users` ids.
 *
 * @since 0.3.0
 */
export const bodyLimit = (status: number, users: number): number =>
  status >= 200 && status < 300 ? maxSuccessBodyBytes(users) : maxErrorBodyBytes

/**
 * The code of the cause of a 2xx body over its bound (reported as
 * `TransportError` `TooLarge`: `TransportCode` knows it).
 *
 * @since 0.3.0
 */
export const tooLargeCode = "SFOX_RESPONSE_TOO_LARGE"

/**
 * The cause of a 2xx body over its bound: its tokens could not all be
 * trusted to be there.
 *
 * @since 0.3.0
 */
export class AnswerTooLarge extends Error {
  readonly code = tooLargeCode
  constructor(readonly limit: number) {
    super(`answer body over ${limit} bytes`)
    this.name = "AnswerTooLarge"
  }
}

/**
 * Whether a declared `Content-Length` is within `maxBytes`: such a body is
 * read the client's own way (its fast path), unbounded by the shell.
 *
 * @since 0.3.0
 */
export const declaredWithin = (contentLength: string | undefined, maxBytes: number): boolean =>
  contentLength !== undefined && /^\d{1,15}$/.test(contentLength) && Number(contentLength) <= maxBytes

const decoder = new TextDecoder()

// The first `size` bytes of `chunks`, in one array.
const concat = (chunks: Iterable<Uint8Array>, size: number): Uint8Array => {
  const out = new Uint8Array(size)
  let offset = 0
  for (const chunk of chunks) {
    const part = offset + chunk.length > size ? chunk.subarray(0, size - offset) : chunk
    out.set(part, offset)
    offset += part.length
    if (offset >= size) break
  }
  return out
}

/**
 * The body's text from the `size` bytes read in `chunks` (reading stopped
 * once past `maxBytes`): all of it within the bound; past it, an error
 * answer's first `maxBytes` (only its first words are kept anyway), and a
 * 2xx answer `AnswerTooLarge`.
 *
 * @since 0.3.0
 */
export const textOf = (
  status: number,
  chunks: Iterable<Uint8Array>,
  size: number,
  maxBytes: number
): string | AnswerTooLarge => {
  if (size <= maxBytes) return decoder.decode(concat(chunks, size))
  if (status < 200 || status >= 300) return decoder.decode(concat(chunks, maxBytes))
  return new AnswerTooLarge(maxBytes)
}
