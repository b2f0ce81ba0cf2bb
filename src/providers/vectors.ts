/**
 * Embedding vectors as a provider answered them, readable three ways: as JS numbers (the SDK's objects),
 * as JSON array text, and as float32 bytes (base64) — or as the base64 text itself, when they came as that. The proxy writes the text or the bytes straight into
 * its response, so a vector that arrived as JSON text is never parsed into numbers and printed again.
 */
import { decodedLength } from "./base64-items.js";
import { Float32Buffer, scanFloat32List } from "./json-floats.js";

export interface VectorList {
  readonly length: number;
  /** How many floats vector `i` holds. */
  size(i: number): number;
  /** Vector `i` as numbers: what JSON.parse of the provider's answer gives. */
  numbers(i: number): number[];
  /** Vector `i`'s JSON numbers, comma-separated, without the brackets (so a writer copies them once). */
  jsonElements(i: number): Buffer;
  /** Vector `i` as little-endian float32s: possibly a view of a shared buffer, not to be written to. */
  float32(i: number): Buffer;
  /** Vector `i`'s float32s as base64 text, when they arrived so: a writer copies it as it is. */
  base64?(i: number): Buffer;
}

/**
 * The numbers as JSON, comma-separated. -0 keeps its sign, which JSON.stringify drops: float32(i) keeps it,
 * and the text and the bytes must say the same number.
 */
function jsonNumbers(vector: readonly number[]): string {
  const negativeZero = (x: number): boolean => Object.is(x, -0);
  if (!vector.some(negativeZero)) return JSON.stringify(vector).slice(1, -1);
  return vector.map((x) => (negativeZero(x) ? "-0" : JSON.stringify(x))).join(",");
}

/** Vectors already held as numbers. */
export function numberVectors(vectors: readonly number[][]): VectorList {
  return {
    length: vectors.length,
    size: (i) => (vectors[i] as number[]).length,
    numbers: (i) => vectors[i] as number[],
    jsonElements: (i) => Buffer.from(jsonNumbers(vectors[i] as number[])),
    float32(i) {
      const vector = vectors[i] as number[];
      const bytes = Buffer.allocUnsafe(vector.length * 4);
      for (let k = 0; k < vector.length; k++) bytes.writeFloatLE(vector[k] as number, 4 * k);
      return bytes;
    },
  };
}

/**
 * Vectors that arrived as base64 of little-endian float32s (an OpenAI server's answer to `encoding_format:
 * "base64"`), as the checked base64 text: written out as it came when base64 is wanted, decoded only for
 * the other forms.
 */
export function base64Vectors(texts: readonly Buffer[]): VectorList {
  const text = (i: number): Buffer => texts[i] as Buffer;
  const float32 = (i: number): Buffer => Buffer.from(text(i).toString("latin1"), "base64");
  const numbers = (i: number): number[] => {
    const bytes = float32(i);
    const values = new Array<number>(bytes.length / 4);
    for (let k = 0; k < values.length; k++) values[k] = bytes.readFloatLE(4 * k);
    return values;
  };
  return {
    length: texts.length,
    size: (i) => decodedLength(text(i)) / 4,
    numbers,
    jsonElements: (i) => Buffer.from(JSON.stringify(numbers(i)).slice(1, -1)),
    float32,
    base64: text,
  };
}

/**
 * A JSON array of numbers in a body: the bytes between its brackets, checked by scanNumberList, and where
 * its float32s start in the body's converted floats when it was read with scanFloat32List.
 */
export interface NumberListSpan {
  start: number;
  end: number;
  count: number;
  float32At?: number;
}

/**
 * Vectors as spans of JSON text in an upstream body, and their float32s when the body's lists were converted
 * as they were checked (a base64 answer was wanted).
 */
export function textVectors(body: Buffer, spans: readonly NumberListSpan[], converted?: Float32Buffer): VectorList {
  const span = (i: number): NumberListSpan => spans[i] as NumberListSpan;
  return {
    length: spans.length,
    size: (i) => span(i).count,
    numbers: (i) => JSON.parse(`[${body.toString("latin1", span(i).start, span(i).end)}]`) as number[],
    jsonElements: (i) => body.subarray(span(i).start, span(i).end),
    float32(i) {
      const { start, count, float32At } = span(i);
      if (converted !== undefined && float32At !== undefined) return converted.bytes.subarray(float32At, float32At + 4 * count);
      const out = new Float32Buffer(4 * count);
      scanFloat32List(body, start, out);
      return out.bytes.subarray(0, out.length);
    },
  };
}
