/**
 * The YAML side of the loader: parse with positions kept, turn syntax errors into ConfigIssues with a code
 * frame, and find where a key path sits in the file so schema errors can name a line and column.
 */
import { isAlias, isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node, type Pair } from "yaml";
import type { ConfigIssue } from "./errors.js";
import { indentationHint } from "./hints.js";
import { formatPath, type KeyPath } from "./paths.js";

export interface Source {
  text: string;
  lines: readonly string[];
  doc: Document;
  lineCounter: LineCounter;
}

export interface Position {
  line: number;
  column: number;
}

export interface ParsedSource {
  source: Source;
  /** Syntax errors, the first one with its code frame and, when the mistake is recognised, a hint. */
  errors: ConfigIssue[];
  warnings: string[];
}

export function parseSource(text: string): ParsedSource {
  const lineCounter = new LineCounter();
  // `merge: true` accepts the YAML 1.1 `<<: *defaults` merge keys that Python-era configs use.
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, merge: true });
  const source: Source = { text, lines: text.split(/\r?\n/), doc, lineCounter };
  const errors = doc.errors.map((err, index): ConfigIssue => {
    const pos = syntaxPosition(source, err.pos[0]);
    const message = err.message.replace(/\s+at line \d+, column \d+[\s\S]*$/, "");
    if (index > 0) return { ...pos, message: `YAML syntax error: ${message}` };
    const hint = indentationHint(source.lines, pos.line, err.code);
    const frame = codeFrame(source.lines, pos);
    return { ...pos, message: `YAML syntax error: ${message}\n\n${frame}${hint ? `\n\nHint: ${hint}` : ""}` };
  });
  const warnings = doc.warnings.map((w) => {
    const pos = source.lineCounter.linePos(w.pos[0]);
    return `line ${pos.line}: ${w.message.replace(/\s+at line \d+, column \d+[\s\S]*$/, "")}`;
  });
  return { source, errors, warnings };
}

/**
 * yaml reports indentation errors at the start of the line; the user's eye goes to the first character of
 * the key, so that is the column given.
 */
function syntaxPosition(source: Source, offset: number): Position {
  const { line, col } = source.lineCounter.linePos(offset);
  const text = source.lines[line - 1] ?? "";
  const firstChar = text.search(/\S/);
  const column = firstChar !== -1 && col - 1 < firstChar ? firstChar + 1 : col;
  return { line, column };
}

/** A few lines around `pos`, the offending one marked, as compilers show them. */
export function codeFrame(lines: readonly string[], pos: Position, before = 2, after = 1): string {
  const first = Math.max(1, pos.line - before);
  const last = Math.min(lines.length, pos.line + after);
  const width = String(last).length;
  const out: string[] = [];
  for (let n = first; n <= last; n++) {
    const marker = n === pos.line ? ">" : " ";
    out.push(`${marker} ${String(n).padStart(width)} | ${lines[n - 1] ?? ""}`.trimEnd());
    if (n === pos.line) out.push(`  ${" ".repeat(width)} | ${" ".repeat(Math.max(0, pos.column - 1))}^`);
  }
  return out.join("\n");
}

interface Found {
  /** The value node at the path, when the path exists in the file. */
  node?: Node;
  /** The key/value pair whose value is `node`, when the last step was a map key. */
  pair?: Pair;
  /** The deepest collection reached when the path goes on past what the file has. */
  parent?: Node;
  /** The pair whose value is `parent`: a missing key is reported at its parent's key. */
  parentPair?: Pair;
}

/** Walks the document along a key path; merged (`<<`) keys are not followed, so their parent is found. */
function find(source: Source, path: KeyPath): Found {
  let node: unknown = source.doc.contents;
  let pair: Pair | undefined;
  for (const segment of path) {
    if (isAlias(node)) node = node.resolve(source.doc);
    if (isMap(node)) {
      const match = node.items.find((item) => isPair(item) && keyText(item.key) === String(segment));
      if (!match) return { parent: node, ...(pair && { parentPair: pair }) };
      pair = match;
      node = match.value;
      if (node === null) return { pair };
    } else if (isSeq(node) && typeof segment === "number") {
      const item = node.items[segment];
      if (item === undefined) return { parent: node, ...(pair && { parentPair: pair }) };
      pair = undefined;
      node = item;
    } else {
      return isScalar(node) || isMap(node) || isSeq(node) ? { parent: node } : {};
    }
  }
  return { node: node as Node, ...(pair && { pair }) };
}

function keyText(key: unknown): string | undefined {
  return isScalar(key) ? String(key.value) : undefined;
}

function offsetOf(node: unknown): number | undefined {
  if ((isScalar(node) || isMap(node) || isSeq(node) || isAlias(node)) && node.range) return node.range[0];
  return undefined;
}

/** Where the value at `path` is written; for a missing key, where its parent is. */
export function locate(source: Source, path: KeyPath): Position | undefined {
  const found = find(source, path);
  const offset = offsetOf(found.node) ?? offsetOf(found.pair?.key) ?? offsetOf(found.parentPair?.key) ?? offsetOf(found.parent);
  if (offset === undefined) return undefined;
  const { line, col } = source.lineCounter.linePos(offset);
  return { line, column: col };
}

/** Where the key that ends `path` is written (for warnings about the key itself). */
export function locateKey(source: Source, path: KeyPath): Position | undefined {
  const found = find(source, path);
  const offset = offsetOf(found.pair?.key) ?? offsetOf(found.node) ?? offsetOf(found.parentPair?.key) ?? offsetOf(found.parent);
  if (offset === undefined) return undefined;
  const { line, col } = source.lineCounter.linePos(offset);
  return { line, column: col };
}

/** An issue about `path`, placed at its node. */
export function issueAt(source: Source, path: KeyPath, message: string, key = false): ConfigIssue {
  const pos = key ? locateKey(source, path) : locate(source, path);
  return { path: formatPath(path), ...pos, message };
}
