/** An embedding `input` checked and split into upstream chunks. */
import { BadRequestError } from "../errors.js";
import type { EmbeddingInput } from "../types.js";

const SHAPES = "a string, an array of strings, an array of token ids, or an array of token-id arrays";

function invalid(message: string): BadRequestError {
  return new BadRequestError(message, { param: "input" });
}

function isTokenIds(value: unknown): value is number[] {
  return Array.isArray(value) && value.every((id) => typeof id === "number" && Number.isInteger(id) && id >= 0);
}

/** The inputs one by one: strings, or token-id arrays (a flat array of token ids is a single input). */
export function embeddingItems(input: unknown): string[] | number[][] {
  if (typeof input === "string") {
    if (input === "") throw invalid("input is an empty string: give the text to embed.");
    return [input];
  }
  if (!Array.isArray(input)) throw invalid(`input must be ${SHAPES}.`);
  if (input.length === 0) throw invalid("input is an empty array: give at least one text to embed.");
  if (input.every((item) => typeof item === "string")) {
    const empty = input.findIndex((item) => item === "");
    if (empty >= 0) throw invalid(`input[${empty}] is an empty string: every input needs some text.`);
    return input;
  }
  if (input.every((item) => typeof item === "number")) {
    if (!isTokenIds(input)) throw invalid("input: token ids must be whole numbers ≥ 0.");
    return [input];
  }
  if (input.every((item) => Array.isArray(item))) {
    const bad = input.findIndex((item) => !isTokenIds(item) || item.length === 0);
    if (bad >= 0) throw invalid(`input[${bad}] must be a non-empty array of token ids (whole numbers ≥ 0).`);
    return input as number[][];
  }
  throw invalid(`input mixes kinds of items: it must be ${SHAPES}.`);
}

/**
 * The upstream request inputs: the caller's input as it is when it fits in one request, else slices of at
 * most `batchSize` items.
 */
export function embeddingChunks(input: EmbeddingInput, items: string[] | number[][], batchSize: number): { input: EmbeddingInput; count: number }[] {
  if (items.length <= batchSize) return [{ input, count: items.length }];
  const chunks: { input: EmbeddingInput; count: number }[] = [];
  for (let start = 0; start < items.length; start += batchSize) {
    const slice = items.slice(start, start + batchSize) as string[] | number[][];
    chunks.push({ input: slice, count: slice.length });
  }
  return chunks;
}
