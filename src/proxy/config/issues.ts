/**
 * Turns zod's issues into sentences about the user's file: the key path as written, what was expected, what
 * was found (never a secret's value), where a value came from `os.environ/`, and for the keys every config
 * needs, how to add them.
 */
import type { z } from "zod";
import { isPlainObject } from "./env.js";
import { describeValue, formatPath, isSecretPath, pathPattern, type KeyPath } from "./paths.js";

export const MODEL_LIST_EXAMPLE = `model_list:
  - model_name: bge-base-en
    litellm_params:
      model: xinference/bge-base-en
      api_base: http://127.0.0.1:9997/v1`;

/** How to add a key that every config needs, by path pattern. */
const MISSING_FIXES: Readonly<Record<string, string>> = {
  model_list: `A config serves the models in its model_list; add one, for example:\n\n${MODEL_LIST_EXAMPLE}`,
  "model_list[].model_name": "give every model_list entry a model_name: the name clients send as `model`.",
  "model_list[].litellm_params":
    "give every model_list entry litellm_params, with at least `model: xinference/<model uid>` (and usually api_base), indented under the entry.",
  "model_list[].litellm_params.model":
    "add `model: xinference/<model uid>` under litellm_params: the uid the model was launched under in Xinference (or xinference/* for all of them).",
  "model_list[].model_info.auto_launch.model_name":
    "auto_launch needs model_name: the model's name in Xinference's registry (e.g. bge-base-en-v1.5).",
};

const EXPECTED: Readonly<Record<string, string>> = {
  string: "text",
  number: "a number",
  int: "a whole number",
  boolean: "true or false",
  object: "a map (indented `key: value` lines)",
  record: "a map (indented `key: value` lines)",
  array: "a list (lines starting with `- `)",
};

/** The value at `path`, or undefined where the path leaves the data. */
export function valueAt(root: unknown, path: KeyPath): unknown {
  let node = root;
  for (const segment of path) {
    if (Array.isArray(node) && typeof segment === "number") node = node[segment];
    else if (isPlainObject(node) && typeof segment === "string") node = node[segment];
    else return undefined;
  }
  return node;
}

export interface IssueContext {
  /** The data as written (empty values kept as null), to tell a missing key from an empty or wrong one. */
  data: unknown;
  /** Formatted key path → the variable its value came from. */
  envOrigins: ReadonlyMap<string, string>;
}

export interface DescribedIssue {
  path: KeyPath;
  message: string;
  /** Place the issue at the key (a missing or empty value has no node of its own). */
  atKey?: boolean;
}

export function describeIssue(issue: z.core.$ZodIssue, ctx: IssueContext): DescribedIssue {
  const path = issue.path.filter((s): s is string | number => typeof s !== "symbol");
  const shown = formatPath(path);
  const input = valueAt(ctx.data, path);
  const origin = ctx.envOrigins.get(shown);
  // A value from a variable named like a credential stays hidden, whatever key it was put under.
  const secret = isSecretPath(path) || (origin !== undefined && isSecretPath([origin]));
  const got = `${describeValue(input, secret)}${origin ? ` (from os.environ/${origin})` : ""}`;
  const fix = MISSING_FIXES[pathPattern(path)];

  switch (issue.code) {
    case "invalid_type": {
      if (input === undefined) return { path, atKey: true, message: `${shown} is missing${fix ? `: ${fix}` : "."}` };
      if (input === null) {
        const expected = EXPECTED[issue.expected] ?? issue.expected;
        return { path, atKey: true, message: `${shown} is empty${fix ? `: ${fix}` : `; expected ${expected}.`}` };
      }
      return { path, message: `${shown}: expected ${EXPECTED[issue.expected] ?? issue.expected}, got ${got}.` };
    }
    case "invalid_value":
      return { path, message: `${shown}: ${got} is not one of: ${issue.values.map(String).join(", ")}.` };
    case "too_small": {
      if (issue.origin === "array" || issue.origin === "string") {
        return { path, atKey: true, message: `${shown} is empty${fix ? `: ${fix}` : "."}` };
      }
      const bound = issue.inclusive ? `at least ${issue.minimum}` : `greater than ${issue.minimum}`;
      return { path, message: `${shown} must be ${bound}, not ${got}.` };
    }
    case "too_big":
      return { path, message: `${shown} must be at most ${issue.maximum}, not ${got}.` };
    case "invalid_union":
      return { path, message: `${shown}: expected a model group name or a map with model: <group>, got ${got}.` };
    case "custom": {
      const scalar = input !== undefined && input !== null && typeof input !== "object";
      const tail = scalar && !secret ? ` (got ${got})` : "";
      return { path, message: `${shown} ${issue.message}${tail}.` };
    }
    default:
      return { path, message: `${shown}: ${issue.message}.` };
  }
}
