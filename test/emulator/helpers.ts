// Shared helpers for the emulator's own tests: calling it like a client would, and making real images.
import sharp from "sharp";
import type { Emulator } from "../support/emulator/index.js";

export function postJson(emulator: Emulator, path: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${emulator.baseUrl}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
}

export function postForm(emulator: Emulator, path: string, form: FormData, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${emulator.baseUrl}${path}`, { method: "POST", body: form, headers });
}

/** A real PNG of the given size, to upload. */
export async function pngImage(width: number, height: number): Promise<Blob> {
  const data = await sharp({ create: { width, height, channels: 3, background: { r: 200, g: 80, b: 20 } } })
    .png()
    .toBuffer();
  return new Blob([data], { type: "image/png" });
}

export async function imageInfo(data: Buffer): Promise<{ format: string | undefined; width: number | undefined; height: number | undefined }> {
  const meta = await sharp(data).metadata();
  return { format: meta.format, width: meta.width, height: meta.height };
}

export interface ImageListBody {
  created: number;
  data: { url: string | null; b64_json: string | null }[];
}

export function norm(vector: readonly number[]): number {
  return Math.sqrt(vector.reduce((sum, x) => sum + x * x, 0));
}
