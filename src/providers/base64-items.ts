/**
 * An OpenAI-shaped answer whose items hold base64 strings (`{"data": [{"b64_json": "<base64>"}, …]}` for
 * images, `"embedding"` in a base64 embedding answer) read without parsing them: each string is found with
 * native byte searches, checked as base64, kept as the bytes it arrived as, and replaced by a placeholder
 * `"k"` so that only a small skeleton goes through JSON.parse.
 *
 * Anything unusual (an escape inside the string, the key where it is not an item's) gives undefined, and the
 * caller parses the whole body the ordinary way: same results, same errors.
 */
import { withoutBom } from "../upstream/http.js";
import { isRecord } from "./shape.js";

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COLON = 0x3a;

export interface ScannedBase64Items {
  /** The body parsed with every item's base64 string replaced by its index, as a string. */
  skeleton: unknown;
  /** Each string's text, as the body's bytes (views into it). */
  strings: Buffer[];
}

function isWhitespace(byte: number | undefined): boolean {
  return byte === 0x20 || byte === 0x0a || byte === 0x0d || byte === 0x09;
}

/** 1 for each byte of standard base64's alphabet. */
const ALPHABET = new Uint8Array(256);
for (const c of "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/") ALPHABET[c.charCodeAt(0)] = 1;
/** 1 for each little-endian pair of bytes (`first | second << 8`) that are both in the alphabet: 64 kB. */
const ALPHABET_PAIRS = new Uint8Array(65536);
for (let first = 0; first < 256; first++) {
  for (let second = 0; second < 256; second++) ALPHABET_PAIRS[first | (second << 8)] = (ALPHABET[first] as number) & (ALPHABET[second] as number);
}
const PADDING = 0x3d;

/** Whether the four bytes of a little-endian word are all in the alphabet. */
function alphabetWord(word: number): number {
  return (ALPHABET_PAIRS[word & 0xffff] as number) & (ALPHABET_PAIRS[word >>> 16] as number);
}

/**
 * Standard base64 with its padding, the only form an OpenAI-style answer has. Every group of four but the
 * last must be four letters of the alphabet: checked a word at a time, two table lookups per word, four
 * words per step (0.21 ns a byte here, against 0.91 for a lookup per byte; on a 270 kB image a regular
 * expression took 3× a JSON.parse of the whole body). The last group may end in padding.
 */
export function isBase64(bytes: Buffer): boolean {
  const length = bytes.length;
  if (length === 0 || length % 4 !== 0) return false;
  const words = new DataView(bytes.buffer, bytes.byteOffset, length);
  const lastGroup = length - 4;
  let at = 0;
  for (; at + 16 <= lastGroup; at += 16) {
    const ok =
      alphabetWord(words.getUint32(at, true)) &
      alphabetWord(words.getUint32(at + 4, true)) &
      alphabetWord(words.getUint32(at + 8, true)) &
      alphabetWord(words.getUint32(at + 12, true));
    if (ok === 0) return false;
  }
  for (; at < lastGroup; at += 4) if (alphabetWord(words.getUint32(at, true)) === 0) return false;
  const end = length - (bytes[length - 1] === PADDING ? (bytes[length - 2] === PADDING ? 2 : 1) : 0);
  for (let i = lastGroup; i < end; i++) if (ALPHABET[bytes[i] as number] === 0) return false;
  return true;
}

/** How many bytes base64 text that isBase64 accepted decodes to. */
export function decodedLength(text: Buffer): number {
  const padding = text[text.length - 1] === PADDING ? (text[text.length - 2] === PADDING ? 2 : 1) : 0;
  return (text.length / 4) * 3 - padding;
}

/** The `data[].<field>` base64 strings of a body, or undefined when it must be parsed the ordinary way. */
export function scanBase64Items(raw: Buffer, field: string): ScannedBase64Items | undefined {
  const key = Buffer.from(JSON.stringify(field));
  const body = withoutBom(raw);
  const strings: Buffer[] = [];
  const skeleton: Buffer[] = [];
  let copied = 0;
  for (let at = body.indexOf(key); at !== -1; ) {
    let i = at + key.length;
    while (isWhitespace(body[i])) i++;
    // The word as a string value (`"object": "embedding"`), not as a key: look further.
    if (body[i] !== COLON) {
      at = body.indexOf(key, i);
      continue;
    }
    i++;
    while (isWhitespace(body[i])) i++;
    // `null`, or anything but a string: the ordinary parse decides what it means.
    if (body[i] !== QUOTE) return undefined;
    const start = i + 1;
    const end = body.indexOf(QUOTE, start);
    if (end === -1) return undefined;
    const text = body.subarray(start, end);
    // Searched within the string only: a search to the body's end for each item would be quadratic.
    if (text.includes(BACKSLASH) || !isBase64(text)) return undefined;
    skeleton.push(body.subarray(copied, start), Buffer.from(String(strings.length)));
    strings.push(text);
    copied = end;
    at = body.indexOf(key, end);
  }
  if (strings.length === 0) return undefined;
  skeleton.push(body.subarray(copied));
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.concat(skeleton).toString("utf8"));
  } catch {
    return undefined;
  }
  // Every placeholder must be an item's field, in order: else a match was not where it seemed.
  if (!isRecord(parsed) || !Array.isArray(parsed.data)) return undefined;
  let next = 0;
  for (const item of parsed.data) {
    if (!isRecord(item) || item[field] !== String(next)) return undefined;
    next++;
  }
  return next === strings.length ? { skeleton: parsed, strings } : undefined;
}
