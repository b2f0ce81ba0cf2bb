/**
 * Hints for the indentation mistakes people actually make in config.yaml. The one that matters most is in
 * Xinference's own docs: `model_info:` written at the column of the `- ` list marker, as a sibling of the
 * list items, instead of inside the item next to `litellm_params`. yaml only says "All mapping items must
 * start at the same column"; the hint says where the key belongs and shows the fixed lines.
 */

/** Keys of a `model_list` item. */
export const ITEM_KEYS: ReadonlySet<string> = new Set(["model_name", "litellm_params", "model_info"]);

/** The top-level sections of a LiteLLM config. */
const SECTIONS: ReadonlySet<string> = new Set([
  "model_list",
  "general_settings",
  "litellm_settings",
  "router_settings",
  "environment_variables",
]);

const KEY_LINE = /^( *)([A-Za-z_][\w.-]*)\s*:(?:\s|$)/;
const ITEM_LINE = /^( *)(-(?:\s+|$))(\S.*)?$/;

function indentOf(line: string): number {
  return line.length - line.trimStart().length;
}

function isContent(line: string | undefined): line is string {
  return line !== undefined && line.trim() !== "" && !line.trimStart().startsWith("#");
}

/**
 * A hint for the syntax error yaml reported at `lineNumber` (1-based) with `code`, or undefined when the
 * mistake is not one we recognise.
 */
export function indentationHint(lines: readonly string[], lineNumber: number, code?: string): string | undefined {
  if (code === "DUPLICATE_KEY") return duplicateKeyHint(lines, lineNumber);
  return hintForLine(lines, lineNumber) ?? strayItemKeyAbove(lines, lineNumber);
}

function hintForLine(lines: readonly string[], lineNumber: number): string | undefined {
  const text = lines[lineNumber - 1];
  if (text === undefined) return undefined;
  const key = KEY_LINE.exec(text);
  if (!key) return listItemHint(lines, lineNumber);
  const indent = key[1]!.length;
  const name = key[2]!;
  if (SECTIONS.has(name) && indent > 0) {
    return `\`${name}\` is a top-level section: start it at the beginning of the line, with no spaces before it.`;
  }
  if (ITEM_KEYS.has(name)) return itemKeyHint(lines, lineNumber, name, indent);
  return undefined;
}

/**
 * yaml sometimes reports the mistake a few lines late: after `model_info:` at the list's own column, the
 * next `- ` item is where parsing breaks ("A block sequence may not be used as an implicit map key").
 */
function strayItemKeyAbove(lines: readonly string[], lineNumber: number): string | undefined {
  for (let n = lineNumber - 1; n >= 1; n--) {
    const text = lines[n - 1];
    if (!isContent(text)) continue;
    if (ITEM_LINE.test(text)) return undefined;
    const key = KEY_LINE.exec(text);
    if (key && ITEM_KEYS.has(key[2]!)) {
      const hint = itemKeyHint(lines, n, key[2]!, key[1]!.length);
      if (hint) return `the mistake is on line ${n}: ${hint}`;
    }
    if (indentOf(text) === 0) return undefined;
  }
  return undefined;
}

function duplicateKeyHint(lines: readonly string[], lineNumber: number): string | undefined {
  const key = KEY_LINE.exec(lines[lineNumber - 1] ?? "");
  if (!key) return undefined;
  for (let n = lineNumber - 1; n >= 1; n--) {
    const earlier = KEY_LINE.exec(lines[n - 1] ?? "");
    if (earlier && earlier[1] === key[1] && earlier[2] === key[2]) {
      return `\`${key[2]}\` is already on line ${n}, and a map holds each key once: merge the two into one \`${key[2]}:\`.`;
    }
  }
  return undefined;
}

interface Item {
  /** 1-based line of the `- ` that starts the item. */
  line: number;
  /** Column (0-based) where the item's keys start. */
  keyIndent: number;
}

/** The list item a line belongs to: the nearest `- ` line above it, before any top-level key. */
function enclosingItem(lines: readonly string[], lineNumber: number): Item | undefined {
  for (let n = lineNumber - 1; n >= 1; n--) {
    const text = lines[n - 1];
    if (!isContent(text)) continue;
    const item = ITEM_LINE.exec(text);
    if (item) {
      const dashEnd = item[1]!.length + item[2]!.length;
      // `-` alone on its line: the item's keys start on the next line.
      const keyIndent = item[3] === undefined ? indentOf(lines.slice(n).find(isContent) ?? "") : dashEnd;
      return { line: n, keyIndent };
    }
    if (indentOf(text) === 0) return undefined;
  }
  return undefined;
}

function itemKeyHint(lines: readonly string[], lineNumber: number, name: string, indent: number): string | undefined {
  const item = enclosingItem(lines, lineNumber);
  if (!item || item.keyIndent === indent) return undefined;
  const sibling = siblingLine(lines, item, lineNumber, name);
  const siblingName = keyNameAt(lines[sibling - 1] ?? "");
  const itemText = lines[item.line - 1]!.trim();
  const lineUp = siblingName ? `, to line up with \`${siblingName}\` on line ${sibling}` : "";
  return (
    `\`${name}\` belongs inside the list item that starts on line ${item.line} (\`${itemText}\`): ` +
    `indent it by ${item.keyIndent} spaces${lineUp}, and its own keys deeper than that. Like this:\n\n` +
    fixedSnippet(lines, item, sibling, lineNumber, indent)
  );
}

/** The key a line starts, reading a `- key:` item line as its key. */
function keyNameAt(text: string): string | undefined {
  return KEY_LINE.exec(text.replace(/^( *)-\s+/, (_m, spaces: string) => `${spaces}  `))?.[2];
}

/** The line of the key to align with: `litellm_params` when the item has it, else the item's first key. */
function siblingLine(lines: readonly string[], item: Item, lineNumber: number, name: string): number {
  let firstKey = ITEM_LINE.exec(lines[item.line - 1] ?? "")?.[3] === undefined ? undefined : item.line;
  for (let n = item.line + 1; n < lineNumber; n++) {
    const text = lines[n - 1];
    if (!isContent(text) || indentOf(text) !== item.keyIndent) continue;
    if (keyNameAt(text) === "litellm_params" && name !== "litellm_params") return n;
    firstKey ??= n;
  }
  return firstKey ?? item.line;
}

/** The item's first line, the aligned sibling, and the misplaced key with its block moved to the right column. */
function fixedSnippet(lines: readonly string[], item: Item, sibling: number, lineNumber: number, indent: number): string {
  const out = [lines[item.line - 1]!];
  if (sibling !== item.line) out.push(lines[sibling - 1]!);
  if (lines.slice(sibling, lineNumber - 1).some(isContent)) out.push(`${" ".repeat(item.keyIndent + 2)}...`);
  out.push(" ".repeat(item.keyIndent) + lines[lineNumber - 1]!.trimStart());
  const block: string[] = [];
  for (let n = lineNumber + 1; n <= lines.length; n++) {
    const text = lines[n - 1]!;
    if (!isContent(text)) continue;
    if (indentOf(text) <= indent || ITEM_LINE.test(text)) break;
    block.push(text);
  }
  const base = Math.min(...block.map(indentOf));
  for (const text of block) out.push(" ".repeat(item.keyIndent + 2 + indentOf(text) - base) + text.trimStart());
  return out.map((l) => `    ${l}`).join("\n");
}

/** A `- ` item that does not line up with the item before it in the same list. */
function listItemHint(lines: readonly string[], lineNumber: number): string | undefined {
  const text = lines[lineNumber - 1]!;
  const here = ITEM_LINE.exec(text);
  if (!here) return undefined;
  for (let n = lineNumber - 1; n >= 1; n--) {
    const previous = lines[n - 1];
    if (!isContent(previous)) continue;
    const item = ITEM_LINE.exec(previous);
    if (item && Math.abs(item[1]!.length - here[1]!.length) <= 2 && item[1]!.length !== here[1]!.length) {
      return `the \`-\` of each list item must line up: the item on line ${n} starts its \`-\` after ${item[1]!.length} spaces, this one after ${here[1]!.length}.`;
    }
    if (indentOf(previous) === 0) return undefined;
  }
  return undefined;
}
