import * as Effect from "effect/Effect"
import * as HttpClientError from "effect/http/HttpClientError"
import type * as HttpClientResponse from "effect/http/HttpClientResponse"
import * as Stream from "effect/Stream"

/**
 * Most bytes of a non-2xx body that are read: its `error` text, or an
 * excerpt of an HTML page, is all an error keeps.
 */
export const maxErrorBodyBytes = 64 * 1024

/**
 * Most bytes of a 2xx body that are read, for a request of `users` ids: at
 * least 1 MiB (NodeSfox's own default limit, so the two agree), and 4 KiB
 * per id beyond that. sFOX's token object is about 150 bytes (a
 * 256-character id makes it about 400): the room is for fields sFOX may
 * add, without letting a hostile or broken server fill the memory of a
 * client that has no size limit of its own (`FetchHttpClient`).
 */
export const maxSuccessBodyBytes = (users: number): number => Math.max(1024 * 1024, 64 * 1024 + 4 * 1024 * users)

/** The bound on the body of an answer with `status` to a request for `users` ids. */
export const bodyLimit = (status: number, users: number): number =>
  status >= 200 && status < 300 ? maxSuccessBodyBytes(users) : maxErrorBodyBytes

/** The code of the cause of a 2xx body over its bound (reported as `TransportError` `TooLarge`). */
const tooLargeCode = "SFOX_RESPONSE_TOO_LARGE"

class AnswerTooLarge extends Error {
  readonly code = tooLargeCode
  constructor(readonly limit: number) {
    super(`answer body over ${limit} bytes`)
    this.name = "AnswerTooLarge"
  }
}

const decoder = new TextDecoder()

const concat = (chunks: ReadonlyArray<Uint8Array>, size: number): Uint8Array => {
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
 * The body as text, bounded whatever the client's own limit: at most
 * `maxBytes` bytes are read. Past them a 2xx fails (its tokens could not
 * all be trusted to be there) and any other answer is cut (only its first
 * words are kept anyway); the rest is not read, and the connection is
 * dropped. A body whose declared length is within the bound is read the
 * client's own way (the fast path of `NodeSfox`'s client).
 */
export const readBody = (
  response: HttpClientResponse.HttpClientResponse,
  maxBytes: number
): Effect.Effect<string, HttpClientError.HttpClientError> => {
  const declared = response.headers["content-length"]
  if (declared !== undefined && /^\d{1,15}$/.test(declared) && Number(declared) <= maxBytes) return response.text
  return Effect.suspend(() => {
    const chunks: Array<Uint8Array> = []
    let size = 0
    return response.stream.pipe(
      // Stops pulling once past the bound: the rest of the body is never read.
      Stream.runForEachWhile((bytes) =>
        Effect.sync(() => {
          chunks.push(bytes)
          size += bytes.length
          return size <= maxBytes
        })
      ),
      Effect.flatMap(() => {
        if (size <= maxBytes) return Effect.succeed(decoder.decode(concat(chunks, size)))
        if (response.status < 200 || response.status >= 300) {
          return Effect.succeed(decoder.decode(concat(chunks, maxBytes)))
        }
        return Effect.fail(
          new HttpClientError.HttpClientError({
            reason: new HttpClientError.DecodeError({
              request: response.request,
              response,
              cause: new AnswerTooLarge(maxBytes)
            })
          })
        )
      })
    )
  })
}
