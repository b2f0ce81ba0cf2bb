/**
 * Reads a multipart form (an image edit's, a transcription's). Each uploaded file is streamed to a temporary
 * file as it arrives, never held whole in memory, and the upstream request later streams it from disk.
 * Spooling (rather than piping the client's stream straight upstream) is what lets a failed attempt be
 * retried on another deployment, and lets `model` arrive after the files in the form. Whatever is wrong with
 * a form — its syntax, its size, a file of the wrong type — is the client's 4xx before anything goes
 * upstream, and leaves no file behind.
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
import type { FilePartLabel, FormKind, FormLimits } from "./form-errors.js";
import { makeSpoolDir } from "./spool-dir.js";
import { typeCheck, type TypeRule } from "./upload-check.js";

export interface SpooledFile {
  path: string;
  filename: string;
  /** The type its bytes show (e.g. image/png, audio/wav), whatever the client labelled it. */
  contentType: string;
  size: number;
}

/** What one route's form holds: which file fields it takes, and what their files must be. */
export interface FormSpec {
  kind: FormKind;
  /** What to say when the request is not multipart/form-data. */
  notMultipart: string;
  /** The file field each name a client may send stands for (OpenAI's SDK sends `image[]` for an array). */
  fileFields: ReadonlyMap<string, string>;
  /** File fields that take one file, each with what to say of a second. */
  single: ReadonlyMap<string, string>;
  /** What to say of a file under a name the form does not take. */
  unexpectedFile(name: string): string;
  /** Checks each file's bytes while it is spooled. */
  rule: TypeRule;
  /** A file's name when its part has none. */
  defaultFilename: string;
  /** Text fields kept as lists when repeated (`timestamp_granularities[]`); others keep their last value. */
  listFields?: ReadonlySet<string>;
}

export interface SpooledForm {
  fields: Record<string, string | string[]>;
  /** By file field, in the order they came. */
  files: Record<string, SpooledFile[]>;
  /** Removes the temporary files; call it when the request is done, whatever happened. */
  cleanup(): Promise<void>;
}

export interface UploadLimits {
  maxFileBytes: number;
  maxTotalBytes: number;
  maxFiles: number;
}

/** A call's form has a handful of fields; these bound what a form can make the proxy hold. */
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

function addField(form: SpooledForm, part: MultipartValue, budget: FormBudget, listFields: ReadonlySet<string> | undefined): void {
  if (part.valueTruncated) throw fieldTooLarge(part.fieldname, budget.limits);
  const value = fieldText(part);
  budget.spend(Buffer.byteLength(value));
  const name = part.fieldname.replace(/\[\]$/, "");
  if (listFields?.has(name) !== true) {
    form.fields[name] = value;
    return;
  }
  const list = form.fields[name];
  form.fields[name] = Array.isArray(list) ? [...list, value] : [value];
}

/** Streams a file part to `path`, checking its type and counting it against the limits. */
async function spool(part: MultipartFile, label: FilePartLabel, path: string, budget: FormBudget, rule: TypeRule): Promise<SpooledFile> {
  let size = 0;
  let contentType = part.mimetype;
  await pipeline(
    part.file,
    typeCheck(label, rule, (type) => (contentType = type)),
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

export async function readForm(request: FastifyRequest, limits: UploadLimits, spec: FormSpec): Promise<SpooledForm> {
  if (!request.isMultipart()) throw new BadRequestError(spec.notMultipart, { code: "invalid_content_type" });
  const formLimits: FormLimits = { ...limits, maxFields: MAX_FIELDS, maxParts: MAX_PARTS };
  const budget = new FormBudget(formLimits);
  // Made when the first file arrives, not before the form is read: nothing may be awaited between the
  // handler's start and request.parts(), or a client that hangs up meanwhile leaves a reader waiting forever
  // on a request that will say nothing more (and its folder behind).
  let dir: string | undefined;
  let spooled = 0;
  const form: SpooledForm = {
    fields: {},
    files: {},
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
        addField(form, part, budget, spec.listFields);
        continue;
      }
      const field = spec.fileFields.get(name);
      if (field === undefined) throw new BadRequestError(spec.unexpectedFile(name), { param: name });
      const files = (form.files[field] ??= []);
      const second = spec.single.get(field);
      if (second !== undefined && files.length > 0) throw new BadRequestError(second, { param: field });
      const label = { field: name, filename: part.filename || spec.defaultFilename };
      dir ??= await makeSpoolDir();
      const path = join(dir, String(spooled++));
      receiving = { label, wasCut: watchForCut(part.file) };
      files.push(await spool(part, label, path, budget, spec.rule));
      receiving = undefined;
    }
  } catch (err) {
    discardRest(request.raw);
    await form.cleanup();
    const cut = receiving?.wasCut() === true ? receiving.label : undefined;
    throw formError(err, formLimits, spec.kind, request.headers["content-type"], cut);
  }
  return form;
}

/** A fresh stream per call, so each upstream attempt re-reads the file from the start. */
export function openSpooled(file: SpooledFile): FileLike {
  return { data: createReadStream(file.path), filename: file.filename, contentType: file.contentType };
}
