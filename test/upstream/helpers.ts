// Helpers for upstream tests: reading a multipart body back with busboy, small image bytes, tiny servers.
import { createServer } from "node:http";
import type { IncomingMessage, Server, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import busboy from "busboy";
import sharp from "sharp";

export interface ParsedPart {
  name: string;
  value?: string;
  filename?: string;
  contentType?: string;
  /** File bytes. */
  data?: Buffer;
}

/** Parses a multipart body from a stream of chunks. */
export function parseMultipart(contentType: string, chunks: AsyncIterable<Uint8Array> | IncomingMessage): Promise<ParsedPart[]> {
  return new Promise((resolve, reject) => {
    const parts: ParsedPart[] = [];
    const bb = busboy({ headers: { "content-type": contentType }, limits: { fileSize: Infinity } });
    bb.on("field", (name, value) => parts.push({ name, value }));
    bb.on("file", (name, stream, info) => {
      const data: Buffer[] = [];
      const part: ParsedPart = { name, filename: info.filename, contentType: info.mimeType };
      parts.push(part);
      stream.on("data", (chunk: Buffer) => data.push(chunk));
      stream.on("end", () => (part.data = Buffer.concat(data)));
    });
    bb.on("close", () => resolve(parts));
    bb.on("error", reject);
    void (async () => {
      try {
        for await (const chunk of chunks) bb.write(chunk);
        bb.end();
      } catch (err) {
        reject(err as Error);
      }
    })();
  });
}

export async function pngBytes(width = 16, height = 16): Promise<Buffer> {
  return sharp({ create: { width, height, channels: 3, background: { r: 10, g: 120, b: 200 } } }).png().toBuffer();
}

export async function jpegBytes(width = 16, height = 16): Promise<Buffer> {
  return sharp({ create: { width, height, channels: 3, background: { r: 200, g: 80, b: 20 } } }).jpeg().toBuffer();
}

export async function webpBytes(width = 16, height = 16): Promise<Buffer> {
  return sharp({ create: { width, height, channels: 3, background: { r: 0, g: 0, b: 0 } } }).webp().toBuffer();
}

export interface TinyServer {
  baseUrl: string;
  server: Server;
  close(): Promise<void>;
}

/** A plain http server on port 0, for behaviours the emulator does not have. */
export async function tinyServer(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<TinyServer> {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}/v1`,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
