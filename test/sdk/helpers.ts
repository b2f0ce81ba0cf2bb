// Shared by the SDK and provider tests: an emulator per test file, and reading its request log.
import { after, before } from "node:test";
import { startEmulator } from "../support/emulator/index.js";
import type { Emulator, EmulatorOptions, RecordedMultipart, RecordedRequest } from "../support/emulator/index.js";

/** Starts an emulator before the file's tests and closes it after; the getter returns it. */
export function useEmulator(options: EmulatorOptions = {}): () => Emulator {
  let emulator: Emulator | undefined;
  before(async () => {
    emulator = await startEmulator(options);
  });
  after(async () => {
    await emulator?.close();
  });
  return () => {
    if (emulator === undefined) throw new Error("the emulator has not started");
    return emulator;
  };
}

/** The requests the emulator received on a route, e.g. `/v1/embeddings`. */
export function requestsTo(emulator: Emulator, path: string): RecordedRequest[] {
  return emulator.requests.filter((r) => r.path === path);
}

export function jsonBody(request: RecordedRequest | undefined): Record<string, unknown> {
  if (request === undefined) throw new Error("no such request");
  return request.body as Record<string, unknown>;
}

export function multipartBody(request: RecordedRequest | undefined): RecordedMultipart {
  if (request === undefined) throw new Error("no such request");
  return request.body as RecordedMultipart;
}

/** Float32 values from OpenAI's base64 embedding encoding. */
export function decodeFloat32Base64(text: string): number[] {
  const bytes = Buffer.from(text, "base64");
  const values: number[] = [];
  for (let i = 0; i < bytes.length; i += 4) values.push(bytes.readFloatLE(i));
  return values;
}
