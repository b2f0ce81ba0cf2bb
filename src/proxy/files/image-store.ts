/**
 * Hosted images for `response_format: "url"`. Xinference's own `url` is a file path on its worker that
 * nothing serves, so xgate keeps the bytes and hands out an http URL of its own.
 *
 * Images live on disk, not in memory, so that many of them cost no heap, and so that every worker of
 * `--num_workers` (or every instance sharing a volume) can serve any of them. A name carries its own
 * expiry: `<random>-<expiresAt base36>.<ext>`, so no index is needed and any process can sweep.
 */
import { randomBytes } from "node:crypto";
import { mkdir, readdir, stat, unlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

const NAME = /^([A-Za-z0-9_-]{32})-([0-9a-z]{1,12})\.(png|jpg|webp)$/;

const CONTENT_TYPES: Record<string, string> = { png: "image/png", jpg: "image/jpeg", webp: "image/webp" };

export interface StoredImage {
  path: string;
  contentType: string;
  size: number;
  expiresAt: number;
}

export interface ImageStoreOptions {
  dir?: string;
  ttlSeconds: number;
  now?: () => number;
}

export function defaultImageDir(): string {
  return join(tmpdir(), "xgate-images");
}

/** The file extension for image bytes, from their magic numbers. */
export function imageExtension(bytes: Uint8Array): "png" | "jpg" | "webp" {
  if (bytes[0] === 0x89 && bytes[1] === 0x50 && bytes[2] === 0x4e && bytes[3] === 0x47) return "png";
  if (bytes[0] === 0x52 && bytes[1] === 0x49 && bytes[2] === 0x46 && bytes[3] === 0x46) return "webp";
  return "jpg";
}

export class ImageStore {
  readonly dir: string;
  private readonly ttlMs: number;
  private readonly now: () => number;
  private ready: Promise<unknown> | undefined;

  constructor(options: ImageStoreOptions) {
    this.dir = options.dir ?? defaultImageDir();
    this.ttlMs = options.ttlSeconds * 1000;
    this.now = options.now ?? Date.now;
  }

  /** Stores the bytes and returns the file name that `get` serves. */
  async put(bytes: Uint8Array): Promise<string> {
    this.ready ??= mkdir(this.dir, { recursive: true, mode: 0o700 });
    await this.ready;
    const expiresAt = this.now() + this.ttlMs;
    const name = `${randomBytes(24).toString("base64url")}-${expiresAt.toString(36)}.${imageExtension(bytes)}`;
    await writeFile(join(this.dir, name), bytes, { mode: 0o600 });
    return name;
  }

  /** The stored image, or undefined when the name is unknown, malformed or expired. */
  async get(name: string): Promise<StoredImage | undefined> {
    const match = NAME.exec(name);
    if (!match) return undefined;
    const expiresAt = parseInt(match[2]!, 36);
    const path = join(this.dir, name);
    if (expiresAt <= this.now()) {
      await unlink(path).catch(() => undefined);
      return undefined;
    }
    try {
      const info = await stat(path);
      return { path, size: info.size, expiresAt, contentType: CONTENT_TYPES[match[3]!]! };
    } catch {
      return undefined;
    }
  }

  /** Deletes expired images; returns how many. */
  async sweep(): Promise<number> {
    let names: string[];
    try {
      names = await readdir(this.dir);
    } catch {
      return 0;
    }
    const now = this.now();
    let removed = 0;
    for (const name of names) {
      const match = NAME.exec(name);
      if (match && parseInt(match[2]!, 36) <= now) {
        await unlink(join(this.dir, name)).catch(() => undefined);
        removed++;
      }
    }
    return removed;
  }
}
