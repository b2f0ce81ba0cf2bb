// Pydantic-style validation of JSON bodies. Xinference calls `Request.parse_obj(await request.json())` outside
// any try block, so a failure is uncaught and the client gets a text/plain 500, not a 422.
import { pydanticError, uncaughtError } from "./errors.js";
import type { ValidationIssue } from "./errors.js";
import { pythonJsonLoads } from "./python.js";

type Checked = { ok: true; value: unknown } | { ok: false; msg: string; type: string };
export type Checker = (value: unknown) => Checked;

export interface FieldRule {
  check: Checker;
  required?: boolean;
}

const ok = (value: unknown): Checked => ({ ok: true, value });

export const str: Checker = (v) =>
  typeof v === "string" ? ok(v) : { ok: false, msg: "Input should be a valid string", type: "string_type" };

/** Lax-mode int: integral numbers and numeric strings, as pydantic accepts them. */
export const int: Checker = (v) => {
  if (typeof v === "number" && Number.isInteger(v)) return ok(v);
  if (typeof v === "number") {
    return { ok: false, msg: "Input should be a valid integer, got a number with a fractional part", type: "int_from_float" };
  }
  if (typeof v === "string" && /^\s*[-+]?\d+\s*$/.test(v)) return ok(Number(v));
  if (typeof v === "string") {
    return { ok: false, msg: "Input should be a valid integer, unable to parse string as an integer", type: "int_parsing" };
  }
  return { ok: false, msg: "Input should be a valid integer", type: "int_type" };
};

const TRUE_WORDS = new Set(["1", "on", "t", "true", "y", "yes"]);
const FALSE_WORDS = new Set(["0", "off", "f", "false", "n", "no"]);

/** Lax-mode bool, shared with form parsing (FastAPI reads Form booleans the same way). */
export const bool: Checker = (v) => {
  if (typeof v === "boolean") return ok(v);
  if (v === 0 || v === 1) return ok(v === 1);
  if (typeof v === "string" && TRUE_WORDS.has(v.toLowerCase())) return ok(true);
  if (typeof v === "string" && FALSE_WORDS.has(v.toLowerCase())) return ok(false);
  return { ok: false, msg: "Input should be a valid boolean", type: "bool_parsing" };
};

export function listOf(item: Checker): Checker {
  return (v) => {
    if (!Array.isArray(v)) return { ok: false, msg: "Input should be a valid list", type: "list_type" };
    const out: unknown[] = [];
    for (const element of v) {
      const checked = item(element);
      if (!checked.ok) return checked;
      out.push(checked.value);
    }
    return ok(out);
  };
}

/** Union: the first member that accepts the value wins; otherwise the first member's error. */
export function oneOf(...members: Checker[]): Checker {
  return (v) => {
    let first: Checked | undefined;
    for (const member of members) {
      const checked = member(v);
      if (checked.ok) return checked;
      first ??= checked;
    }
    return first ?? { ok: false, msg: "Input is invalid", type: "union" };
  };
}

/** `Optional[...]`: null passes through as null. */
export function optional(check: Checker): Checker {
  return (v) => (v === null ? ok(null) : check(v));
}

export type ParsedJson = { ok: true; value: unknown } | { ok: false; message: string };

/** Parses a body like `json.loads`; the server parses once, for the request log and the route. */
export function parseJson(raw: Buffer): ParsedJson {
  return pythonJsonLoads(raw.toString("utf8"));
}

/** The body as `await request.json()` gives it: bad JSON is an uncaught JSONDecodeError (text 500). */
export function jsonBodyOf(parsed: ParsedJson): unknown {
  if (!parsed.ok) throw uncaughtError(parsed.message);
  return parsed.value;
}

export function validateBody(
  modelName: string,
  body: unknown,
  rules: Record<string, FieldRule>,
): Record<string, unknown> {
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw pydanticError(modelName, [
      { loc: modelName, msg: `Input should be a valid dictionary or instance of ${modelName}`, type: "model_type" },
    ]);
  }
  const input = body as Record<string, unknown>;
  const out: Record<string, unknown> = { ...input };
  const issues: ValidationIssue[] = [];
  for (const [name, rule] of Object.entries(rules)) {
    if (!(name in input) || input[name] === undefined) {
      if (rule.required === true) issues.push({ loc: name, msg: "Field required", type: "missing" });
      continue;
    }
    const checked = rule.check(input[name]);
    if (checked.ok) out[name] = checked.value;
    else issues.push({ loc: name, msg: checked.msg, type: checked.type });
  }
  if (issues.length > 0) throw pydanticError(modelName, issues);
  return out;
}

/** Reads a validated optional field as a given type, or the default when absent or null. */
export function field<T>(body: Record<string, unknown>, name: string, fallback: T): T {
  const value = body[name];
  return value === undefined || value === null ? fallback : (value as T);
}
