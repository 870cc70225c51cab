import type * as HttpClientRequest from "effect/http/HttpClientRequest"
import * as Url from "effect/http/Url"
import * as Option from "effect/Option"

/** Where a request goes, as undici's `dispatch` takes it. */
export interface Target {
  readonly origin: string
  /** The path and the query: the fragment never goes on the wire. */
  readonly path: string
}

/** A request's target from its parsed URL. */
export const targetOf = (url: URL): Target => ({ origin: url.origin, path: url.pathname + url.search })

// A path and query that WHATWG URL parsing leaves as they are: only
// characters it never percent-encodes or drops (no space, quote, `#`, `\`,
// control or non-ASCII character), a query that is not empty (a lone `?` is
// dropped), and nothing that could be a dot segment (`/.`, `%2e`), which it
// would resolve. Anything else is parsed.
const plainPathAndQuery = /^(?!.*(?:\/\.|%2[eE]))\/[\w\-.~!$&()*+,;=:@%/]*(?:\?[\w\-.~!$&()*+,;=:@%/?]+)?$/

/**
 * The targets of one client's requests. Parsing each request's URL (with
 * `new URL`) was a measurable part of a request's cost, and a client's
 * requests nearly all go to one origin, as `${origin}/path`: a URL that
 * starts with the origin of the last one parsed, followed by a plain path
 * (see above), is read as it is. The origin is that of a URL parsed whole, so
 * it is in its canonical spelling; a URL that spells it otherwise (upper
 * case, an explicit default port, credentials) does not match, and is
 * parsed.
 */
export class Targets {
  private origin: string | undefined = undefined

  /** `request`'s target; throws `Url.make`'s `UrlError` (what `new URL` threw is its `cause`) for a URL that does not parse. */
  of(request: HttpClientRequest.HttpClientRequest): Target {
    const url = request.url
    const origin = this.origin
    if (
      origin !== undefined && request.urlParams.params.length === 0 && request.hash._tag === "None" &&
      url.startsWith(origin) && url.charCodeAt(origin.length) === 47 /* "/" */
    ) {
      const path = url.slice(origin.length)
      if (plainPathAndQuery.test(path)) return { origin, path }
    }
    // Parsed as `HttpClient.make` parses it, so that both clients send a request to one place.
    const parsed = Url.make(url, request.urlParams, Option.getOrUndefined(request.hash))
    if (parsed._tag === "Failure") throw parsed.failure
    const protocol = parsed.success.protocol
    // Only these have an origin spelled in the URL itself (a `file:` URL's is "null").
    if (protocol === "http:" || protocol === "https:") this.origin = parsed.success.origin
    return targetOf(parsed.success)
  }
}
