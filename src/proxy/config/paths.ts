/**
 * Key paths in the notation users read in their YAML: `model_list[1].litellm_params.model`. Keys that are
 * not plain words (a model group such as `xinference/*` used as a fallbacks key) are quoted in brackets.
 */
import { isSecretKey } from "./deployment-keys.js";

export type KeyPath = readonly (string | number)[];

const PLAIN_KEY = /^[A-Za-z_][\w-]*$/;

export function formatPath(path: KeyPath): string {
  let out = "";
  for (const segment of path) {
    if (typeof segment === "number") out += `[${segment}]`;
    else if (PLAIN_KEY.test(segment)) out += out === "" ? segment : `.${segment}`;
    else out += `[${JSON.stringify(segment)}]`;
  }
  return out || "(top level)";
}

/** The path with list indices replaced by `[]`, to look up rules that apply to every item of a list. */
export function pathPattern(path: KeyPath): string {
  return path.map((segment) => (typeof segment === "number" ? "[]" : segment)).join(".").replace(/\.\[\]/g, "[]");
}

/** Settings whose values carry a password in their URL. */
const SECRET_URL_KEY = /^(database_url|redis_url)$/;

/** Whether a key's value must never be echoed back, not even in an error about its format. */
export function isSecretPath(path: KeyPath): boolean {
  return path.some((segment) => typeof segment === "string" && (isSecretKey(segment) || SECRET_URL_KEY.test(segment)));
}

/** How a value reads in a message: its kind, and the value itself when it is short and not a secret. */
export function describeValue(value: unknown, secret: boolean): string {
  if (value === undefined || value === null) return "nothing";
  if (Array.isArray(value)) return "a list";
  if (typeof value === "object") return "a map";
  if (typeof value === "boolean") return `${value}`;
  if (secret) return `a ${typeof value}`;
  if (typeof value === "number") return `the number ${value}`;
  const text = String(value);
  return text.length > 80 ? `a string ('${text.slice(0, 77)}...')` : `'${redactUrl(text)}'`;
}

/** Hides the password of a URL such as `redis://user:secret@host`. */
export function redactUrl(text: string): string {
  return text.replace(/(\/\/[^/@:\s]*:)[^/@\s]*@/, "$1***@");
}
