/** What image generation and edits share: Xinference's size syntax and its ImageList answer. */
import type { ImageData, ImageResponse, ImageResponseFormat } from "../../types.js";
import { sniffBase64ImageType } from "../../upstream/sniff.js";
import { isRecord, unexpectedResponse } from "../shape.js";
import type { ImageSize } from "../types.js";
import { LABEL, PROVIDER } from "./constants.js";

/** Xinference writes sizes as `1024*1024`. */
export function xinferenceSize(size: ImageSize): string {
  return `${size.width}*${size.height}`;
}

/**
 * Xinference's ImageList to OpenAI's response. xgate always asks for base64: Xinference's own `url` is a file
 * path on its worker that nothing serves, so `url` is answered with a `data:` URL of the image instead.
 */
export function toImageResponse(json: unknown, format: ImageResponseFormat): ImageResponse {
  if (!isRecord(json) || !Array.isArray(json.data)) throw unexpectedResponse(PROVIDER, LABEL, "no `data` list");
  const data = json.data.map((item: unknown, i): ImageData => {
    const b64 = isRecord(item) ? item.b64_json : undefined;
    if (typeof b64 !== "string" || b64 === "") {
      throw unexpectedResponse(PROVIDER, LABEL, `data[${i}] holds no b64_json image`);
    }
    if (format === "b64_json") return { b64_json: b64 };
    // Xinference encodes JPEG, or PNG when the image has alpha.
    return { url: `data:${sniffBase64ImageType(b64) ?? "image/jpeg"};base64,${b64}` };
  });
  const created = typeof json.created === "number" ? json.created : Math.floor(Date.now() / 1000);
  return { created, data };
}
