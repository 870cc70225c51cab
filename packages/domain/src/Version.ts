/**
 * The version of the domain package (kept equal to the packages built on it).
 *
 * @since 0.1.0
 */
export const version = "0.1.0"
