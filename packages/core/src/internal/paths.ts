/** The path of both user-token endpoints: the service calls it, the simulator answers it. */
export const tokensPath = "/v1/enterprise/user-tokens"
