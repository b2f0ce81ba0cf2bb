export const PROVIDER = "xinference";
/** How messages name the upstream. */
export const LABEL = "Xinference";
