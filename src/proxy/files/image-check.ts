/** An image edit's uploads must be PNG, JPEG or WebP images: what Xinference's image library opens (see upload-check.ts). */
import { BadRequestError } from "../../errors.js";
import { sniffImageType } from "../../upstream/sniff.js";
import { describeFile } from "./form-errors.js";
import type { FilePartLabel } from "./form-errors.js";
import { describeHead, type TypeRule } from "./upload-check.js";

export const ACCEPTED_IMAGES = "PNG, JPEG or WebP";

export class InvalidImageError extends BadRequestError {
  constructor(message: string, field: string) {
    super(message, { code: "invalid_image", param: field });
  }
}

function notAnImage(file: FilePartLabel, head: Buffer): InvalidImageError {
  const problem = head.length === 0 ? "is empty" : `is not a ${ACCEPTED_IMAGES} image: its first bytes ${describeHead(head, ACCEPTED_IMAGES)}`;
  return new InvalidImageError(
    `${describeFile(file, true)} ${problem}. Send a ${ACCEPTED_IMAGES} file as '${file.field}'.`,
    file.field,
  );
}

export const IMAGE_RULE: TypeRule = { sniff: sniffImageType, refuse: notAnImage };
