/**
 * An OpenAI-shaped image answer (`{"created": …, "data": [{"b64_json": "<base64>"}, …]}`) read without
 * parsing its base64 (base64-items.ts), and checked: the proxy then writes those bytes into its own answer,
 * never decoding, re-encoding or JSON-round-tripping ~200 kB of text per image.
 */
import { parseJsonBody } from "../upstream/http.js";
import type { UpstreamTarget } from "../upstream/target.js";
import { isBase64, scanBase64Items } from "./base64-items.js";
import { isRecord, unexpectedResponse } from "./shape.js";
import type { ImageResult } from "./types.js";

/**
 * An OpenAI ImageList (`{"created", "data": [{"b64_json"}, …]}`) read as base64 bytes: the usual body scanned,
 * an unusual one parsed and checked the same way. Providers ask for `b64_json` and answer a client's `url`
 * themselves, so an item without one is a bad gateway.
 */
export function decodeImageList(body: Buffer, from: Pick<UpstreamTarget, "provider" | "label">): ImageResult {
  const scanned = scanBase64Items(body, "b64_json");
  const json = scanned?.skeleton ?? parseJsonBody(body);
  const bad = (what: string): Error => unexpectedResponse(from.provider, from.label, what);
  if (!isRecord(json) || !Array.isArray(json.data)) throw bad("no `data` list");
  const images =
    scanned?.strings ??
    json.data.map((item: unknown, i): Buffer => {
      const b64 = isRecord(item) ? item.b64_json : undefined;
      const bytes = typeof b64 === "string" ? Buffer.from(b64, "latin1") : undefined;
      if (bytes === undefined || !isBase64(bytes)) throw bad(`data[${i}] holds no b64_json image`);
      return bytes;
    });
  const created = typeof json.created === "number" ? json.created : Math.floor(Date.now() / 1000);
  return { created, images };
}
