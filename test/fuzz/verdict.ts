/** What every answer must be, whatever was sent: no 5xx of xgate's own, and errors in the OpenAI shape. */

export interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

const ERROR_KEYS = ["code", "message", "param", "type"];

function errorShapeProblem(body: Buffer): string | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString("utf8"));
  } catch {
    return "the error body is not JSON";
  }
  const error = (parsed as { error?: unknown } | null)?.error;
  if (error === null || typeof error !== "object" || Object.keys(parsed as object).join() !== "error") {
    return 'the error body is not {"error": {...}}';
  }
  const fields = error as Record<string, unknown>;
  if (Object.keys(fields).sort().join() !== ERROR_KEYS.join()) return `the error has keys ${Object.keys(fields).join(", ")}, not message, type, param, code`;
  if (typeof fields.message !== "string" || fields.message === "") return "error.message is not a non-empty string";
  if (typeof fields.type !== "string") return "error.type is not a string";
  if (fields.param !== null && typeof fields.param !== "string") return "error.param is neither a string nor null";
  if (typeof fields.code !== "string") return "error.code is not a string";
  return undefined;
}

/** Why an answer is wrong, or undefined when it is fine. `upstream5xx`: the upstream answered a 5xx for this request. */
export function problemWith(answer: Answer, method: string, upstream5xx: boolean): string | undefined {
  if (answer.status >= 500 && !upstream5xx) return `${answer.status} although the upstream answered no 5xx`;
  if (answer.status < 400 || method === "HEAD") return undefined;
  const type = String(answer.headers["content-type"] ?? "");
  if (!/^application\/json\b/i.test(type)) return `error answered as content-type ${JSON.stringify(type)}, not JSON`;
  return errorShapeProblem(answer.body);
}
