/** Where `AttemptDeadline` reads an attempt's deadline: `clientAbilities.ts` holds it. */
export { deadlines } from "./clientAbilities.js"
