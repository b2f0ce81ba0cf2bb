/**
 * OpenAI's error body, `{"error": {"message", "type", "param", "code"}}`: what every failed answer carries,
 * and what a stream that fails after it began sends as its last event (`data: {"error": {...}}`), which the
 * official clients raise as an error.
 */
import { type APIError, errorTypeForStatus } from "../errors.js";

export interface ErrorBody {
  error: { message: string; type: string; param: string | null; code: string };
}

/** `type` is the status's own unless given (an error with a type of its own: see APIError's `type`). */
export function errorBody(status: number, message: string, code: string, param: string | null, type = errorTypeForStatus(status)): ErrorBody {
  return { error: { message, type, param, code } };
}

/**
 * The status xgate answers an error with: the upstream's own, else (no answer came) 504 for a timeout and
 * 502 for a broken or refused connection.
 */
export function reportedStatus(error: APIError): number {
  if (error.status !== undefined) return error.status;
  return error.code === "upstream_timeout" ? 504 : 502;
}

/** An APIError as OpenAI's error body. */
export function errorBodyOf(error: APIError): ErrorBody {
  return errorBody(reportedStatus(error), error.message, error.code, error.param, error.type);
}
