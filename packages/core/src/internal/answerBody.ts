import * as HttpClientError from "@effect/platform/HttpClientError"
import type * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import { AnswerBody } from "@sfox-effect/domain"
import * as Chunk from "effect/Chunk"
import * as Effect from "effect/Effect"
import * as Stream from "effect/Stream"

/**
 * The shell of the domain's `AnswerBody` (the bounds, and what becomes of
 * the bytes read): here the body is read from the platform's response.
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
): Effect.Effect<string, HttpClientError.ResponseError> => {
  if (AnswerBody.declaredWithin(response.headers["content-length"], maxBytes)) return response.text
  return response.stream.pipe(
    Stream.runFoldWhile(
      { chunks: Chunk.empty<Uint8Array>(), size: 0 },
      (state) => state.size <= maxBytes,
      (state, bytes: Uint8Array) => ({ chunks: Chunk.append(state.chunks, bytes), size: state.size + bytes.length })
    ),
    Effect.flatMap(({ chunks, size }) => {
      const text = AnswerBody.textOf(response.status, chunks, size, maxBytes)
      return typeof text === "string"
        ? Effect.succeed(text)
        : Effect.fail(
          new HttpClientError.ResponseError({ request: response.request, response, reason: "Decode", cause: text })
        )
    })
  )
}
