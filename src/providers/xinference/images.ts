/** What image generation and edits share: Xinference's size syntax and its ImageList answer. */
import { parseJsonBody } from "../../upstream/http.js";
import { isBase64, scanImageBody } from "../image-body.js";
import { isRecord, unexpectedResponse } from "../shape.js";
import type { ImageResult, ImageSize } from "../types.js";
import { LABEL, PROVIDER } from "./constants.js";

/** Xinference writes sizes as `1024*1024`. */
export function xinferenceSize(size: ImageSize): string {
  return `${size.width}*${size.height}`;
}

/**
 * Xinference's ImageList, read as base64 bytes. xgate always asks for base64: Xinference's own `url` is a file
 * path on its worker that nothing serves. The usual body is scanned, not parsed (see image-body.ts); an
 * unusual one is parsed and checked the same way.
 */
export function decodeImageBody(body: Buffer): ImageResult {
  const scanned = scanImageBody(body);
  const json = scanned?.skeleton ?? parseJsonBody(body);
  if (!isRecord(json) || !Array.isArray(json.data)) throw unexpectedResponse(PROVIDER, LABEL, "no `data` list");
  const images =
    scanned?.images ??
    json.data.map((item: unknown, i): Buffer => {
      const b64 = isRecord(item) ? item.b64_json : undefined;
      const bytes = typeof b64 === "string" ? Buffer.from(b64, "latin1") : undefined;
      if (bytes === undefined || !isBase64(bytes)) throw unexpectedResponse(PROVIDER, LABEL, `data[${i}] holds no b64_json image`);
      return bytes;
    });
  const created = typeof json.created === "number" ? json.created : Math.floor(Date.now() / 1000);
  return { created, images };
}
