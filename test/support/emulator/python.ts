// Python-flavoured text: Xinference's messages embed Python reprs and `json.dumps` output, and clients
// (and our tests) see them verbatim.

/**
 * `json.dumps(value)` with Python's defaults, e.g. for SSE event data: ", " and ": " separators and
 * `ensure_ascii` (non-ASCII characters escaped as \uXXXX; `ensureAscii: false` keeps them, as
 * `json.dumps(v, ensure_ascii=False)` does).
 */
export function pythonJsonDumps(value: unknown, ensureAscii = true): string {
  const dumps = (v: unknown): string => pythonJsonDumps(v, ensureAscii);
  const text = (t: string): string => (ensureAscii ? asciiJson(t) : JSON.stringify(t));
  if (value === null || value === undefined) return "null";
  if (Array.isArray(value)) return `[${value.map(dumps).join(", ")}]`;
  if (typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined);
    return `{${entries.map(([k, v]) => `${text(k)}: ${dumps(v)}`).join(", ")}}`;
  }
  return typeof value === "string" ? text(value) : JSON.stringify(value);
}

function asciiJson(text: string): string {
  return JSON.stringify(text).replace(/[\u0080-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

/** `repr(list_of_str)`, as in "Available model uids: ['a', 'b']". */
export function pythonStrListRepr(items: readonly string[]): string {
  return `[${items.map((item) => `'${item.replace(/\\/g, "\\\\").replace(/'/g, "\\'")}'`).join(", ")}]`;
}

/** `datetime.now().isoformat()`: local time, microseconds, no zone. */
export function pythonIsoNow(): string {
  const d = new Date();
  const pad = (n: number, width = 2): string => String(n).padStart(width, "0");
  return (
    `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T` +
    `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}000`
  );
}

/** V8's JSON.parse complaints, and what Python's json module says in the same spot. */
const JSON_MESSAGES: [RegExp, string][] = [
  [/^Expected property name/, "Expecting property name enclosed in double quotes"],
  [/^Expected ',' or/, "Expecting ',' delimiter"],
  [/^Expected ':'/, "Expecting ':' delimiter"],
  [/^Unexpected non-whitespace character after JSON/, "Extra data"],
  [/^Bad control character/, "Invalid control character at"],
];

/**
 * `json.loads(text)`, failing with Python's message ("Expecting value: line 1 column 1 (char 0)"): clients of
 * Xinference see that text in 500 bodies.
 */
export function pythonJsonLoads(text: string): { ok: true; value: unknown } | { ok: false; message: string } {
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch (error) {
    const reason = error instanceof Error ? error.message : "";
    const position = /at position (\d+)/.exec(reason)?.[1];
    let what = "Expecting value";
    let offset = 0;
    if (/^Unexpected end of JSON input/.test(reason)) {
      offset = text.length;
    } else if (position !== undefined) {
      offset = Number(position);
      what = JSON_MESSAGES.find(([pattern]) => pattern.test(reason))?.[1] ?? what;
    }
    const before = text.slice(0, offset);
    const line = before.split("\n").length;
    const column = offset - before.lastIndexOf("\n");
    return { ok: false, message: `${what}: line ${line} column ${column} (char ${offset})` };
  }
}
