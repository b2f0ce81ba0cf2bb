// Errors as Xinference's FastAPI server renders them: `{"detail": ...}` JSON for HTTPException, FastAPI's
// list form for 422, and text/plain "Internal Server Error: <exc>" for anything uncaught (its 500 handler).

export const JSON_TYPE = "application/json";
export const TEXT_TYPE = "text/plain; charset=utf-8";

export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly body: string,
    readonly contentType: string = JSON_TYPE,
    readonly headers: Record<string, string> = {},
    /** The `detail` of a JSON error, for places that re-render it (an SSE `error` event). */
    readonly detail?: unknown,
  ) {
    super(`HTTP ${status}: ${body}`);
  }
}

/** `raise HTTPException(status_code=status, detail=detail)` */
export function detailError(status: number, detail: unknown, headers?: Record<string, string>): HttpError {
  return new HttpError(status, JSON.stringify({ detail }), JSON_TYPE, headers, detail);
}

/** An exception no handler caught: Xinference's 500 handler answers in plain text. */
export function uncaughtError(message: string): HttpError {
  return new HttpError(500, `Internal Server Error: ${message}`, TEXT_TYPE);
}

export interface ValidationIssue {
  loc: string;
  msg: string;
  type: string;
}

/** A pydantic `ValidationError` raised by `Model.parse_obj(await request.json())`: uncaught, so a text 500. */
export function pydanticError(modelName: string, issues: ValidationIssue[]): HttpError {
  const count = `${issues.length} validation error${issues.length === 1 ? "" : "s"}`;
  const lines = issues.map((issue) => `${issue.loc}\n  ${issue.msg} [type=${issue.type}]`);
  return uncaughtError(`${count} for ${modelName}\n${lines.join("\n")}`);
}

export interface FormIssue {
  type: string;
  loc: [string, string];
  msg: string;
  input: unknown;
}

/** FastAPI's request validation error for form and file parameters. */
export function formValidationError(issues: FormIssue[]): HttpError {
  return new HttpError(422, JSON.stringify({ detail: issues }));
}

export function missingField(field: string): FormIssue {
  return { type: "missing", loc: ["body", field], msg: "Field required", input: null };
}

/** An engine-side exception: the route catches it and answers 500 with its text as detail. */
export function engineError(message: string): HttpError {
  return detailError(500, message);
}

/** What `asyncio.CancelledError` becomes in the image and rerank routes. */
export function cancelledError(requestId: string | undefined): HttpError {
  return detailError(409, `The request has been cancelled: ${requestId ?? "unknown"}`);
}
