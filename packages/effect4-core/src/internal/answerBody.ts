import { AnswerBody } from "@sfox-effect/domain"
import * as Effect from "effect/Effect"
import * as HttpClientError from "effect/http/HttpClientError"
import type * as HttpClientResponse from "effect/http/HttpClientResponse"
import * as Stream from "effect/Stream"

/**
 * The shell of the domain's `AnswerBody` (the bounds, and what becomes of
 * the bytes read): here the body is read from Effect's response.
 */

/** Most bytes of a non-2xx body that are read. */
export const maxErrorBodyBytes = AnswerBody.maxErrorBodyBytes

/** Most bytes of a 2xx body that are read, for a request of `users` ids. */
export const maxSuccessBodyBytes = AnswerBody.maxSuccessBodyBytes

/** The bound on the body of an answer with `status` to a request for `users` ids. */
export const bodyLimit = AnswerBody.bodyLimit

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
  if (AnswerBody.declaredWithin(response.headers["content-length"], maxBytes)) return response.text
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
        const text = AnswerBody.textOf(response.status, chunks, size, maxBytes)
        return typeof text === "string"
          ? Effect.succeed(text)
          : Effect.fail(
            new HttpClientError.HttpClientError({
              reason: new HttpClientError.DecodeError({ request: response.request, response, cause: text })
            })
          )
      })
    )
  })
}
