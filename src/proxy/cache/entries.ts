/**
 * A cache entry holds one embedding in the representation its answer was written from (see
 * `representation` in operations/embeddings.ts), behind a one-byte tag:
 *
 * - `f` + little-endian float32s, from a base64 answer: 4 bytes a float;
 * - `t` + the float text exactly as the upstream sent it + `]`, from a float answer.
 *
 * Float text cannot be rebuilt from float32 bytes: the upstream printed each float its own way (Python's 17
 * digits, another server's shortest form, exponents written differently), and printing 2 million floats
 * again would cost more than the upstream call. So a float answer is only ever written from text that came
 * from an upstream; base64 from either (text is converted exactly as an uncached answer's is).
 */
import type { EncodingFormat } from "../../operations/index.js";
import { Float32Buffer, scanFloat32List } from "../../providers/json-floats.js";

const FLOAT32 = 0x66; // "f"
const TEXT = 0x74; // "t"
const CLOSE_BRACKET = 0x5d;

/** The entry that keeps `written`, what an answer in `format` was written from. */
export function entryOf(written: Buffer, format: EncodingFormat): Buffer {
  if (format === "base64") {
    const entry = Buffer.allocUnsafe(1 + written.length);
    entry[0] = FLOAT32;
    written.copy(entry, 1);
    return entry;
  }
  const entry = Buffer.allocUnsafe(2 + written.length);
  entry[0] = TEXT;
  written.copy(entry, 1);
  entry[entry.length - 1] = CLOSE_BRACKET;
  return entry;
}

/**
 * What an answer in `format` is written from, read back from an entry; undefined when the entry cannot give
 * it byte for byte (float text from float32 bytes, or something this code did not write).
 */
export function writtenFrom(entry: Buffer, format: EncodingFormat): Buffer | undefined {
  const tag = entry[0];
  if (tag === TEXT && entry[entry.length - 1] === CLOSE_BRACKET) {
    if (format === "float") return entry.subarray(1, entry.length - 1);
    const floats = new Float32Buffer(Math.ceil(entry.length / 4));
    return scanFloat32List(entry, 1, floats)?.end === entry.length - 1 ? floats.bytes.subarray(0, floats.length) : undefined;
  }
  if (tag === FLOAT32 && format === "base64" && (entry.length - 1) % 4 === 0) return entry.subarray(1);
  return undefined;
}
