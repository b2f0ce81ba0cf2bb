// Real, decodable JPEGs of the requested size, about as large as a diffusion model's output (a gradient with
// grain; ~150 kB at 1024×1024, PIL's default quality 75). Encoding costs tens of milliseconds, so results are
// cached per (width, height, variant) and concurrent requests for the same image share one encoding.
import sharp from "sharp";
import { engineError } from "./errors.js";
import { LruCache } from "./lru.js";

export interface EncodedImage {
  jpeg: Buffer;
  base64: string;
}

/** How many different pictures a size can have: enough for `n` images to differ, few enough to cache. */
export const IMAGE_VARIANTS = 8;

const encoded = new LruCache<EncodedImage>(96 * 1024 * 1024, (img) => img.jpeg.length + img.base64.length);
const encoding = new Map<string, Promise<EncodedImage>>();

export function encodeImage(width: number, height: number, variant: number): Promise<EncodedImage> {
  const key = `${width}x${height}:${variant % IMAGE_VARIANTS}`;
  const cached = encoded.get(key);
  if (cached !== undefined) return Promise.resolve(cached);
  let pending = encoding.get(key);
  if (pending === undefined) {
    pending = render(width, height, variant % IMAGE_VARIANTS)
      .then((jpeg) => {
        const image = { jpeg, base64: jpeg.toString("base64") };
        encoded.set(key, image);
        return image;
      })
      .finally(() => encoding.delete(key));
    encoding.set(key, pending);
  }
  return pending;
}

async function render(width: number, height: number, variant: number): Promise<Buffer> {
  const pixels = Buffer.allocUnsafe(width * height * 3);
  const r0 = (variant * 53) % 256;
  const g0 = (variant * 97 + 40) % 256;
  const b0 = (variant * 193 + 80) % 256;
  let state = (variant + 1) * 2654435761;
  let i = 0;
  for (let y = 0; y < height; y++) {
    const fy = ((y * 255) / height) | 0;
    for (let x = 0; x < width; x++) {
      const fx = ((x * 255) / width) | 0;
      // xorshift32 grain: without it JPEG compresses a gradient to a few kB, far from a real picture's size.
      state ^= state << 13;
      state ^= state >>> 17;
      state ^= state << 5;
      const grain = (state & 15) - 8;
      pixels[i++] = (r0 + fx + grain) & 255;
      pixels[i++] = (g0 + fy + grain) & 255;
      pixels[i++] = (b0 + ((fx + fy) >> 1) + grain) & 255;
    }
  }
  return sharp(pixels, { raw: { width, height, channels: 3 } }).jpeg({ quality: 75 }).toBuffer();
}

/** The size of an uploaded image; an undecodable upload fails like PIL's `Image.open` does. */
export async function imageSize(data: Buffer): Promise<{ width: number; height: number }> {
  try {
    const meta = await sharp(data).metadata();
    if (meta.width !== undefined && meta.height !== undefined) return { width: meta.width, height: meta.height };
  } catch {
    // Falls through to PIL's message.
  }
  throw engineError("cannot identify image file <_io.BytesIO object at 0x7f3a5c1e2b80>");
}
