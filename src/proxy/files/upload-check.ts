/**
 * Checks an upload by its first bytes while it is spooled, before anything goes upstream. Xinference answers
 * a file its image library or audio decoder cannot open with a 500, which would count against the deployment:
 * one client's text file would take the model away from everyone.
 */
import { Transform } from "node:stream";
import { sniffFileType } from "../../upstream/sniff.js";
import type { FilePartLabel } from "./form-errors.js";

/** Enough to sniff the type (12 bytes) and to show some text of a file that is none of the accepted ones. */
const HEAD_BYTES = 32;

/** Signatures of files that are often sent by mistake, to name them in the error. */
const KNOWN_SIGNATURES: [prefix: string, what: string][] = [
  ["GIF8", "a GIF image"],
  ["BM", "a BMP image"],
  ["II*\0", "a TIFF image"],
  ["MM\0*", "a TIFF image"],
  ["%PDF", "a PDF document"],
  ["PK\x03\x04", "a ZIP archive (or an Office document)"],
  ["\x1f\x8b", "gzip-compressed data"],
];

/** Base64 text of a file, or a data: URL: the file encoded, where its bytes belong. */
const ENCODED_FILE: [pattern: RegExp, what: string][] = [
  [/^data:(image|audio)\//, "a data: URL"],
  [/^(iVBORw0KGgo|\/9j\/)/, "base64 text of an image"],
  [/^UklGR/, "base64 text of a WebP image or WAV audio"],
  [/^(SUQz|ZkxhQ)/, "base64 text of an audio file"],
];

function startsWithText(head: Buffer, prefix: string): boolean {
  return head.subarray(0, prefix.length).equals(Buffer.from(prefix, "latin1"));
}

/** The head as text, when it reads as UTF-8 without control characters other than whitespace. */
function asText(head: Buffer): string | undefined {
  try {
    const text = new TextDecoder("utf-8", { fatal: true }).decode(head, { stream: true });
    // eslint-disable-next-line no-control-regex
    return text === "" || /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/.test(text) ? undefined : text;
  } catch {
    return undefined;
  }
}

/** What the first bytes of a file that is none of the `accepted` types look like, for the error message. */
export function describeHead(head: Buffer, accepted: string): string {
  const known = KNOWN_SIGNATURES.find(([prefix]) => startsWithText(head, prefix));
  if (known !== undefined) return `look like ${known[1]}; convert it to ${accepted}`;
  // An image sent as audio, or audio as an image.
  const type = sniffFileType(head);
  if (type !== undefined) return `look like ${type}; convert it to ${accepted}`;
  // ISO media files (HEIC, AVIF): a box size, then "ftyp".
  if (startsWithText(head.subarray(4), "ftyp")) return `look like a HEIC or AVIF image; convert it to ${accepted}`;
  const text = asText(head);
  if (text !== undefined) {
    const encoded = ENCODED_FILE.find(([pattern]) => pattern.test(text));
    if (encoded !== undefined) return `are ${encoded[1]} (${JSON.stringify(text.slice(0, 16))}…); send the decoded bytes instead`;
    return `look like text (${JSON.stringify(text.length > 24 ? `${text.slice(0, 24)}…` : text)})`;
  }
  const hex = [...head.subarray(0, 8)].map((byte) => byte.toString(16).padStart(2, "0")).join(" ");
  return `are ${hex}, which is none of them`;
}

export interface TypeRule {
  /** The accepted type of a file from its first bytes; undefined when it is none of them. */
  sniff(head: Buffer): string | undefined;
  /** The client's error for a file that is none of them. */
  refuse(file: FilePartLabel, head: Buffer): Error;
}

/**
 * Passes a file's bytes through, failing with the rule's error once its first bytes show it is none of the
 * accepted types. `onType` learns the type the bytes show, which is what the file is sent upstream as.
 */
export function typeCheck(file: FilePartLabel, rule: TypeRule, onType: (type: string) => void): Transform {
  let head = Buffer.alloc(0);
  let decided = false;
  const decide = (): Error | null => {
    decided = true;
    const type = rule.sniff(head);
    if (type === undefined) return rule.refuse(file, head);
    onType(type);
    return null;
  };
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      if (decided) return callback(null, chunk);
      head = Buffer.concat([head, chunk.subarray(0, HEAD_BYTES - head.length)]);
      if (head.length < HEAD_BYTES) return callback(null, chunk);
      const error = decide();
      if (error === null) callback(null, chunk);
      else callback(error);
    },
    flush(callback) {
      callback(decided ? null : decide());
    },
  });
}
