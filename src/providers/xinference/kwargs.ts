/** Xinference's `kwargs` field: engine parameters as a JSON-encoded string (image and rerank routes). */
import { BadRequestError } from "../../errors.js";
import { isRecord } from "../shape.js";
import { PROVIDER } from "./constants.js";

/** A `kwargs` the caller gave itself, as an object or as its JSON string. */
function ownKwargs(kwargs: unknown): Record<string, unknown> {
  if (kwargs === undefined) return {};
  let value: unknown = kwargs;
  if (typeof kwargs === "string") {
    try {
      value = JSON.parse(kwargs);
    } catch {
      value = undefined;
    }
  }
  if (!isRecord(value)) {
    throw new BadRequestError("kwargs must be an object (or its JSON string) of engine parameters.", {
      provider: PROVIDER,
      param: "kwargs",
    });
  }
  return value;
}

/** The engine kwargs as the JSON string Xinference's `kwargs` field takes: the provider extras and any own `kwargs`. */
export function kwargsString(extras: Record<string, unknown>): string | undefined {
  const { kwargs, ...rest } = extras;
  const merged = { ...ownKwargs(kwargs), ...rest };
  return Object.keys(merged).length === 0 ? undefined : JSON.stringify(merged);
}
