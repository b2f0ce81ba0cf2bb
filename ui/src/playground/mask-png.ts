/**
 * The edit mask as a PNG that both conventions read the same way. OpenAI's images/edits edits where the mask
 * is transparent (alpha 0) and keeps what is opaque; Xinference hands the mask to a diffusers inpainting
 * pipeline, which reads its grey level (white: repaint, black: keep) and ignores alpha. So a painted pixel is
 * written white and transparent, the rest opaque black. A canvas cannot export that (it premultiplies alpha:
 * a transparent pixel comes out black), hence this small encoder: 8-bit RGBA, no filtering, deflated by the
 * browser's CompressionStream (zlib, what PNG's IDAT holds).
 */

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

function crc32(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of bytes) crc = (CRC_TABLE[(crc ^ byte) & 0xff] as number) ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, data.length);
  for (let i = 0; i < 4; i++) out[4 + i] = type.charCodeAt(i);
  out.set(data, 8);
  view.setUint32(8 + data.length, crc32(out.subarray(4, 8 + data.length)));
  return out;
}

async function deflate(bytes: Uint8Array): Promise<Uint8Array> {
  const stream = new Blob([bytes as BlobPart]).stream().pipeThrough(new CompressionStream("deflate"));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/** `painted[i]` says whether pixel i (row by row) is to be edited. */
export async function maskPng(width: number, height: number, painted: (index: number) => boolean): Promise<Blob> {
  const stride = width * 4 + 1;
  const raw = new Uint8Array(stride * height);
  for (let y = 0; y < height; y++) {
    // Each scanline starts with its filter type: 0, none.
    for (let x = 0; x < width; x++) {
      const at = y * stride + 1 + x * 4;
      const edit = painted(y * width + x);
      const grey = edit ? 255 : 0;
      raw[at] = grey;
      raw[at + 1] = grey;
      raw[at + 2] = grey;
      raw[at + 3] = edit ? 0 : 255;
    }
  }
  const header = new Uint8Array(13);
  const view = new DataView(header.buffer);
  view.setUint32(0, width);
  view.setUint32(4, height);
  header.set([8, 6, 0, 0, 0], 8); // 8 bits per channel, RGBA, deflate, adaptive filtering, no interlace
  const signature = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  const parts = [signature, chunk("IHDR", header), chunk("IDAT", await deflate(raw)), chunk("IEND", new Uint8Array(0))];
  return new Blob(parts as BlobPart[], { type: "image/png" });
}
