/**
 * Finds the keys the schema does not know, walking the data alongside the zod schema so the schema stays
 * the one list of known keys (with deployment-keys.ts for the open maps of a deployment). Unknown keys
 * never fail a load: a typo gets a "did you mean", a key that belongs in another section says which, and a
 * LiteLLM key xgate lacks says so.
 */
import { z } from "zod";
import { isLitellmMetadataKey, OPEN_MAP_VOCABULARY, OTHER_PROVIDER_PARAMS, type OpenMapVocabulary } from "./deployment-keys.js";
import { isPlainObject } from "./env.js";
import { NOT_SUPPORTED_YET } from "./litellm-keys.js";
import { formatPath, pathPattern, type KeyPath } from "./paths.js";

export interface KeyFinding {
  path: KeyPath;
  /**
   * `unknown` and `not-supported` keys are ignored (an open map drops them too); `extra`: a key of an open
   * map that xgate does not read, kept as it is (in `litellm_params`, passed on to the provider).
   */
  kind: "unknown" | "not-supported" | "extra";
  /** What the user probably meant, relative to the key's parent when it belongs nearby. */
  suggestion?: string;
}

/** Removes wrappers (optional, default, preprocess…) to reach the schema that describes the value's shape. */
function unwrap(schema: unknown): unknown {
  let current = schema;
  for (;;) {
    if (
      current instanceof z.ZodOptional ||
      current instanceof z.ZodDefault ||
      current instanceof z.ZodPrefault ||
      current instanceof z.ZodNullable
    ) {
      current = current.unwrap();
    } else if (current instanceof z.ZodPipe) {
      current = current.in instanceof z.ZodTransform ? current.out : current.in;
    } else {
      return current;
    }
  }
}

function isOpen(schema: z.ZodObject): boolean {
  return schema.def.catchall !== undefined && !(schema.def.catchall instanceof z.ZodNever);
}

/** Every object shape in the schema, by path pattern, to tell which section a stray key belongs to. */
function collectShapes(schema: unknown, pattern: string, out: Map<string, ReadonlySet<string>>): void {
  const s = unwrap(schema);
  if (s instanceof z.ZodObject) {
    out.set(pattern, new Set(Object.keys(s.shape)));
    for (const [key, child] of Object.entries(s.shape)) collectShapes(child, pattern ? `${pattern}.${key}` : key, out);
  } else if (s instanceof z.ZodArray) {
    collectShapes(s.element, `${pattern}[]`, out);
  } else if (s instanceof z.ZodUnion) {
    for (const option of s.options) collectShapes(option, pattern, out);
  }
}

function parentPattern(pattern: string): string {
  if (pattern.endsWith("[]")) return pattern.slice(0, -2);
  const dot = pattern.lastIndexOf(".");
  return dot === -1 ? "" : pattern.slice(0, dot);
}

/** `pattern` written relative to `base`, which contains it. */
function relative(base: string, pattern: string): string {
  return base === "" ? pattern : pattern.slice(base.length + 1);
}

/** A key without case, separators or a plural ending: `maxRetry`, `max-retries` and `max_retries` are one. */
function normalize(key: string): string {
  return key
    .toLowerCase()
    .replace(/[-_\s]/g, "")
    .replace(/ies$/, "y")
    .replace(/s$/, "");
}

/** Edits between two keys, a swap of two neighbouring letters (`mdoe`) counting as one, as typists make it. */
export function editDistance(a: string, b: string): number {
  let before: number[] = [];
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, before[j - 2]! + 1);
      current.push(best);
    }
    [before, previous] = [previous, current];
  }
  return previous[b.length]!;
}

/** The known key closest to a typo, when it is close enough to be the likely intent. */
export function closestKey(key: string, known: Iterable<string>): string | undefined {
  const limit = key.length <= 4 ? 1 : key.length <= 10 ? 2 : 3;
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of known) {
    const distance = normalize(candidate) === normalize(key) ? 0 : editDistance(key.toLowerCase(), candidate);
    if (distance < bestDistance) [best, bestDistance] = [candidate, distance];
  }
  return bestDistance <= limit ? best : undefined;
}

export class KeyChecker {
  private readonly shapes = new Map<string, ReadonlySet<string>>();

  constructor(private readonly schema: z.ZodType) {
    collectShapes(schema, "", this.shapes);
  }

  check(data: unknown): KeyFinding[] {
    const findings: KeyFinding[] = [];
    this.walk(this.schema, data, [], findings);
    return findings;
  }

  private walk(schema: unknown, value: unknown, path: (string | number)[], findings: KeyFinding[]): void {
    const s = unwrap(schema);
    if (s instanceof z.ZodObject && isPlainObject(value)) {
      const pattern = pathPattern(path);
      for (const [key, child] of Object.entries(value)) {
        const childPath = [...path, key];
        if (Object.hasOwn(s.shape, key)) this.walk(s.shape[key], child, childPath, findings);
        else {
          const finding = this.judge(key, pattern, isOpen(s));
          if (finding) findings.push({ path: childPath, ...finding });
        }
      }
    } else if (s instanceof z.ZodArray && Array.isArray(value)) {
      value.forEach((item, i) => this.walk(s.element, item, [...path, i], findings));
    } else if (s instanceof z.ZodRecord && isPlainObject(value)) {
      for (const [key, child] of Object.entries(value)) this.walk(s.valueType, child, [...path, key], findings);
    } else if (s instanceof z.ZodUnion) {
      const option = s.options.find((o) => (unwrap(o) instanceof z.ZodObject) === isPlainObject(value));
      if (option) this.walk(option, value, path, findings);
    }
  }

  private judge(key: string, pattern: string, open: boolean): Omit<KeyFinding, "path"> | undefined {
    if (NOT_SUPPORTED_YET[pattern]?.has(key)) return { kind: "not-supported" };
    const vocabulary = OPEN_MAP_VOCABULARY[pattern];
    if (open && vocabulary) return this.judgeDeploymentKey(key, pattern, vocabulary);
    const elsewhere = this.homeOf(key, pattern, open);
    if (open) return elsewhere === undefined ? undefined : { kind: "extra", suggestion: elsewhere };
    // A key that exists verbatim in another section is more likely misplaced than misspelt.
    const suggestion = elsewhere ?? closestKey(key, this.shapes.get(pattern) ?? []);
    return suggestion === undefined ? { kind: "unknown" } : { kind: "unknown", suggestion };
  }

  /** A key of `litellm_params` or `model_info` that the schema does not list; see deployment-keys.ts. */
  private judgeDeploymentKey(key: string, pattern: string, vocabulary: OpenMapVocabulary): Omit<KeyFinding, "path"> | undefined {
    if (vocabulary.settings.has(key) || vocabulary.parameters.has(key) || OTHER_PROVIDER_PARAMS.has(key)) return undefined;
    const elsewhere = this.homeOf(key, pattern, true);
    if (elsewhere !== undefined) return { kind: "extra", suggestion: elsewhere };
    const settings = [...(this.shapes.get(pattern) ?? []), ...vocabulary.settings, ...(NOT_SUPPORTED_YET[pattern] ?? [])];
    const setting = (Object.hasOwn(vocabulary.misnomers, key) ? vocabulary.misnomers[key] : undefined) ?? closestKey(key, settings);
    if (setting !== undefined) return { kind: "unknown", suggestion: setting };
    if (isLitellmMetadataKey(key)) return undefined;
    const parameter = closestKey(key, vocabulary.parameters);
    if (parameter !== undefined) return { kind: "extra", suggestion: parameter };
    return vocabulary.warnUnknown ? { kind: "extra" } : undefined;
  }

  /** Where else the schema knows this key, nearest first. */
  private homeOf(key: string, pattern: string, open: boolean): string | undefined {
    const homes = [...this.shapes].filter(([p, keys]) => p !== pattern && keys.has(key)).map(([p]) => p);
    const parent = parentPattern(pattern);
    // A map nested in this one: `mode` written in a list item belongs in its model_info.
    const child = homes.find((p) => parentPattern(p) === pattern);
    if (child) return `${relative(pattern, child)}.${key}`;
    // A map beside this one: `mode` in litellm_params belongs in model_info.
    const sibling = homes.find((p) => p !== parent && parentPattern(p) === parent);
    if (sibling) return `${relative(parent, sibling)}.${key}`;
    // The map around this one: `model_name` inside litellm_params.
    if (pattern !== "" && homes.includes(parent)) return `${key} one level up, next to ${relative(parent, pattern)}`;
    if (open) return undefined;
    const section = homes.find((p) => !p.includes("[]"));
    return section === undefined ? undefined : `${section}.${key}`;
  }
}

/** The warning line a user reads. */
export function formatFinding(finding: KeyFinding, line: number | undefined): string {
  const at = line === undefined ? "" : ` (line ${line})`;
  const path = formatPath(finding.path);
  if (finding.kind === "not-supported") return `${path}${at} is not supported by xgate yet, ignored`;
  const hint = finding.suggestion === undefined ? "" : `; did you mean ${finding.suggestion}?`;
  if (finding.kind === "extra") {
    const fate = OPEN_MAP_VOCABULARY[pathPattern(finding.path.slice(0, -1))]?.fate ?? "is passed to the provider as an extra";
    return `${path}${at} is not a setting xgate reads here, so it ${fate}${hint}`;
  }
  return `unknown key ${path}${at} is ignored${hint}`;
}
