import { Scrub } from "@sfox-effect/domain"

/** One service's scrubbing, threaded as one value instead of its secrets (the domain's `Scrub.Scrubber`). */
export type Scrubber = Scrub.Scrubber

/** The scrubber of a service whose secrets are `secrets`. */
export const make: (secrets?: ReadonlyArray<string>) => Scrubber = Scrub.make
