import type { ReadableSpan } from "@opentelemetry/sdk-trace-base"

/** Every string a span carries: name, attributes, status message, events and their attributes, links. */
export const spanStrings = (spans: ReadonlyArray<ReadableSpan>): Array<string> =>
  spans.flatMap((span) => [
    span.name,
    span.status.message ?? "",
    ...Object.entries(span.attributes).map(([k, v]) => `${k}=${String(v)}`),
    ...span.events.flatMap((event) => [
      event.name,
      ...Object.entries(event.attributes ?? {}).map(([k, v]) => `${k}=${String(v)}`)
    ]),
    ...span.links.flatMap((link) => Object.entries(link.attributes ?? {}).map(([k, v]) => `${k}=${String(v)}`))
  ])
