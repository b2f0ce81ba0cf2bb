/**
 * Indentation mistakes that are still valid YAML: `model_info:` pushed to the top level (written at
 * column 1 after the list) or into `litellm_params` (indented two spaces too far). The file parses, but
 * the model would silently lose its settings or send them to the provider, so these are errors that say
 * where the key belongs.
 */
import type { ConfigIssue } from "./errors.js";
import { isPlainObject } from "./env.js";
import { ITEM_KEYS } from "./hints.js";
import { formatPath } from "./paths.js";
import { locate, locateKey, type Source } from "./source.js";

function alignment(source: Source, item: number): string {
  const pos = locateKey(source, ["model_list", item, "litellm_params"]);
  if (pos === undefined) return "to line up with litellm_params";
  return `by ${pos.column - 1} spaces, to line up with litellm_params on line ${pos.line}`;
}

/** `skip`: indices of model_list entries that are not served, whose mistakes do not matter. */
export function misplacedItemKeys(data: Record<string, unknown>, source: Source, skip: ReadonlySet<number> = new Set()): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const items = Array.isArray(data.model_list) ? data.model_list : [];

  for (const key of ITEM_KEYS) {
    if (!(key in data)) continue;
    const pos = locateKey(source, [key]);
    // The item it was meant for is the last one that starts above it.
    let item = items.length - 1;
    while (item > 0 && pos !== undefined && (locate(source, ["model_list", item])?.line ?? 0) > pos.line) item--;
    issues.push({
      path: key,
      ...pos,
      message:
        `${key} is at the top level, but it belongs inside a model_list item` +
        (item >= 0 ? ` (model_list[${item}]): indent it ${alignment(source, item)}` : ", next to litellm_params") +
        ", and its own keys deeper than that.",
    });
  }

  items.forEach((entry, i) => {
    const params = isPlainObject(entry) ? entry.litellm_params : undefined;
    if (!isPlainObject(params) || skip.has(i)) return;
    for (const key of ["model_info", "model_name"]) {
      if (!(key in params)) continue;
      const path = ["model_list", i, "litellm_params", key];
      issues.push({
        path: formatPath(path),
        ...locateKey(source, path),
        message: `${formatPath(path)} is inside litellm_params, but it belongs next to it: indent ${key} ${alignment(source, i)}.`,
      });
    }
  });
  return issues;
}
