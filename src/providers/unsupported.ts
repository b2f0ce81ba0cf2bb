import { UnsupportedParamsError } from "../errors.js";

/**
 * Fails with UnsupportedParamsError naming every given parameter the provider cannot take, unless
 * `dropParams` says to drop them. A parameter counts as given unless it is undefined or null.
 */
export function rejectUnsupported(
  provider: string,
  operation: string,
  params: Record<string, unknown>,
  dropParams: boolean,
): void {
  if (dropParams) return;
  const given = Object.keys(params).filter((name) => params[name] !== undefined && params[name] !== null);
  if (given.length === 0) return;
  const names = given.map((name) => `'${name}'`).join(", ");
  throw new UnsupportedParamsError(
    `${provider} does not support ${given.length === 1 ? "the parameter" : "the parameters"} ${names} for ${operation}. ` +
      "Remove it, or pass drop_params: true to drop unsupported parameters.",
    { provider, param: given[0] ?? null },
  );
}
