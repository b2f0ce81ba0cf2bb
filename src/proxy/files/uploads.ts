/**
 * Reads an image-edit form. Each uploaded file is streamed to a temporary file as it arrives, never held
 * whole in memory, and the upstream request later streams it from disk. Spooling (rather than piping the
 * client's stream straight upstream) is what lets a failed attempt be retried on another deployment, and
 * lets `model` arrive after the files in the form. Whatever is wrong with a form — its syntax, its size, a
 * file that is no image — is the client's 4xx before anything goes upstream, and leaves no file behind.
 */
import { createReadStream, createWriteStream } from "node:fs";
import { rm } from "node:fs/promises";
import type { IncomingMessage } from "node:http";
import { join } from "node:path";
import { type Readable, Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { Multipart, MultipartFile, MultipartValue } from "@fastify/multipart";
import type { FastifyRequest } from "fastify";
import { BadRequestError } from "../../errors.js";
import type { FileLike } from "../../types.js";
import { fieldTooLarge, fileTooLarge, formClosedEarly, formError, formTooLarge, unnamedPart } from "./form-errors.js";
import type { FilePartLabel, FormLimits } from "./form-errors.js";
import { imageCheck } from "./image-check.js";
import { makeSpoolDir } from "./spool-dir.js";

export interface SpooledFile {
  path: string;
  filename: string;
  /** The image type its bytes show (image/png, image/jpeg or image/webp), whatever the client labelled it. */
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

/** An edit has a handful of fields; these bound what a form can make the proxy hold. */
const MAX_FIELDS = 64;
const MAX_PARTS = 1000;

/**
 * The most framing a part can add to its content: its boundary line (busboy takes boundaries up to 252
 * characters) and its headers, which busboy reads up to 80 KiB.
 */
const PART_FRAMING_MAX_BYTES = 256 + 80 * 1024;

/**
 * The longest Content-Length a form the proxy could accept may declare; a longer one is refused before its
 * body is sent (Expect: 100-continue), with the error reading the form would have given.
 */
export function formDeclaredLimit(limits: UploadLimits): { formDeclaredMaxBytes: number; formTooLarge: () => Error } {
  const formLimits: FormLimits = { ...limits, maxFields: MAX_FIELDS, maxParts: MAX_PARTS };
  return {
    formDeclaredMaxBytes: limits.maxTotalBytes + MAX_PARTS * PART_FRAMING_MAX_BYTES,
    formTooLarge: () => formTooLarge(formLimits),
  };
}

/** The form field names clients use: OpenAI's SDK sends `image` for one file and `image[]` for an array. */
const IMAGE_FIELDS = new Set(["image", "image[]", "images", "images[]"]);
const MASK_FIELDS = new Set(["mask", "mask[]"]);

/** The bytes read so far, fields and files together, against the limit for a whole request. */
class FormBudget {
  private bytes = 0;

  constructor(readonly limits: FormLimits) {}

  /** Counts `n` more bytes; throws once the form is over its limit. */
  spend(n: number, reading?: FilePartLabel): void {
    this.bytes += n;
    if (this.bytes > this.limits.maxTotalBytes) throw formTooLarge(this.limits, reading);
  }

  /** Fails a file's stream once the form goes over its limit. */
  counter(file: FilePartLabel, onBytes: (n: number) => void): Transform {
    return new Transform({
      transform: (chunk: Buffer, _encoding, callback) => {
        try {
          this.spend(chunk.length, file);
          onBytes(chunk.length);
          callback(null, chunk);
        } catch (err) {
          callback(err as Error);
        }
      },
    });
  }
}

/** A field's value as text: @fastify/multipart parses a part labelled application/json. */
function fieldText(part: MultipartValue): string {
  return typeof part.value === "string" ? part.value : JSON.stringify(part.value);
}

function addField(form: EditForm, part: MultipartValue, budget: FormBudget): void {
  if (part.valueTruncated) throw fieldTooLarge(part.fieldname, budget.limits);
  const value = fieldText(part);
  budget.spend(Buffer.byteLength(value));
  form.fields[part.fieldname.replace(/\[\]$/, "")] = value;
}

/** Streams a file part to `path`, checking that it is an image and counting it against the limits. */
async function spool(part: MultipartFile, label: FilePartLabel, path: string, budget: FormBudget): Promise<SpooledFile> {
  let size = 0;
  let contentType = part.mimetype;
  await pipeline(
    part.file,
    imageCheck(label, (type) => (contentType = type)),
    budget.counter(label, (n) => (size += n)),
    createWriteStream(path),
  );
  if (part.file.truncated) throw fileTooLarge(label, budget.limits);
  return { path, size, filename: label.filename, contentType };
}

/**
 * Whether busboy said the form ended inside this file ("Part terminated early …" on the file's stream).
 * The "Unexpected end of multipart data" that fails the form fails the last file's stream too, also when
 * that file arrived whole, so only this tells a cut file. When the whole body came at once busboy may say
 * it before the file reaches us: then the form is reported cut, without naming the file.
 */
function watchForCut(file: Readable): () => boolean {
  let cut = false;
  file.on("error", (err) => {
    if (err.message.includes("terminated early")) cut = true;
  });
  return () => cut;
}

/**
 * Stops reading a form the proxy has refused, and lets the rest of the body drain: the answer then reaches
 * the client, and the connection stays usable, however much the client had left to send.
 */
function discardRest(raw: IncomingMessage): void {
  raw.unpipe();
  raw.resume();
}

export async function readEditForm(request: FastifyRequest, limits: UploadLimits): Promise<EditForm> {
  if (!request.isMultipart()) {
    throw new BadRequestError(
      "Image edits take multipart/form-data with the image file(s) under 'image' (or 'image[]') and fields 'prompt', 'model'.",
      { code: "invalid_content_type" },
    );
  }
  const formLimits: FormLimits = { ...limits, maxFields: MAX_FIELDS, maxParts: MAX_PARTS };
  const budget = new FormBudget(formLimits);
  // Made when the first file arrives, not before the form is read: nothing may be awaited between the
  // handler's start and request.parts(), or a client that hangs up meanwhile leaves a reader waiting forever
  // on a request that will say nothing more (and its folder behind).
  let dir: string | undefined;
  const form: EditForm = {
    fields: {},
    images: [],
    mask: undefined,
    cleanup: () => (dir === undefined ? Promise.resolve() : rm(dir, { recursive: true, force: true })),
  };
  let receiving: { label: FilePartLabel; wasCut: () => boolean } | undefined;
  try {
    const parts: AsyncIterable<Multipart> = request.parts({
      limits: {
        fileSize: limits.maxFileBytes,
        files: limits.maxFiles,
        fields: MAX_FIELDS,
        parts: MAX_PARTS,
        // busboy cuts a longer field short and says so only in `valueTruncated`: at the request's limit, a
        // field that long is refused (addField) rather than passed on cut.
        fieldSize: limits.maxTotalBytes,
      },
    });
    // @fastify/multipart notices the request closing only from the first step of the iteration on: a
    // client gone before it (while the handler waited on anything) would leave the loop waiting forever.
    if (request.raw.destroyed) throw formClosedEarly();
    for await (const part of parts) {
      // The types promise a name; a part with `Content-Disposition: form-data` and no name= has none.
      const name: string | undefined = part.fieldname;
      if (name === undefined) throw unnamedPart(part.type === "file" ? part.filename : undefined);
      if (part.type === "field") {
        addField(form, part, budget);
        continue;
      }
      const isImage = IMAGE_FIELDS.has(name);
      if (!isImage && !MASK_FIELDS.has(name)) {
        throw new BadRequestError(
          `Unexpected file field '${name}': send images as 'image' (or 'image[]') and the mask as 'mask'.`,
          { param: name },
        );
      }
      if (!isImage && form.mask) throw new BadRequestError("Send at most one mask.", { param: "mask" });
      const label = { field: name, filename: part.filename || "image" };
      dir ??= await makeSpoolDir();
      const path = join(dir, String(form.images.length + (form.mask ? 1 : 0) + (isImage ? 0 : 1000)));
      receiving = { label, wasCut: watchForCut(part.file) };
      const spooled = await spool(part, label, path, budget);
      receiving = undefined;
      if (isImage) form.images.push(spooled);
      else form.mask = spooled;
    }
  } catch (err) {
    discardRest(request.raw);
    await form.cleanup();
    const cut = receiving?.wasCut() === true ? receiving.label : undefined;
    throw formError(err, formLimits, request.headers["content-type"], cut);
  }
  return form;
}

/** A fresh stream per call, so each upstream attempt re-reads the file from the start. */
export function openSpooled(file: SpooledFile): FileLike {
  return { data: createReadStream(file.path), filename: file.filename, contentType: file.contentType };
}
