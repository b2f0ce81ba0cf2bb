/**
 * Embedding vectors as a provider answered them, readable three ways: as JS numbers (the SDK's objects),
 * as JSON array text, and as float32 bytes (base64). The proxy writes the text or the bytes straight into
 * its response, so a vector that arrived as JSON text is never parsed into numbers and printed again.
 */
import { writeFloat32List } from "./json-floats.js";

export interface VectorList {
  readonly length: number;
  /** How many floats vector `i` holds. */
  size(i: number): number;
  /** Vector `i` as numbers: what JSON.parse of the provider's answer gives. */
  numbers(i: number): number[];
  /** Vector `i`'s JSON numbers, comma-separated, without the brackets (so a writer copies them once). */
  jsonElements(i: number): Buffer;
  /** Writes vector `i` as little-endian float32s at `offset`. */
  writeFloat32(i: number, out: DataView, offset: number): void;
}

/** Vectors already held as numbers. */
export function numberVectors(vectors: readonly number[][]): VectorList {
  return {
    length: vectors.length,
    size: (i) => (vectors[i] as number[]).length,
    numbers: (i) => vectors[i] as number[],
    jsonElements: (i) => Buffer.from(JSON.stringify(vectors[i]).slice(1, -1)),
    writeFloat32(i, out, offset) {
      const vector = vectors[i] as number[];
      for (let k = 0; k < vector.length; k++) out.setFloat32(offset + 4 * k, vector[k] as number, true);
    },
  };
}

/** A JSON array of numbers in a body: the bytes between its brackets, checked by scanNumberList. */
export interface NumberListSpan {
  start: number;
  end: number;
  count: number;
}

/** Vectors as spans of JSON text in an upstream body. */
export function textVectors(body: Buffer, spans: readonly NumberListSpan[]): VectorList {
  const span = (i: number): NumberListSpan => spans[i] as NumberListSpan;
  return {
    length: spans.length,
    size: (i) => span(i).count,
    numbers: (i) => JSON.parse(`[${body.toString("latin1", span(i).start, span(i).end)}]`) as number[],
    jsonElements: (i) => body.subarray(span(i).start, span(i).end),
    writeFloat32: (i, out, offset) => writeFloat32List(body, span(i).start, span(i).end, out, offset),
  };
}
