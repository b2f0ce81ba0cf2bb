/** Checks of OpenAI-level parameters, so that a bad request fails with a 400 that says how to fix it before any upstream call. */
import { BadRequestError } from "../errors.js";
import type { ImageSize } from "../providers/index.js";
import { isRecord } from "../providers/shape.js";
import type { ImageResponseFormat } from "../types.js";

function given(value: unknown): boolean {
  return value !== undefined && value !== null;
}

/** A value as a message shows it: strings quoted, NaN as NaN (JSON would say null). */
function shown(value: unknown): string {
  return typeof value === "number" ? String(value) : JSON.stringify(value);
}

export function requiredString(value: unknown, param: string, example: string): string {
  if (typeof value !== "string" || value.trim() === "") {
    throw new BadRequestError(`${param} is required: a non-empty string, e.g. ${example}.`, { param });
  }
  return value;
}

export function optionalString(value: unknown, param: string): string | undefined {
  if (!given(value)) return undefined;
  if (typeof value !== "string") throw new BadRequestError(`${param} must be a string.`, { param });
  return value;
}

export function optionalInteger(value: unknown, param: string, min: number, max = Number.MAX_SAFE_INTEGER): number | undefined {
  if (!given(value)) return undefined;
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `≥ ${min}` : `from ${min} to ${max}`;
    throw new BadRequestError(`${param} must be a whole number ${range}, not ${shown(value)}.`, { param });
  }
  return value;
}

export function optionalBoolean(value: unknown, param: string): boolean | undefined {
  if (!given(value)) return undefined;
  if (typeof value !== "boolean") throw new BadRequestError(`${param} must be true or false.`, { param });
  return value;
}

/** OpenAI's range for `n` on image calls. */
export function imageCount(value: unknown): number | undefined {
  return optionalInteger(value, "n", 1, 10);
}

/** `1024x1024`, also Xinference's own `1024*1024`. */
export function imageSize(value: unknown): ImageSize | undefined {
  if (!given(value)) return undefined;
  const match = typeof value === "string" ? /^\s*(\d{1,5})\s*[xX*×]\s*(\d{1,5})\s*$/.exec(value) : null;
  const width = Number(match?.[1]);
  const height = Number(match?.[2]);
  if (match === null || width < 1 || height < 1) {
    throw new BadRequestError(`size must be WIDTHxHEIGHT in pixels, e.g. "1024x1024", not ${shown(value)}.`, {
      param: "size",
    });
  }
  return { width, height };
}

/** Default `b64_json`: the Vercel AI SDK reads nothing else, and sends no response_format on edits. */
export function responseFormat(value: unknown): ImageResponseFormat {
  if (!given(value)) return "b64_json";
  if (value === "b64_json" || value === "url") return value;
  throw new BadRequestError(`response_format must be "b64_json" or "url", not ${shown(value)}.`, {
    param: "response_format",
  });
}

/** A number from `min` to `max`, both included. */
export function optionalNumber(value: unknown, param: string, min: number, max: number): number | undefined {
  if (!given(value)) return undefined;
  if (typeof value !== "number" || !Number.isFinite(value) || value < min || value > max) {
    throw new BadRequestError(`${param} must be a number from ${min} to ${max}, not ${shown(value)}.`, { param });
  }
  return value;
}

/** One of `allowed`, or `fallback` when not given. */
export function oneOf<T extends string>(value: unknown, param: string, allowed: readonly T[], fallback: T): T {
  if (!given(value)) return fallback;
  if (typeof value === "string" && (allowed as readonly string[]).includes(value)) return value as T;
  throw new BadRequestError(`${param} must be one of ${allowed.map((a) => `"${a}"`).join(", ")}, not ${shown(value)}.`, { param });
}

/** A JSON object, when given: `what` says what it holds, for the message. */
export function optionalObject(value: unknown, param: string, what: string): Record<string, unknown> | undefined {
  if (!given(value)) return undefined;
  if (!isRecord(value)) throw new BadRequestError(`${param} must be an object (${what}), not ${shown(value)}.`, { param });
  return value;
}
