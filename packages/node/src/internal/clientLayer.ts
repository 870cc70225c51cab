import type * as HttpClient from "@effect/platform/HttpClient"
import type * as Layer from "effect/Layer"
import * as NodeSfox from "../NodeSfox.js"

/**
 * The one `HttpClient` the CLI and the demo run on. Kept behind this function
 * so that moving both onto another client is a one-line change.
 */
export const clientLayer = (): Layer.Layer<HttpClient.HttpClient> => NodeSfox.httpClient
