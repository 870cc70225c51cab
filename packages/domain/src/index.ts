/**
 * The Effect-free domain of sfox-effect: plain data in, plain data out. Every
 * edition of the library (the Effect 3 packages, and any other) runs these
 * functions in its own shell, so nothing here is ever written twice.
 *
 * Nothing in this package imports `effect`, `@effect/*` or a Node API (a lint
 * rule in eslint.config.mjs and packages/domain/test/NoEffect.test.ts enforce it).
 *
 * @since 0.1.0
 */
export * as AnswerBody from "./AnswerBody.js"
export * as BatcherMachine from "./BatcherMachine.js"
export * as Budget from "./Budget.js"
export * as ErrorText from "./ErrorText.js"
export * as Failures from "./Failures.js"
export * as LimiterMachine from "./LimiterMachine.js"
export * as LogLines from "./LogLines.js"
export * as MalformedAnswer from "./MalformedAnswer.js"
export * as Printable from "./Printable.js"
export * as RedisOptions from "./RedisOptions.js"
export * as RedisScript from "./RedisScript.js"
export * as RequestId from "./RequestId.js"
export * as RetryAfter from "./RetryAfter.js"
export * as Scrub from "./Scrub.js"
export * as ServiceOptions from "./ServiceOptions.js"
export * as SharedLimiterMachine from "./SharedLimiterMachine.js"
export * as Simulation from "./Simulation.js"
export * as SimulationAdmission from "./SimulationAdmission.js"
export * as SimulationDelivery from "./SimulationDelivery.js"
export * as SimulationFaults from "./SimulationFaults.js"
export * as SimulationLiveTokens from "./SimulationLiveTokens.js"
export * as SimulationRoutes from "./SimulationRoutes.js"
export * as SimulationTokens from "./SimulationTokens.js"
export * as SplitPlan from "./SplitPlan.js"
export * as Status from "./Status.js"
export * as TokenAnswer from "./TokenAnswer.js"
export * as TokenCachePolicy from "./TokenCachePolicy.js"
export * as TransportCode from "./TransportCode.js"
export * as UserId from "./UserId.js"
export * as Version from "./Version.js"
export * as Wire from "./Wire.js"
