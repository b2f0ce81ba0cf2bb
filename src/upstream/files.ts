/**
 * Files to upload, from any input form the SDK accepts, as sources that can be read again for a retry
 * whenever the input allows it. Nothing is read until the request body is written, and nothing is held whole
 * in memory: streams are passed through chunk by chunk, Blobs are read in slices.
 */
import { createReadStream, ReadStream } from "node:fs";
import { basename } from "node:path";
import { File } from "node:buffer";
import { Readable } from "node:stream";
import { BadRequestError } from "../errors.js";
import type { FileLike } from "../types.js";

export interface FileSource {
  /** Undefined when the input carried no name; the encoder then names it after its field and type. */
  readonly filename: string | undefined;
  /** Undefined when the input carried no type; the encoder then sniffs it from the first bytes. */
  readonly contentType: string | undefined;
  /** The bytes from the start. Each call reads afresh, except for a one-shot stream (see `replayable`). */
  open(): AsyncIterable<Uint8Array>;
  /** Whether `open()` can still return the whole file: false once a one-shot stream has been read. */
  readonly replayable: boolean;
  /** Releases a stream the caller handed over and that was not (fully) read, such as an open fs.ReadStream. */
  dispose(): void;
}

const BLOB_SLICE = 256 * 1024;

/** Types that carry no information: the encoder sniffs the real one instead. */
const GENERIC_TYPES = new Set(["", "application/octet-stream"]);

function meaningfulType(type: string | undefined): string | undefined {
  return type === undefined || GENERIC_TYPES.has(type.toLowerCase()) ? undefined : type;
}

/** Node's Readable, or a stream that behaves like one (e.g. from the readable-stream package). */
function isReadable(value: unknown): value is Readable {
  if (value instanceof Readable) return true;
  return (
    typeof value === "object" &&
    value !== null &&
    typeof (value as { pipe?: unknown }).pipe === "function" &&
    Symbol.asyncIterator in value
  );
}

function isFileLike(value: unknown): value is FileLike {
  return typeof value === "object" && value !== null && "data" in value && !isReadable(value) && !(value instanceof Blob);
}

function toBytes(chunk: unknown): Uint8Array {
  if (chunk instanceof Uint8Array) return chunk;
  if (typeof chunk === "string") return Buffer.from(chunk);
  throw new TypeError(`a file stream yielded ${typeof chunk} instead of bytes`);
}

/** Reading a file to upload failed (a deleted file, a stream that errored): the caller's problem, not the upstream's. */
export class FileReadError extends Error {
  constructor(cause: unknown) {
    super(cause instanceof Error ? cause.message : String(cause), { cause });
    this.name = "FileReadError";
  }
}

async function* readStream(stream: Readable): AsyncGenerator<Uint8Array> {
  try {
    for await (const chunk of stream) yield toBytes(chunk);
  } catch (err) {
    throw new FileReadError(err);
  }
}

async function* readBlob(blob: Blob): AsyncGenerator<Uint8Array> {
  for (let start = 0; start < blob.size; start += BLOB_SLICE) {
    yield new Uint8Array(await blob.slice(start, start + BLOB_SLICE).arrayBuffer());
  }
}

function bytesSource(data: Uint8Array, filename: string | undefined, contentType: string | undefined): FileSource {
  return {
    filename,
    contentType,
    replayable: true,
    open: async function* () {
      yield data;
    },
    dispose() {},
  };
}

function blobSource(blob: Blob, filename: string | undefined, contentType: string | undefined): FileSource {
  return { filename, contentType, replayable: true, open: () => readBlob(blob), dispose() {} };
}

/** The file a stream reads, when it is an fs.ReadStream opened from a path: then it can be opened again. */
function streamPath(stream: Readable): string | Buffer | undefined {
  if (!(stream instanceof ReadStream)) return undefined;
  const path: unknown = stream.path;
  return typeof path === "string" || Buffer.isBuffer(path) ? path : undefined;
}

function streamSource(stream: Readable, filename: string | undefined, contentType: string | undefined): FileSource {
  const path = streamPath(stream);
  let used = false;
  if (path !== undefined) {
    const { start, end } = stream as ReadStream & { start?: number; end?: number };
    return {
      filename,
      contentType,
      replayable: true,
      open() {
        // The caller's stream serves the first attempt; later attempts reopen the file, with the same range.
        if (used) return readStream(createReadStream(path, { start, end }));
        used = true;
        return readStream(stream);
      },
      dispose() {
        stream.destroy();
      },
    };
  }
  // A generic stream can be read once only: after its bytes went out, a retry could not send them again.
  return {
    filename,
    contentType,
    get replayable() {
      return !used;
    },
    open() {
      if (used) throw new Error("a one-shot stream cannot be read twice");
      used = true;
      return readStream(stream);
    },
    dispose() {
      stream.destroy();
    },
  };
}

function nameOf(path: string | Buffer | undefined): string | undefined {
  return path === undefined ? undefined : basename(path.toString());
}

function dataSource(data: unknown, filename: string | undefined, contentType: string | undefined): FileSource | undefined {
  if (data instanceof Uint8Array) return bytesSource(data, filename, contentType);
  if (data instanceof Blob) {
    const ownName = data instanceof File && data.name !== "" ? data.name : undefined;
    return blobSource(data, filename ?? ownName, contentType ?? meaningfulType(data.type));
  }
  if (isReadable(data)) return streamSource(data, filename ?? nameOf(streamPath(data)), contentType);
  return undefined;
}

const ACCEPTED =
  "a Buffer/Uint8Array, a Blob or File, a readable stream (e.g. fs.createReadStream(path)), or { data, filename?, contentType? }";

/** A source for one input; `param` names the parameter in errors (`image`, `image[1]`, `mask`). */
export function fileSource(input: unknown, param: string): FileSource {
  let source: FileSource | undefined;
  if (isFileLike(input)) {
    const { data, filename, contentType } = input;
    if (filename !== undefined && typeof filename !== "string") {
      throw new BadRequestError(`${param}.filename must be a string.`, { param });
    }
    if (contentType !== undefined && typeof contentType !== "string") {
      throw new BadRequestError(`${param}.contentType must be a string.`, { param });
    }
    source = dataSource(data, filename === "" ? undefined : filename, meaningfulType(contentType));
    if (source === undefined) throw new BadRequestError(`${param}.data must be a Buffer/Uint8Array, a Blob or a readable stream.`, { param });
    return source;
  }
  source = dataSource(input, undefined, undefined);
  if (source === undefined) throw new BadRequestError(`${param} must be ${ACCEPTED}.`, { param });
  return source;
}
