/** Checks on what an upstream answered: a 2xx body of the wrong shape is a bad gateway, never a silent wrong result. */
import { BadGatewayError } from "../errors.js";

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

export function unexpectedResponse(provider: string, label: string, what: string): BadGatewayError {
  return new BadGatewayError(`${label} answered with an unexpected body: ${what}.`, { provider, code: "bad_response", origin: "upstream" });
}
