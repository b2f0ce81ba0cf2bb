/** What image generation and edits answer: the provider's base64 bytes, written out as the caller needs them. */
import type { ImageResult } from "../providers/index.js";
import type { ImageData, ImageResponse, ImageResponseFormat } from "../types.js";
import { IMAGE_SIZE_BYTES, imageSize, sniffBase64ImageType } from "../upstream/sniff.js";

export interface Images {
  readonly created: number;
  readonly count: number;
  /**
   * The OpenAI response as objects, in the format the run was asked for: base64 strings, or for `url`
   * `data:` URLs (the SDK has no server to host images on). What the SDK returns.
   */
  response(): ImageResponse;
  /** The `b64_json` response as JSON bytes, each image's base64 copied as the provider sent it. */
  json(): Buffer;
  /** Image `i` decoded, to be stored and served (the proxy's `url` answers). */
  decoded(i: number): Buffer;
  /** Image `i`'s size, read from its header; undefined when it cannot be read. */
  size(i: number): { width: number; height: number } | undefined;
}

const B64_ITEM_SEPARATOR = Buffer.from('"},{"b64_json":"');

export function imagesOf(result: ImageResult, format: ImageResponseFormat): Images {
  const { created, images } = result;
  const b64 = (i: number): string => (images[i] as Buffer).toString("latin1");
  return {
    created,
    count: images.length,
    response() {
      const data = images.map((_bytes, i): ImageData => {
        if (format === "b64_json") return { b64_json: b64(i) };
        // Xinference encodes JPEG, or PNG when the image has alpha.
        return { url: `data:${sniffBase64ImageType(b64(i)) ?? "image/jpeg"};base64,${b64(i)}` };
      });
      return { created, data };
    },
    json() {
      const parts: Buffer[] = [Buffer.from(`{"created":${created},"data":[`)];
      images.forEach((bytes, i) => parts.push(i === 0 ? Buffer.from('{"b64_json":"') : B64_ITEM_SEPARATOR, bytes));
      parts.push(Buffer.from(images.length === 0 ? "]}" : '"}]}'));
      return Buffer.concat(parts);
    },
    decoded: (i) => Buffer.from(b64(i), "base64"),
    // Only the header is decoded: 4 base64 characters make 3 bytes.
    size: (i) => (images[i] === undefined ? undefined : imageSize(Buffer.from((images[i] as Buffer).toString("latin1", 0, Math.ceil(IMAGE_SIZE_BYTES / 3) * 4), "base64"))),
  };
}
