// Multipart (and urlencoded) forms, parsed with busboy like Starlette parses them, and read like FastAPI reads
// Form/File parameters: the last value of a field wins, an empty string counts as missing, bad values give 422.
import type { IncomingMessage } from "node:http";
import busboy from "busboy";
import { formValidationError, missingField } from "./errors.js";
import type { FormIssue } from "./errors.js";
import type { RecordedMultipart } from "./types.js";
import { bool, int } from "./validate.js";
import type { Checker } from "./validate.js";

export interface UploadedFile {
  field: string;
  filename: string;
  contentType: string;
  data: Buffer;
}

export interface MultipartForm {
  fields: Map<string, string[]>;
  files: UploadedFile[];
  /** Set when the body is not a well-formed form (Starlette answers 400). */
  error: string | undefined;
}

export function emptyForm(): MultipartForm {
  return { fields: new Map(), files: [], error: undefined };
}

const LIMITS = { fileSize: 64 * 1024 * 1024, fieldSize: 16 * 1024 * 1024 };

/** Reads the whole form. Without a form content type the form is empty, as Starlette's would be. */
export function parseForm(req: IncomingMessage): Promise<MultipartForm> {
  const form = emptyForm();
  let parser: busboy.Busboy;
  try {
    parser = busboy({ headers: req.headers, limits: LIMITS, defParamCharset: "utf8" });
  } catch {
    req.resume();
    return new Promise((resolve) => {
      req.on("end", () => resolve(form));
      req.on("error", () => resolve(form));
    });
  }
  return new Promise((resolve) => {
    // The parser may close before the last file stream has ended: wait for both.
    let openFiles = 0;
    let closed = false;
    const settle = (): void => {
      if (closed && openFiles === 0) resolve(form);
    };
    parser.on("field", (name, value) => {
      const values = form.fields.get(name);
      if (values === undefined) form.fields.set(name, [value]);
      else values.push(value);
    });
    parser.on("file", (name, stream, info) => {
      const chunks: Buffer[] = [];
      openFiles++;
      stream.on("data", (chunk: Buffer) => chunks.push(chunk));
      stream.on("limit", () => (form.error = `File ${name} is too large`));
      stream.on("end", () => {
        form.files.push({
          field: name,
          filename: info.filename ?? "",
          contentType: info.mimeType,
          data: Buffer.concat(chunks),
        });
        openFiles--;
        settle();
      });
    });
    parser.on("error", (error: Error) => {
      form.error = error.message;
      req.unpipe(parser);
      req.resume();
      resolve(form);
    });
    parser.on("close", () => {
      closed = true;
      settle();
    });
    req.on("aborted", () => {
      form.error = "The client closed the connection";
      resolve(form);
    });
    req.pipe(parser);
  });
}

/** `withData`: the files' bytes too (the `recordFileData` option). */
export function summarizeForm(form: MultipartForm, withData = false): RecordedMultipart {
  const fields: Record<string, string> = {};
  for (const [name, values] of form.fields) fields[name] = values[values.length - 1] ?? "";
  return {
    fields,
    files: form.files.map((f) => ({
      field: f.field,
      filename: f.filename,
      contentType: f.contentType,
      size: f.data.length,
      ...(withData && { data: f.data }),
    })),
  };
}

/** Reads Form/File parameters and collects FastAPI's validation issues; `done()` throws them as one 422. */
export class FormReader {
  private readonly issues: FormIssue[] = [];

  constructor(private readonly form: MultipartForm) {}

  /** A Form str; "" counts as absent, like FastAPI's form handling does. */
  str(name: string, required = false): string | undefined {
    const values = this.form.fields.get(name);
    const value = values?.[values.length - 1];
    if (value === undefined || value === "") {
      if (required) this.issues.push(missingField(name));
      return undefined;
    }
    return value;
  }

  int(name: string, fallback: number): number {
    return this.parsed(name, int, fallback);
  }

  bool(name: string, fallback: boolean): boolean {
    return this.parsed(name, bool, fallback);
  }

  /** File parts of a field (parts that carry a filename). */
  files(name: string, required = false): UploadedFile[] {
    const files = this.form.files.filter((f) => f.field === name);
    if (files.length === 0 && required) this.issues.push(missingField(name));
    return files;
  }

  done(): void {
    if (this.issues.length > 0) throw formValidationError(this.issues);
  }

  /** A Form field of any type `check` accepts, e.g. a float. */
  parsed<T>(name: string, check: Checker, fallback: T): T {
    const raw = this.str(name);
    if (raw === undefined) return fallback;
    const checked = check(raw);
    if (checked.ok) return checked.value as T;
    this.issues.push({ type: checked.type, loc: ["body", name], msg: checked.msg, input: raw });
    return fallback;
  }
}
