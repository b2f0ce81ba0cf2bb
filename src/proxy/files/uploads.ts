/**
 * Reads an image-edit form. Each uploaded file is streamed to a temporary file as it arrives, never held
 * whole in memory, and the upstream request later streams it from disk. Spooling (rather than piping the
 * client's stream straight upstream) is what lets a failed attempt be retried on another deployment, and
 * lets `model` arrive after the files in the form.
 */
import { createReadStream, createWriteStream } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { FastifyRequest } from "fastify";
import { APIError, BadRequestError } from "../../errors.js";
import type { FileLike } from "../../types.js";

export interface SpooledFile {
  path: string;
  filename: string;
  contentType: string;
  size: number;
}

export interface EditForm {
  fields: Record<string, string>;
  images: SpooledFile[];
  mask: SpooledFile | undefined;
  /** Removes the temporary files; call it when the request is done, whatever happened. */
  cleanup(): Promise<void>;
}

export interface UploadLimits {
  maxFileBytes: number;
  maxTotalBytes: number;
  maxFiles: number;
}

/** The form field names clients use: OpenAI's SDK sends `image` for one file and `image[]` for an array. */
const IMAGE_FIELDS = new Set(["image", "image[]", "images", "images[]"]);
const MASK_FIELDS = new Set(["mask", "mask[]"]);

function tooLarge(what: string, limit: number): APIError {
  const mb = Math.round((limit / 1024 / 1024) * 10) / 10;
  return new APIError(413, `${what} is larger than the proxy's limit of ${mb} MB (general_settings.max_request_size_mb).`, {
    code: "payload_too_large",
  });
}

/** Counts bytes as they pass and fails the stream once the running total is over the limit. */
function byteCounter(limits: UploadLimits, totals: { bytes: number }, onBytes: (n: number) => void): Transform {
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      totals.bytes += chunk.length;
      onBytes(chunk.length);
      if (totals.bytes > limits.maxTotalBytes) callback(tooLarge("The upload", limits.maxTotalBytes));
      else callback(null, chunk);
    },
  });
}

export async function readEditForm(request: FastifyRequest, limits: UploadLimits): Promise<EditForm> {
  if (!request.isMultipart()) {
    throw new BadRequestError(
      "Image edits take multipart/form-data with the image file(s) under 'image' (or 'image[]') and fields 'prompt', 'model'.",
      { code: "invalid_content_type" },
    );
  }
  const dir = await mkdtemp(join(tmpdir(), "xgate-upload-"));
  const form: EditForm = {
    fields: {},
    images: [],
    mask: undefined,
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
  const totals = { bytes: 0 };
  try {
    const parts = request.parts({
      limits: { fileSize: limits.maxFileBytes, files: limits.maxFiles, fields: 64, fieldSize: 1024 * 1024 },
    });
    for await (const part of parts) {
      if (part.type === "field") {
        form.fields[part.fieldname.replace(/\[\]$/, "")] = String(part.value);
        continue;
      }
      const isImage = IMAGE_FIELDS.has(part.fieldname);
      if (!isImage && !MASK_FIELDS.has(part.fieldname)) {
        part.file.resume();
        throw new BadRequestError(
          `Unexpected file field '${part.fieldname}': send images as 'image' (or 'image[]') and the mask as 'mask'.`,
          { param: part.fieldname },
        );
      }
      if (!isImage && form.mask) throw new BadRequestError("Send at most one mask.", { param: "mask" });
      const path = join(dir, String(form.images.length + (form.mask ? 1 : 0) + (isImage ? 0 : 1000)));
      let size = 0;
      await pipeline(part.file, byteCounter(limits, totals, (n) => (size += n)), createWriteStream(path));
      if (part.file.truncated) throw tooLarge(`The file '${part.filename}'`, limits.maxFileBytes);
      const spooled = { path, size, filename: part.filename || "image", contentType: part.mimetype };
      if (isImage) form.images.push(spooled);
      else form.mask = spooled;
    }
  } catch (err) {
    await form.cleanup();
    throw uploadError(err, limits);
  }
  return form;
}

/** @fastify/multipart's limit errors become our 413s; anything else passes through. */
function uploadError(err: unknown, limits: UploadLimits): unknown {
  const code = (err as { code?: string }).code;
  if (code === "FST_REQ_FILE_TOO_LARGE") return tooLarge("An uploaded file", limits.maxFileBytes);
  if (code === "FST_FILES_LIMIT") {
    return new APIError(413, `Too many files: at most ${limits.maxFiles} per request.`, { code: "payload_too_large" });
  }
  if (code === "FST_INVALID_MULTIPART_CONTENT_TYPE" || code === "FST_PROTO_VIOLATION") {
    return new BadRequestError("Malformed multipart body.", { code: "invalid_multipart" });
  }
  return err;
}

/** A fresh stream per call, so each upstream attempt re-reads the file from the start. */
export function openSpooled(file: SpooledFile): FileLike {
  return { data: createReadStream(file.path), filename: file.filename, contentType: file.contentType };
}
