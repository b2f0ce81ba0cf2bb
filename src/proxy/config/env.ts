/**
 * LiteLLM's `os.environ/NAME` references: any string value that is exactly `os.environ/NAME`, at any depth,
 * is replaced by that variable's value. `environment_variables:` is applied first, so the file can define
 * variables that the rest of it uses.
 */
import type { KeyPath } from "./paths.js";
import { formatPath } from "./paths.js";

const PREFIX = "os.environ/";

export type Env = Readonly<Record<string, string | undefined>>;

export interface EnvReference {
  path: KeyPath;
  variable: string;
}

export interface Resolved {
  value: unknown;
  /** Every reference that named a variable that is not set. */
  missing: EnvReference[];
  /** Every reference that was replaced, so errors about the value can say where it came from. */
  used: EnvReference[];
}

/** The variable a value refers to, when it is an `os.environ/NAME` reference. */
export function envReference(value: unknown): string | undefined {
  return typeof value === "string" && value.startsWith(PREFIX) ? value.slice(PREFIX.length).trim() : undefined;
}

/** A copy of `value` with every `os.environ/NAME` replaced from `env`; `skip` names top-level keys left as-is. */
export function resolveEnvReferences(value: unknown, env: Env, skip: ReadonlySet<string> = new Set()): Resolved {
  const missing: EnvReference[] = [];
  const used: EnvReference[] = [];
  const walk = (node: unknown, path: (string | number)[]): unknown => {
    const variable = envReference(node);
    if (variable !== undefined) {
      const found = variable === "" ? undefined : env[variable];
      if (found === undefined) {
        missing.push({ path, variable });
        return node;
      }
      used.push({ path, variable });
      return found;
    }
    if (Array.isArray(node)) return node.map((item, i) => walk(item, [...path, i]));
    if (isPlainObject(node)) {
      const out: Record<string, unknown> = {};
      for (const [key, child] of Object.entries(node)) {
        setOwn(out, key, path.length === 0 && skip.has(key) ? child : walk(child, [...path, key]));
      }
      return out;
    }
    return node;
  };
  return { value: walk(value, []), missing, used };
}

/** A map as yaml's toJS builds it (not a Uint8Array from `!!binary`, a Set from `!!set`…). */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== "object" || value === null) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** Sets an own property even for a key such as `__proto__`, which plain assignment would not. */
export function setOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

export function missingVariableMessage(ref: EnvReference): string {
  if (ref.variable === "") {
    return `${formatPath(ref.path)} is 'os.environ/' with no variable name after the slash; write os.environ/NAME.`;
  }
  return (
    `${formatPath(ref.path)} uses os.environ/${ref.variable}, which is not set. ` +
    `Set ${ref.variable} in the environment, or define it under environment_variables in this file.`
  );
}

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

export interface EnvironmentSection {
  /** The variables, as strings, ready to be exported. */
  values: Record<string, string>;
  issues: { path: KeyPath; message: string }[];
  missing: EnvReference[];
}

/**
 * Reads `environment_variables`: a map of names to scalar values. Values may themselves be `os.environ/NAME`
 * references, resolved against the environment the loader was given.
 */
export function readEnvironmentSection(section: unknown, env: Env): EnvironmentSection {
  const values: Record<string, string> = {};
  const issues: EnvironmentSection["issues"] = [];
  const missing: EnvReference[] = [];
  if (section === undefined || section === null) return { values, issues, missing };
  if (!isPlainObject(section)) {
    issues.push({
      path: ["environment_variables"],
      message: "environment_variables must be a map of NAME: value lines, e.g. XINFERENCE_API_KEY: os.environ/MY_KEY.",
    });
    return { values, issues, missing };
  }
  for (const [name, raw] of Object.entries(section)) {
    const path = ["environment_variables", name];
    if (!ENV_NAME.test(name)) {
      issues.push({ path, message: `environment_variables: '${name}' is not a valid variable name (letters, digits and _, not starting with a digit).` });
      continue;
    }
    if (raw === null || typeof raw === "object") {
      issues.push({ path, message: `${formatPath(path)} must be a single value (text, a number or true/false).` });
      continue;
    }
    const variable = envReference(raw);
    if (variable !== undefined) {
      const found = variable === "" ? undefined : env[variable];
      if (found === undefined) missing.push({ path, variable });
      else setOwn(values, name, found);
      continue;
    }
    setOwn(values, name, String(raw));
  }
  return { values, issues, missing };
}
