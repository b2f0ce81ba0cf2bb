// Reading the emulator's streams the way a client does: whole, or event by event from the socket.
import type { Emulator } from "../support/emulator/index.js";

export interface SseBlock {
  /** The block without its separator: "data: {...}", ": ping - ...", "data: [DONE]". */
  raw: string;
}

/** Splits a stream's text on the separator it must use; a trailing partial block is kept. */
export function sseBlocks(text: string, separator: "\r\n\r\n" | "\n\n"): string[] {
  const blocks = text.split(separator);
  if (blocks.at(-1) === "") blocks.pop();
  return blocks;
}

/** The data lines of the blocks, pings and other comments left out. */
export function dataOf(blocks: string[]): string[] {
  return blocks.filter((b) => b.startsWith("data: ")).map((b) => b.slice("data: ".length));
}

export function jsonEvents<T = Record<string, unknown>>(blocks: string[]): T[] {
  return dataOf(blocks)
    .filter((d) => d !== "[DONE]")
    .map((d) => JSON.parse(d) as T);
}

export function streamRequest(emulator: Emulator, path: string, body: unknown, signal?: AbortSignal): Promise<Response> {
  return fetch(`${emulator.baseUrl}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
    signal,
  });
}

/** Reads from a streamed body until it holds `count` complete blocks; returns them. */
export async function readBlocks(reader: ReadableStreamDefaultReader<Uint8Array>, count: number, separator: "\r\n\r\n" | "\n\n"): Promise<string[]> {
  const decoder = new TextDecoder();
  let text = "";
  for (;;) {
    const blocks = text.split(separator);
    if (blocks.length > count) return blocks.slice(0, count);
    const { value, done } = await reader.read();
    if (done) throw new Error(`the stream ended after ${blocks.length - 1} blocks: ${JSON.stringify(text)}`);
    text += decoder.decode(value, { stream: true });
  }
}

export interface ChatChunk {
  id: string;
  object: string;
  model: string;
  created: number;
  choices: { index: number; delta: Record<string, unknown>; finish_reason: string | null }[];
  usage?: { prompt_tokens: number; completion_tokens: number; total_tokens: number } | null;
}
