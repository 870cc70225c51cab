/**
 * What the requests that reached the benchmark's sFOX spent its budget on:
 * mints (either token endpoint) against everything else (calls as a user),
 * and how many ids each mint carried. Worked out in the server's process,
 * over its recorded requests, so that only the figures cross the IPC channel.
 */
import type { SfoxSimulator } from "@sfox-effect/core/testing"

export interface MintShare {
  /** Every request that reached sFOX, refused ones (429) included. */
  readonly requests: number
  readonly byStatus: Readonly<Record<number, number>>
  /** Requests to `POST /v1/enterprise/user-tokens[/{id}]`. */
  readonly mintRequests: number
  /** The ids those requests named: 1 for a single mint, the body's `data` for a batch. */
  readonly mintedIds: number
  /** Ids per mint request: the mean batch size (a single mint is a batch of 1). */
  readonly meanBatchSize: number
  readonly medianBatchSize: number
  readonly maxBatchSize: number
  /** How many mint requests carried each number of ids. */
  readonly batchSizes: Readonly<Record<number, number>>
  /** mintRequests / requests. */
  readonly mintShare: number
}

const tokensPath = "/v1/enterprise/user-tokens"

const isMint = (request: SfoxSimulator.RecordedRequest) =>
  request.method === "POST" && (request.path === tokensPath || request.path.startsWith(`${tokensPath}/`))

export const mintShareOf = (requests: ReadonlyArray<SfoxSimulator.RecordedRequest>): MintShare => {
  const byStatus: Record<number, number> = {}
  const sizes: Array<number> = []
  for (const request of requests) {
    byStatus[request.status] = (byStatus[request.status] ?? 0) + 1
    if (isMint(request)) sizes.push(request.userIds.length)
  }
  sizes.sort((a, b) => a - b)
  const mintedIds = sizes.reduce((n, size) => n + size, 0)
  const batchSizes: Record<number, number> = {}
  for (const size of sizes) batchSizes[size] = (batchSizes[size] ?? 0) + 1
  return {
    requests: requests.length,
    byStatus,
    mintRequests: sizes.length,
    mintedIds,
    meanBatchSize: sizes.length === 0 ? 0 : mintedIds / sizes.length,
    medianBatchSize: sizes[Math.floor(sizes.length / 2)] ?? 0,
    maxBatchSize: sizes.at(-1) ?? 0,
    batchSizes,
    mintShare: requests.length === 0 ? 0 : sizes.length / requests.length
  }
}
