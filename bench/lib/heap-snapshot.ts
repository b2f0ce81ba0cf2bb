// A V8 heap snapshot summed by what its objects are: for an object its constructor's name, for a closure its
// function's, for strings and V8's internal kinds the kind. Two summaries compared show what a load added.
import { readFileSync } from "node:fs";

interface SnapshotFile {
  snapshot: { meta: { node_fields: string[]; node_types: [string[], ...unknown[]] } };
  nodes: number[];
  strings: string[];
}

export interface Group {
  name: string;
  count: number;
  bytes: number;
}

/** Kinds whose names are contents (a string's text, a number) rather than a type: summed under the kind. */
const BY_KIND = new Set(["string", "concatenated string", "sliced string", "number", "heap number", "bigint", "code", "regexp"]);

export function summarise(path: string): Map<string, Group> {
  const file = JSON.parse(readFileSync(path, "utf8")) as SnapshotFile;
  const fields = file.snapshot.meta.node_fields;
  const kinds = file.snapshot.meta.node_types[0];
  const width = fields.length;
  const typeAt = fields.indexOf("type");
  const nameAt = fields.indexOf("name");
  const sizeAt = fields.indexOf("self_size");
  const groups = new Map<string, Group>();
  for (let i = 0; i < file.nodes.length; i += width) {
    const kind = kinds[file.nodes[i + typeAt] as number] ?? "?";
    const name = BY_KIND.has(kind) ? `(${kind})` : `${kind}: ${(file.strings[file.nodes[i + nameAt] as number] ?? "?").slice(0, 80)}`;
    const group = groups.get(name) ?? { name, count: 0, bytes: 0 };
    group.count++;
    group.bytes += file.nodes[i + sizeAt] as number;
    groups.set(name, group);
  }
  return groups;
}

/** What grew from `before` to `after`, largest first. */
export function growth(before: Map<string, Group>, after: Map<string, Group>): Group[] {
  const rows: Group[] = [];
  for (const [name, a] of after) {
    const b = before.get(name);
    rows.push({ name, count: a.count - (b?.count ?? 0), bytes: a.bytes - (b?.bytes ?? 0) });
  }
  return rows.sort((x, y) => y.bytes - x.bytes);
}

/** A node of a snapshot with what it keeps alive alone (its retained size, from the dominator tree). */
export interface Retained {
  name: string;
  count: number;
  selfBytes: number;
  retainedBytes: number;
}

/**
 * Sums, by group name, the retained size of every node: what would be freed with it. Dominators by Cooper,
 * Harvey and Kennedy's iteration over a depth-first postorder from the root; weak edges keep nothing alive.
 */
export function dominators(path: string): { label(i: number): string; idom: Int32Array; retained: Float64Array; order: number[]; self(i: number): number; edgesOf(i: number): { name: string; to: number }[] } {
  const file = JSON.parse(readFileSync(path, "utf8")) as SnapshotFile & { edges: number[]; snapshot: { meta: { edge_fields: string[]; edge_types: [string[]] } } };
  const fields = file.snapshot.meta.node_fields;
  const kinds = file.snapshot.meta.node_types[0];
  const width = fields.length;
  const typeAt = fields.indexOf("type");
  const nameAt = fields.indexOf("name");
  const sizeAt = fields.indexOf("self_size");
  const edgeCountAt = fields.indexOf("edge_count");
  const edgeFields = file.snapshot.meta.edge_fields;
  const edgeWidth = edgeFields.length;
  const edgeTypeAt = edgeFields.indexOf("type");
  const toAt = edgeFields.indexOf("to_node");
  const weak = file.snapshot.meta.edge_types[0].indexOf("weak");
  const n = file.nodes.length / width;
  const firstEdge = new Uint32Array(n + 1);
  for (let i = 0; i < n; i++) firstEdge[i + 1] = (firstEdge[i] as number) + (file.nodes[i * width + edgeCountAt] as number) * edgeWidth;
  const succ = (i: number, visit: (j: number) => void): void => {
    for (let e = firstEdge[i] as number; e < (firstEdge[i + 1] as number); e += edgeWidth) {
      if (file.edges[e + edgeTypeAt] !== weak) visit((file.edges[e + toAt] as number) / width);
    }
  };
  // Postorder numbers by an iterative DFS from the root (node 0).
  const post = new Int32Array(n).fill(-1);
  const order: number[] = [];
  const seen = new Uint8Array(n);
  const stack: number[] = [0];
  const cursor = new Uint32Array(n);
  seen[0] = 1;
  for (let i = 0; i < n; i++) cursor[i] = firstEdge[i] as number;
  while (stack.length > 0) {
    const top = stack[stack.length - 1] as number;
    let pushed = false;
    while ((cursor[top] as number) < (firstEdge[top + 1] as number)) {
      const e = cursor[top] as number;
      cursor[top] = e + edgeWidth;
      if (file.edges[e + edgeTypeAt] === weak) continue;
      const to = (file.edges[e + toAt] as number) / width;
      if (seen[to] === 0) {
        seen[to] = 1;
        stack.push(to);
        pushed = true;
        break;
      }
    }
    if (!pushed) {
      stack.pop();
      post[top] = order.length;
      order.push(top);
    }
  }
  // Predecessors (reachable ones only).
  const predCount = new Uint32Array(n + 1);
  for (const i of order) succ(i, (j) => (predCount[j + 1] = (predCount[j + 1] as number) + 1));
  for (let i = 0; i < n; i++) predCount[i + 1] = (predCount[i + 1] as number) + (predCount[i] as number);
  const preds = new Uint32Array(predCount[n] as number);
  const fill = predCount.slice(0, n);
  for (const i of order) {
    succ(i, (j) => {
      const at = fill[j] as number;
      preds[at] = i;
      fill[j] = at + 1;
    });
  }
  const idom = new Int32Array(n).fill(-1);
  idom[0] = 0;
  const intersect = (a: number, b: number): number => {
    while (a !== b) {
      while ((post[a] as number) < (post[b] as number)) a = idom[a] as number;
      while ((post[b] as number) < (post[a] as number)) b = idom[b] as number;
    }
    return a;
  };
  for (let changed = true; changed; ) {
    changed = false;
    for (let k = order.length - 2; k >= 0; k--) {
      const b = order[k] as number;
      let dom = -1;
      for (let p = predCount[b] as number; p < (predCount[b + 1] as number); p++) {
        const q = preds[p] as number;
        if (idom[q] === -1) continue;
        dom = dom === -1 ? q : intersect(q, dom);
      }
      if (dom !== -1 && idom[b] !== dom) {
        idom[b] = dom;
        changed = true;
      }
    }
  }
  const retained = new Float64Array(n);
  for (const i of order) retained[i] = file.nodes[i * width + sizeAt] as number;
  for (const i of order) {
    const dom = idom[i] as number;
    if (i !== 0) retained[dom] = (retained[dom] as number) + (retained[i] as number);
  }
  const label = (i: number): string => {
    const kind = kinds[file.nodes[i * width + typeAt] as number] ?? "?";
    return BY_KIND.has(kind) ? `(${kind})` : `${kind}: ${(file.strings[file.nodes[i * width + nameAt] as number] ?? "?").slice(0, 80)}`;
  };
  const edgesOf = (i: number): { name: string; to: number }[] => {
    const out: { name: string; to: number }[] = [];
    const edgeKinds = file.snapshot.meta.edge_types[0];
    const nameAtEdge = edgeFields.indexOf("name_or_index");
    for (let e = firstEdge[i] as number; e < (firstEdge[i + 1] as number); e += edgeWidth) {
      const kind = edgeKinds[file.edges[e + edgeTypeAt] as number] ?? "?";
      const raw = file.edges[e + nameAtEdge] as number;
      const name = kind === "element" || kind === "hidden" ? `[${raw}]` : String(file.strings[raw]);
      out.push({ name: `${kind}:${name}`, to: (file.edges[e + toAt] as number) / width });
    }
    return out;
  };
  return { label, idom, retained, order, edgesOf, self: (i) => file.nodes[i * width + sizeAt] as number };
}

export function retainedByGroup(path: string): Map<string, Retained> {
  const { label, retained, order, self } = dominators(path);
  const groups = new Map<string, Retained>();
  for (const i of order) {
    const name = label(i);
    const group = groups.get(name) ?? { name, count: 0, selfBytes: 0, retainedBytes: 0 };
    group.count++;
    group.selfBytes += self(i);
    group.retainedBytes += retained[i] as number;
    groups.set(name, group);
  }
  return groups;
}
