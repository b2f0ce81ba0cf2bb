/** Image and audio types recognised from their first bytes. */

const PNG = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
const JPEG = [0xff, 0xd8, 0xff];

function startsWith(bytes: Uint8Array, prefix: readonly number[], offset = 0): boolean {
  return prefix.every((byte, i) => bytes[offset + i] === byte);
}

/** How many leading bytes `sniffImageType` and `sniffAudioType` need to decide. */
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

function startsWithText(bytes: Uint8Array, text: string, offset = 0): boolean {
  return startsWith(bytes, [...Buffer.from(text, "latin1")], offset);
}

/** ISO media brands of still images: an `ftyp` file with one of these is no audio. */
const IMAGE_BRANDS = new Set(["heic", "heix", "hevc", "heim", "heis", "mif1", "msf1", "avif", "avis"]);

/**
 * The audio type of a file from its magic bytes — the containers ffmpeg (and so Xinference's audio models)
 * and OpenAI's audio API read: WAV, MP3, AAC (ADTS), FLAC, Ogg, WebM/Matroska, MP4/M4A, AIFF. Undefined
 * when it is none of them.
 */
export function sniffAudioType(bytes: Uint8Array): string | undefined {
  if (startsWithText(bytes, "RIFF") && startsWithText(bytes, "WAVE", 8)) return "audio/wav";
  if (startsWithText(bytes, "ID3")) return "audio/mpeg";
  if (startsWithText(bytes, "fLaC")) return "audio/flac";
  if (startsWithText(bytes, "OggS")) return "audio/ogg";
  if (startsWith(bytes, [0x1a, 0x45, 0xdf, 0xa3])) return "audio/webm";
  if (startsWithText(bytes, "FORM") && (startsWithText(bytes, "AIFF", 8) || startsWithText(bytes, "AIFC", 8))) return "audio/aiff";
  if (startsWithText(bytes, "ftyp", 4) && bytes.length >= 12) {
    return IMAGE_BRANDS.has(Buffer.from(bytes.subarray(8, 12)).toString("latin1")) ? undefined : "audio/mp4";
  }
  // An MPEG audio frame: 11 sync bits; layer bits 00 are AAC in an ADTS stream, the others MPEG Layer I–III.
  const [first, second] = [bytes[0], bytes[1]];
  if (first === 0xff && second !== undefined && (second & 0xe0) === 0xe0) {
    const layer = (second >> 1) & 3;
    if (layer !== 0) return "audio/mpeg";
    if ((second & 0xf0) === 0xf0) return "audio/aac";
  }
  return undefined;
}

/** The image or audio type of a file from its first bytes; undefined when it is neither. */
export function sniffFileType(bytes: Uint8Array): string | undefined {
  return sniffImageType(bytes) ?? sniffAudioType(bytes);
}

export const EXTENSIONS: Readonly<Record<string, string>> = {
  "image/png": ".png",
  "image/jpeg": ".jpg",
  "image/webp": ".webp",
  "audio/wav": ".wav",
  "audio/mpeg": ".mp3",
  "audio/aac": ".aac",
  "audio/flac": ".flac",
  "audio/ogg": ".ogg",
  "audio/webm": ".webm",
  "audio/mp4": ".m4a",
  "audio/aiff": ".aiff",
};

/** How many leading bytes `imageSize` reads: a JPEG's frame header can follow large EXIF blocks. */
export const IMAGE_SIZE_BYTES = 64 * 1024;

/**
 * An image's width and height from its first bytes (PNG's IHDR, a JPEG's first frame header, WebP's VP8,
 * VP8L or VP8X header); undefined when they are not there or the format is none of these.
 */
export function imageSize(bytes: Buffer): { width: number; height: number } | undefined {
  if (startsWith(bytes, PNG) && bytes.length >= 24) return { width: bytes.readUInt32BE(16), height: bytes.readUInt32BE(20) };
  if (startsWith(bytes, JPEG)) return jpegSize(bytes);
  if (sniffImageType(bytes) === "image/webp" && bytes.length >= 30) {
    const chunk = bytes.toString("latin1", 12, 16);
    if (chunk === "VP8 ") return { width: bytes.readUInt16LE(26) & 0x3fff, height: bytes.readUInt16LE(28) & 0x3fff };
    if (chunk === "VP8L") {
      const bits = bytes.readUInt32LE(21);
      return { width: (bits & 0x3fff) + 1, height: ((bits >> 14) & 0x3fff) + 1 };
    }
    if (chunk === "VP8X") return { width: bytes.readUIntLE(24, 3) + 1, height: bytes.readUIntLE(27, 3) + 1 };
  }
  return undefined;
}

/** Walks a JPEG's segments to its first start-of-frame marker (SOF0–SOF15 but DHT, JPG and DAC). */
function jpegSize(bytes: Buffer): { width: number; height: number } | undefined {
  let at = 2;
  while (at + 9 < bytes.length) {
    if (bytes[at] !== 0xff) return undefined;
    const marker = bytes[at + 1] as number;
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      return { width: bytes.readUInt16BE(at + 7), height: bytes.readUInt16BE(at + 5) };
    }
    at += 2 + bytes.readUInt16BE(at + 2);
  }
  return undefined;
}
