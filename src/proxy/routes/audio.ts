/**
 * Audio: transcriptions and translations take a multipart form with the audio under `file`, spooled to disk
 * like an edit's images and checked to be audio; they answer JSON for `json` and `verbose_json`, text for
 * `text`, `srt` and `vtt`, as OpenAI does. Speech takes JSON and answers the audio bytes as they arrive,
 * typed after the format asked for. A model whose server reports it cannot do the call is refused first.
 */
import { BadRequestError } from "../../errors.js";
import {
  speech,
  type SpeechAudio,
  type SpeechCall,
  transcription,
  type TranscriptionAnswer,
  type TranscriptionCall,
  translation,
} from "../../operations/index.js";
import { AUDIO_RULE } from "../files/audio-check.js";
import { type FormSpec, openSpooled, readForm, type UploadLimits } from "../files/uploads.js";
import { asObject, beforeEnd, type Dispatcher, type OperationRoute, type RequestUsage } from "../pipeline/index.js";

/** Audio calls report no tokens; their cost (per second, per character) is not priced yet. */
const NO_TOKENS: RequestUsage = { promptTokens: 0, completionTokens: 0 };

export interface AudioRouteDeps {
  uploads: UploadLimits;
  dispatcher: Dispatcher;
}

function audioForm(call: string): FormSpec {
  return {
    kind: { call, fields: "file, model, language, prompt, response_format, temperature and timestamp_granularities[]" },
    notMultipart: `${call.replace(/^a /, "A ")} takes multipart/form-data with the audio file under 'file' and the field 'model'.`,
    fileFields: new Map([
      ["file", "file"],
      ["file[]", "file"],
    ]),
    single: new Map([["file", "Send one audio file, as 'file'."]]),
    unexpectedFile: (name) => `Unexpected file field '${name}': send the audio as 'file'.`,
    rule: AUDIO_RULE,
    defaultFilename: "audio",
    listFields: new Set(["timestamp_granularities"]),
  };
}

/** A form field is text: a number-like temperature is read as the number (anything else is refused by parse). */
function numeric(value: unknown): unknown {
  if (typeof value !== "string" || value.trim() === "") return value;
  const number = Number(value);
  return Number.isFinite(number) ? number : value;
}

function audioTextRoute(
  deps: AudioRouteDeps,
  path: "transcriptions" | "translations",
  operation: typeof transcription,
): OperationRoute<TranscriptionCall, TranscriptionAnswer> {
  const form = audioForm(path === "transcriptions" ? "a transcription" : "a translation");
  return {
    urls: [`/v1/audio/${path}`, `/audio/${path}`],
    operation,
    async read(request) {
      const spooled = await readForm(request, deps.uploads, form);
      const fields: Record<string, unknown> = { ...spooled.fields };
      if (fields.temperature !== undefined) fields.temperature = numeric(fields.temperature);
      const file = spooled.files.file?.[0];
      if (file === undefined) {
        await spooled.cleanup();
        throw new BadRequestError("No audio: send the audio file as 'file' in the form.", { param: "file" });
      }
      return { fields, files: { file: openSpooled(file) }, release: spooled.cleanup };
    },
    admit: (parsed) => deps.dispatcher.assertCanAudio(parsed.model, "audio2text"),
    respond: (answer, _parsed, _request, reply, account) => {
      account.finish(NO_TOKENS);
      return typeof answer === "string" ? reply.type("text/plain; charset=utf-8").send(answer) : answer;
    },
  };
}

export function transcriptionRoute(deps: AudioRouteDeps): OperationRoute<TranscriptionCall, TranscriptionAnswer> {
  return audioTextRoute(deps, "transcriptions", transcription);
}

export function translationRoute(deps: AudioRouteDeps): OperationRoute<TranscriptionCall, TranscriptionAnswer> {
  return audioTextRoute(deps, "translations", translation);
}

export function speechRoute(deps: AudioRouteDeps): OperationRoute<SpeechCall, SpeechAudio> {
  return {
    urls: ["/v1/audio/speech", "/audio/speech"],
    operation: speech,
    read: (request) => ({ fields: asObject(request.body, "POST /v1/audio/speech") }),
    admit: (parsed) => deps.dispatcher.assertCanAudio(parsed.model, "text2audio"),
    // Passed on with backpressure; a client that leaves destroys the body, which cancels the upstream request,
    // and an upstream that breaks off mid-audio breaks the client's connection off too.
    respond: (audio, _parsed, _request, reply, account) => reply.type(audio.contentType).send(beforeEnd(audio.body, () => account.finish(NO_TOKENS))),
  };
}
