/**
 * An OpenAI-shaped embedding answer (`{"data": [{"embedding": [floats…]}, …], …}`) read without parsing its
 * floats: each `data[].embedding` array of numbers is checked in place and replaced by a placeholder `[k]`,
 * and only that small skeleton goes through JSON.parse. The provider then checks the skeleton exactly as it
 * checks a parsed body, and `[k]` stands for span k of the body's bytes (see vectors.ts for why).
 *
 * Anything unusual (an escaped key, an embedding that is not a list of plain numbers, a number that could
 * overflow) gives undefined, and the caller parses the whole body the ordinary way: same results, same errors.
 */
import { withoutBom } from "../upstream/http.js";
import { type NumberListSpan, textVectors, type VectorList } from "./vectors.js";
import { Float32Buffer, scanFloat32List, scanNumberList, skipWhitespace } from "./json-floats.js";

const QUOTE = 34;
const BACKSLASH = 92;
const COMMA = 44;
const COLON = 58;
const OPEN_BRACE = 123;
const CLOSE_BRACE = 125;
const OPEN_BRACKET = 91;
const CLOSE_BRACKET = 93;
const SPACE = 32;
const TAB = 9;
const LF = 10;
const CR = 13;

const FAILED = -1;
const DATA = Buffer.from('"data"');
const EMBEDDING = Buffer.from('"embedding"');

export interface ScannedEmbeddingBody {
  /** The body parsed with every `data[].embedding` list replaced by `[k]`. */
  skeleton: unknown;
  /** The lists, by placeholder: vector k's numbers as text. */
  vectors(order: readonly number[]): VectorList;
}

/** Index after the string whose opening quote is at `i`, or FAILED. */
function skipString(b: Buffer, i: number): number {
  for (i++; i < b.length; i++) {
    const c = b[i];
    if (c === QUOTE) return i + 1;
    if (c === BACKSLASH) i++;
  }
  return FAILED;
}

/** Index after the JSON value at `i`. Not a validation: the skeleton's JSON.parse checks what is skipped. */
function skipValue(b: Buffer, i: number): number {
  const first = b[i];
  if (first === QUOTE) return skipString(b, i);
  if (first === OPEN_BRACE || first === OPEN_BRACKET) {
    let depth = 0;
    while (i < b.length) {
      const c = b[i];
      if (c === QUOTE) {
        i = skipString(b, i);
        if (i === FAILED) return FAILED;
        continue;
      }
      if (c === OPEN_BRACE || c === OPEN_BRACKET) depth++;
      else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) depth--;
      i++;
      if (depth === 0) return i;
    }
    return FAILED;
  }
  while (i < b.length) {
    const c = b[i];
    if (c === COMMA || c === CLOSE_BRACE || c === CLOSE_BRACKET || c === SPACE || c === LF || c === CR || c === TAB) break;
    i++;
  }
  return i;
}

function keyIs(b: Buffer, start: number, end: number, quoted: Buffer): boolean {
  return end - start === quoted.length && b.compare(quoted, 0, quoted.length, start, end) === 0;
}

function hasEscape(b: Buffer, start: number, end: number): boolean {
  return b.subarray(start, end).includes(BACKSLASH);
}

class Scanner {
  readonly spans: NumberListSpan[] = [];
  private readonly pieces: string[] = [];
  private copied = 0;

  /** @param converted where each list's float32s go as it is checked; none when only the text is wanted. */
  constructor(
    readonly b: Buffer,
    readonly converted: Float32Buffer | undefined,
  ) {}

  /** The members of the object whose `{` is at `i`; `value` reads each member's value. Index after `}`. */
  private members(i: number, value: (key: { start: number; end: number }, at: number) => number): number {
    const b = this.b;
    i = skipWhitespace(b, i + 1);
    if (b[i] === CLOSE_BRACE) return i + 1;
    for (;;) {
      if (b[i] !== QUOTE) return FAILED;
      const keyStart = i;
      i = skipString(b, i);
      // An escaped key could spell "data" or "embedding" in a way a byte comparison does not see.
      if (i === FAILED || hasEscape(b, keyStart, i)) return FAILED;
      const keyEnd = i;
      i = skipWhitespace(b, i);
      if (b[i] !== COLON) return FAILED;
      i = value({ start: keyStart, end: keyEnd }, skipWhitespace(b, i + 1));
      if (i === FAILED) return FAILED;
      i = skipWhitespace(b, i);
      if (b[i] === CLOSE_BRACE) return i + 1;
      if (b[i] !== COMMA) return FAILED;
      i = skipWhitespace(b, i + 1);
    }
  }

  body(i: number): number {
    if (this.b[i] !== OPEN_BRACE) return FAILED;
    return this.members(i, (key, at) =>
      keyIs(this.b, key.start, key.end, DATA) && this.b[at] === OPEN_BRACKET ? this.data(at) : skipValue(this.b, at),
    );
  }

  private data(i: number): number {
    const b = this.b;
    i = skipWhitespace(b, i + 1);
    if (b[i] === CLOSE_BRACKET) return i + 1;
    for (;;) {
      i = b[i] === OPEN_BRACE ? this.item(i) : skipValue(b, i);
      if (i === FAILED) return FAILED;
      i = skipWhitespace(b, i);
      if (b[i] === CLOSE_BRACKET) return i + 1;
      if (b[i] !== COMMA) return FAILED;
      i = skipWhitespace(b, i + 1);
    }
  }

  private item(i: number): number {
    return this.members(i, (key, at) => (keyIs(this.b, key.start, key.end, EMBEDDING) ? this.embedding(at) : skipValue(this.b, at)));
  }

  /** A list of numbers becomes `[k]` in the skeleton; anything else is left to the ordinary parse. */
  private embedding(i: number): number {
    if (this.b[i] !== OPEN_BRACKET) return FAILED;
    const float32At = this.converted?.length;
    const list = this.converted === undefined ? scanNumberList(this.b, i + 1) : scanFloat32List(this.b, i + 1, this.converted);
    if (list === undefined) return FAILED;
    this.pieces.push(this.b.toString("utf8", this.copied, i + 1), String(this.spans.length));
    this.spans.push({ start: i + 1, end: list.end, count: list.count, float32At });
    this.copied = list.end;
    return list.end + 1;
  }

  skeleton(): string {
    this.pieces.push(this.b.toString("utf8", this.copied));
    return this.pieces.join("");
  }
}

/**
 * The body's skeleton and vectors, or undefined when it must be parsed the ordinary way. With `float32`, the
 * vectors are converted to float32 in the same pass that checks them (for a base64 answer).
 */
export function scanEmbeddingBody(body: Buffer, options: { float32?: boolean } = {}): ScannedEmbeddingBody | undefined {
  const b = withoutBom(body);
  // Compact float text takes ~20 bytes per float32 of 4: a fifth of the body is the usual need.
  const scanner = new Scanner(b, options.float32 === true ? new Float32Buffer(Math.ceil(b.length / 5)) : undefined);
  const end = scanner.body(skipWhitespace(b, 0));
  if (end === FAILED || skipWhitespace(b, end) !== b.length) return undefined;
  let skeleton: unknown;
  try {
    skeleton = JSON.parse(scanner.skeleton());
  } catch {
    return undefined;
  }
  const spans = scanner.spans;
  return {
    skeleton,
    vectors: (order) => textVectors(b, order.map((k) => spans[k] as NumberListSpan), scanner.converted),
  };
}
