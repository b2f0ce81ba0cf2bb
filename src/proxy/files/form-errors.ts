/**
 * What can be wrong with a multipart form, as errors a client can act on: the form's syntax (400
 * `invalid_multipart`) and its size (413 `payload_too_large`). busboy and @fastify/multipart report these as
 * bare `Error`s ("Unexpected end of multipart data") or `FST_…` codes; `formError` reads them.
 */
import { APIError, BadRequestError } from "../../errors.js";

/** The form cannot be read as multipart/form-data. */
export class InvalidMultipartError extends BadRequestError {
  constructor(message: string, param?: string) {
    super(message, { code: "invalid_multipart", param: param ?? null });
  }
}

/** The form, or a part of it, is over one of the proxy's limits. */
export class PayloadTooLargeError extends APIError {
  constructor(message: string, param?: string) {
    super(413, message, { code: "payload_too_large", param: param ?? null });
  }
}

/** The limits a form is read with. */
export interface FormLimits {
  maxFileBytes: number;
  maxTotalBytes: number;
  maxFiles: number;
  maxFields: number;
  maxParts: number;
}

/** The call a form is for, as messages name it. */
export interface FormKind {
  /** e.g. `an image edit`. */
  call: string;
  /** The fields the call reads, e.g. `image, mask, prompt and model`. */
  fields: string;
}

/** A file part of the form, to name in a message. */
export interface FilePartLabel {
  field: string;
  filename: string;
}

/** RFC 2046's limit on a boundary; busboy takes longer ones, up to 252 characters. */
const RFC_BOUNDARY_MAX = 70;
const RAISE_LIMIT = "general_settings.max_request_size_mb";

export function megabytes(bytes: number): string {
  return `${Math.round((bytes / 1024 / 1024) * 10) / 10} MB`;
}

/** "the file 'a.png' (field 'image')"; capitalised to start a sentence. */
export function describeFile(file: FilePartLabel, startsSentence = false): string {
  return `${startsSentence ? "The" : "the"} file '${file.filename}' (field '${file.field}')`;
}

export function formTooLarge(limits: FormLimits, reading?: FilePartLabel): PayloadTooLargeError {
  const where = reading === undefined ? "" : `, and went over it in ${describeFile(reading)}`;
  return new PayloadTooLargeError(
    `The form is larger than the proxy's limit of ${megabytes(limits.maxTotalBytes)} for a whole request (${RAISE_LIMIT}), ` +
      `counting its text fields and files together${where}: send smaller files or shorter fields, or raise the limit.`,
    reading?.field,
  );
}

export function fieldTooLarge(name: string, limits: FormLimits): PayloadTooLargeError {
  return new PayloadTooLargeError(
    `The form field '${name}' is larger than the proxy's limit of ${megabytes(limits.maxTotalBytes)} (${RAISE_LIMIT}): ` +
      "send a shorter value, or raise the limit. The proxy refuses it rather than cut it short.",
    name,
  );
}

export function fileTooLarge(file: FilePartLabel, limits: FormLimits): PayloadTooLargeError {
  return new PayloadTooLargeError(
    `${describeFile(file, true)} is larger than the proxy's limit of ${megabytes(limits.maxFileBytes)} per file ` +
      `(${RAISE_LIMIT}): send a smaller file, or raise the limit.`,
    file.field,
  );
}

/** A part whose Content-Disposition has no `name`: nothing says which field it is. */
export function unnamedPart(filename: string | undefined): InvalidMultipartError {
  const what = filename === undefined ? "A form part" : `The file part '${filename}'`;
  return new InvalidMultipartError(
    `${what} has no name: its Content-Disposition is form-data without name="…", so the proxy cannot tell which field it is. ` +
      'Give every part a name (e.g. Content-Disposition: form-data; name="prompt").',
  );
}

/** The boundary parameter of a Content-Type header, quoted or not. */
function boundaryOf(contentType: string | undefined): string | undefined {
  const match = /;\s*boundary=(?:"([^"]*)"|([^;\s]*))/i.exec(contentType ?? "");
  return match === null ? undefined : (match[1] ?? match[2]);
}

/** busboy's own errors, by their text: it has no codes. */
function syntaxError(message: string, contentType: string | undefined, reading: FilePartLabel | undefined): InvalidMultipartError | undefined {
  if (message.includes("Boundary not found")) {
    return new InvalidMultipartError(
      "The Content-Type is multipart/form-data but has no boundary (multipart/form-data; boundary=…), so the form cannot be read. " +
        "Let the HTTP client build the form and its Content-Type (FormData, curl -F, requests' files=) instead of setting the header by hand.",
    );
  }
  if (message.includes("needle cannot")) {
    const length = boundaryOf(contentType)?.length ?? 0;
    return new InvalidMultipartError(
      `The multipart boundary is ${length} characters long; multipart allows at most ${RFC_BOUNDARY_MAX} (RFC 2046). ` +
        "Use a shorter boundary, as HTTP clients' own form encoders do.",
    );
  }
  if (message.includes("Unexpected end of multipart data") || message.includes("terminated early")) {
    if (reading !== undefined) {
      return new InvalidMultipartError(
        `The form ended inside ${describeFile(reading)}, with no boundary after it: the body was cut short, or it lacks its ` +
          "closing boundary (--BOUNDARY--). Send the whole form, ending with the closing boundary.",
        reading.field,
      );
    }
    return new InvalidMultipartError(
      "The multipart form ended before its closing boundary (--BOUNDARY--): the body was cut short, or the boundary in the " +
        "Content-Type is not the one the body uses. Send the whole form, ending with the closing boundary.",
    );
  }
  return undefined;
}

export function formClosedEarly(): InvalidMultipartError {
  return new InvalidMultipartError("The client closed the connection before the whole form had arrived.");
}

/** @fastify/multipart's codes; its limit errors are ours to word, with the limit in them. */
function pluginError(code: string, limits: FormLimits, kind: FormKind): APIError | undefined {
  switch (code) {
    case "FST_REQ_FILE_TOO_LARGE":
      return new PayloadTooLargeError(
        `An uploaded file is larger than the proxy's limit of ${megabytes(limits.maxFileBytes)} per file (${RAISE_LIMIT}): send a smaller file, or raise the limit.`,
      );
    case "FST_FILES_LIMIT":
      return new PayloadTooLargeError(`The form has more than ${limits.maxFiles} files; ${kind.call} takes at most ${limits.maxFiles}: send fewer.`);
    case "FST_FIELDS_LIMIT":
      return new PayloadTooLargeError(
        `The form has more than ${limits.maxFields} text fields; ${kind.call} takes at most ${limits.maxFields} fields: send only the ones it needs.`,
      );
    case "FST_PARTS_LIMIT":
      return new PayloadTooLargeError(`The form has more than ${limits.maxParts} parts: send only the fields and files ${kind.call} needs.`);
    case "FST_PROTO_VIOLATION":
      return new InvalidMultipartError(
        "A form field is named '__proto__', 'constructor' or another property every JavaScript object has, which the proxy refuses: " +
          `rename it (${kind.call} reads ${kind.fields}).`,
      );
    case "FST_INVALID_JSON_FIELD_ERROR":
      return new InvalidMultipartError(
        "A form field labelled Content-Type: application/json is not valid JSON: send valid JSON, or send the field as plain text.",
      );
    case "FST_MP_PREMATURE_CLOSE":
      return formClosedEarly();
    default:
      return undefined;
  }
}

/**
 * The client's mistake that `err`, thrown while reading a form, stands for; anything else (a fault of the
 * proxy's, a full disk) is passed on as it is. `reading`: the file being received when it was thrown.
 */
export function formError(
  err: unknown,
  limits: FormLimits,
  kind: FormKind,
  contentType: string | undefined,
  reading?: FilePartLabel,
): unknown {
  if (err instanceof APIError || !(err instanceof Error)) return err;
  const code = (err as { code?: unknown }).code;
  return (typeof code === "string" ? pluginError(code, limits, kind) : undefined) ?? syntaxError(err.message, contentType, reading) ?? err;
}
