/** Image types recognised from their first bytes. */

const PNG = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
const JPEG = [0xff, 0xd8, 0xff];

function startsWith(bytes: Uint8Array, prefix: readonly number[], offset = 0): boolean {
  return prefix.every((byte, i) => bytes[offset + i] === byte);
}

/** How many leading bytes `sniffImageType` needs to decide. */
export const SNIFF_BYTES = 12;

/** `image/png`, `image/jpeg` or `image/webp` from magic bytes; undefined when it is none of them. */
export function sniffImageType(bytes: Uint8Array): string | undefined {
  if (startsWith(bytes, PNG)) return "image/png";
  if (startsWith(bytes, JPEG)) return "image/jpeg";
  // RIFF....WEBP
  if (startsWith(bytes, [0x52, 0x49, 0x46, 0x46]) && startsWith(bytes, [0x57, 0x45, 0x42, 0x50], 8)) {
    return "image/webp";
  }
  return undefined;
}

/** The image type of base64 data, read from its first bytes only. */
export function sniffBase64ImageType(base64: string): string | undefined {
  // 16 base64 characters decode to the first 12 bytes.
  return sniffImageType(Buffer.from(base64.slice(0, 16), "base64"));
}

export const EXTENSIONS: Readonly<Record<string, string>> = {
  "image/png": ".png",
  "image/jpeg": ".jpg",
  "image/webp": ".webp",
};
