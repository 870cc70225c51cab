/**
 * Spans as OpenTelemetry's exporter gets them, for the Effect 4 edition's
 * tests (exported through @effect/opentelemetry 4's NodeSdk): the port of
 * test/utils/spans.ts.
 */
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
