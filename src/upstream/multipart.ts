/**
 * A multipart/form-data body as an async iterable of chunks, so undici streams it and a large file never sits
 * whole in memory. Each call to `encode` reads the files afresh (for a retry).
 */
import { randomBytes } from "node:crypto";
import type { FileSource } from "./files.js";
import { EXTENSIONS, SNIFF_BYTES, sniffFileType } from "./sniff.js";

export type MultipartPart =
  | { name: string; value: string }
  /** `defaultName`: the file's name, before its extension, when the source has none (default: the field name). */
  | { name: string; file: FileSource; defaultName?: string };

export interface MultipartBody {
  contentType: string;
  /** The body's bytes; every iteration starts over and re-reads the files. */
  chunks: AsyncIterable<Uint8Array>;
}

const CRLF = "\r\n";

/** As the WHATWG FormData encoder escapes names: quotes and line breaks would end the header. */
function escapeName(name: string): string {
  return name.replace(/"/g, "%22").replace(/\r/g, "%0D").replace(/\n/g, "%0A");
}

/** Reads the first bytes of a file, enough to sniff its type, and hands back those bytes with the rest. */
async function peek(chunks: AsyncIterator<Uint8Array>): Promise<{ head: Uint8Array[]; headBytes: Uint8Array; done: boolean }> {
  const head: Uint8Array[] = [];
  let size = 0;
  while (size < SNIFF_BYTES) {
    const next = await chunks.next();
    if (next.done === true) return { head, headBytes: firstBytes(head), done: true };
    head.push(next.value);
    size += next.value.length;
  }
  return { head, headBytes: firstBytes(head), done: false };
}

/** The first SNIFF_BYTES of some chunks, copying no more than that (a chunk may be a whole 50 MB file). */
function firstBytes(chunks: Uint8Array[]): Uint8Array {
  return Buffer.concat(chunks.map((chunk) => chunk.subarray(0, SNIFF_BYTES))).subarray(0, SNIFF_BYTES);
}

async function* filePart(boundary: string, name: string, file: FileSource, defaultName: string): AsyncGenerator<Uint8Array> {
  const iterator = file.open()[Symbol.asyncIterator]();
  try {
    const { head, headBytes, done } = await peek(iterator);
    const sniffed = sniffFileType(headBytes);
    const contentType = file.contentType ?? sniffed ?? "application/octet-stream";
    const filename = file.filename ?? `${defaultName}${(sniffed && EXTENSIONS[sniffed]) ?? ""}`;
    yield Buffer.from(
      `--${boundary}${CRLF}` +
        `Content-Disposition: form-data; name="${escapeName(name)}"; filename="${escapeName(filename)}"${CRLF}` +
        `Content-Type: ${contentType}${CRLF}${CRLF}`,
    );
    yield* head;
    if (!done) {
      for (let next = await iterator.next(); next.done !== true; next = await iterator.next()) yield next.value;
    }
    yield Buffer.from(CRLF);
  } finally {
    // Stops (and so closes) the file's stream when the request ends early.
    await iterator.return?.();
  }
}

async function* encodeParts(boundary: string, parts: readonly MultipartPart[]): AsyncGenerator<Uint8Array> {
  for (const part of parts) {
    if ("file" in part) {
      yield* filePart(boundary, part.name, part.file, part.defaultName ?? part.name);
    } else {
      yield Buffer.from(
        `--${boundary}${CRLF}Content-Disposition: form-data; name="${escapeName(part.name)}"${CRLF}${CRLF}${part.value}${CRLF}`,
      );
    }
  }
  yield Buffer.from(`--${boundary}--${CRLF}`);
}

export function encodeMultipart(parts: readonly MultipartPart[]): MultipartBody {
  const boundary = `----xgate${randomBytes(12).toString("hex")}`;
  return {
    contentType: `multipart/form-data; boundary=${boundary}`,
    chunks: { [Symbol.asyncIterator]: () => encodeParts(boundary, parts) },
  };
}
