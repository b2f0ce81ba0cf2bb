/**
 * An audio upload must be in a container ffmpeg reads — what Xinference's audio models decode with, and
 * OpenAI's audio API takes (see upload-check.ts).
 */
import { BadRequestError } from "../../errors.js";
import { sniffAudioType } from "../../upstream/sniff.js";
import { describeFile } from "./form-errors.js";
import type { FilePartLabel } from "./form-errors.js";
import { describeHead, type TypeRule } from "./upload-check.js";

export const ACCEPTED_AUDIO = "WAV, MP3, AAC, FLAC, Ogg, WebM, M4A or AIFF";

export class InvalidAudioError extends BadRequestError {
  constructor(message: string, field: string) {
    super(message, { code: "invalid_audio", param: field });
  }
}

function notAudio(file: FilePartLabel, head: Buffer): InvalidAudioError {
  const problem = head.length === 0 ? "is empty" : `is not ${ACCEPTED_AUDIO} audio: its first bytes ${describeHead(head, ACCEPTED_AUDIO)}`;
  return new InvalidAudioError(`${describeFile(file, true)} ${problem}. Send a ${ACCEPTED_AUDIO} file as '${file.field}'.`, file.field);
}

export const AUDIO_RULE: TypeRule = { sniff: sniffAudioType, refuse: notAudio };
