// POST /v1/audio/transcriptions, /v1/audio/translations (multipart) and /v1/audio/speech (JSON; a form only
// when a voice-cloning file is attached). Xinference's quirks kept: every transcription answers
// application/json, and Whisper knows only the json and verbose_json formats (text, srt and vtt are a 500);
// translations report `"task": "transcribe"`; speech is application/octet-stream whatever the format, streamed
// as raw bytes into which sse-starlette still slips its `: ping` comments.
import { checkModelAccess } from "./auth.js";
import { specStr } from "./catalog.js";
import type { AudioAbility } from "./catalog.js";
import type { Reply, RouteContext } from "./context.js";
import { detailError, engineError } from "./errors.js";
import type { HttpError } from "./errors.js";
import { MP3_CHUNK_BYTES, PCM_CHUNK_BYTES, SPEECH_SAMPLE_RATE, audioSeconds, id3Tag, mp3Frames, tonePcm, wavHeader } from "./audio-encoding.js";
import { parseKwargs } from "./images.js";
import { numberIn } from "./llm-route.js";
import { FormReader } from "./multipart.js";
import type { UploadedFile } from "./multipart.js";
import { hashString, mulberry32 } from "./random.js";
import type { RunningModel } from "./registry.js";
import { PLAIN_FRAMING, STARLETTE_FRAMING, pacedStream } from "./stream.js";
import type { PacedEvent } from "./stream.js";
import { bool, field, jsonBodyOf, optional, str, validateBody } from "./validate.js";

const anyNumber = numberIn(Number.NEGATIVE_INFINITY, Number.POSITIVE_INFINITY);

type Task = "transcribe" | "translate";

export function createTranscription(ctx: RouteContext): Promise<Reply> {
  return transcribe(ctx, "transcribe");
}

export function createTranslation(ctx: RouteContext): Promise<Reply> {
  return transcribe(ctx, "translate");
}

async function transcribe(ctx: RouteContext, task: Task): Promise<Reply> {
  const form = new FormReader(ctx.form);
  const uid = form.str("model", true) as string;
  const file = form.files("file", true).at(-1);
  const language = form.str("language");
  const responseFormat = form.str("response_format") ?? "json";
  const temperature = form.parsed("temperature", anyNumber, 0);
  const kwargsText = form.str("kwargs");
  // Read straight from the form, and only its last value, as `form.get("timestamp_granularities[]")` does.
  const granularity = ctx.form.fields.get("timestamp_granularities[]")?.at(-1);
  form.done();
  const upload = file as UploadedFile;
  checkModelAccess(ctx.principal, uid);
  const model = ctx.registry.resolve(uid);

  return ctx.engine.run(model, undefined, () => {
    const kwargs = parseKwargs(kwargsText ?? null);
    ctx.record.kwargs = kwargs;
    delete kwargs.request_id;
    requireAbility(ctx, model, "audio2text", task === "transcribe" ? "transcriptions" : "translations");
    // Translations drop the kwargs on the way; Whisper's transcriptions() takes none.
    const unexpected = Object.keys(kwargs)[0];
    if (task === "transcribe" && unexpected !== undefined && ctx.flavor === "xinference") {
      throw engineError(`WhisperModel.transcriptions() got an unexpected keyword argument '${unexpected}'`);
    }
    if (ctx.flavor === "xinference" && responseFormat !== "json" && responseFormat !== "verbose_json") {
      throw engineError(`Unsupported response format: ${responseFormat}`);
    }
    if (granularity !== undefined && granularity !== "segment" && granularity !== "word") {
      throw engineError(`Unsupported timestamp_granularities: ['${granularity}']`);
    }
    const transcript = makeTranscript(upload.data, audioSeconds(upload.data));
    const meta = { task, language: language ?? "english", temperature, words: granularity === "word" };
    return ctx.flavor === "xinference" ? xinferenceTranscription(transcript, responseFormat, meta) : openAITranscription(transcript, responseFormat, meta);
  });
}

interface Segment {
  text: string;
  start: number;
  end: number;
}

interface Transcript {
  /** As the transformers pipeline joins Whisper's chunks: each chunk's text opens with a space. */
  text: string;
  segments: Segment[];
  words: Segment[];
}

const WORDS = ["hello", "this", "is", "an", "emulated", "recording", "of", "someone", "reading", "words", "aloud", "for", "the", "tests", "today"];
const WORDS_PER_SECOND = 2.5;
const WORDS_PER_SEGMENT = 8;

/** Made-up speech, seeded by the upload: about 2.5 words a second, in segments of up to 8 words. */
function makeTranscript(data: Buffer, seconds: number): Transcript {
  const random = mulberry32(hashString(`${data.length}:${data.subarray(0, 65536).toString("base64")}`));
  const count = Math.min(400, Math.max(3, Math.round(seconds * WORDS_PER_SECOND)));
  const at = (i: number): number => Math.round(((seconds * i) / count) * 100) / 100;
  const words: Segment[] = [];
  const segments: Segment[] = [];
  for (let first = 0; first < count; first += WORDS_PER_SEGMENT) {
    const last = Math.min(count, first + WORDS_PER_SEGMENT);
    const chunk: string[] = [];
    for (let i = first; i < last; i++) {
      let word = WORDS[Math.floor(random() * WORDS.length)] as string;
      if (i === first) word = word.charAt(0).toUpperCase() + word.slice(1);
      if (i === last - 1) word += ".";
      chunk.push(word);
      words.push({ text: ` ${word}`, start: at(i), end: at(i + 1) });
    }
    segments.push({ text: ` ${chunk.join(" ")}`, start: at(first), end: at(last) });
  }
  return { text: segments.map((s) => s.text).join(""), segments, words };
}

interface TranscriptionMeta {
  task: Task;
  language: string;
  temperature: number;
  words: boolean;
}

/** Whisper's `_call_model`: json or verbose_json, always sent as application/json. */
function xinferenceTranscription(t: Transcript, format: string, meta: TranscriptionMeta): Reply {
  if (format === "json") return json({ text: t.text });
  const duration = (meta.words ? t.words : t.segments).at(-1)?.end ?? 0;
  // The task is hard-coded: translations say "transcribe" too.
  const head = { task: "transcribe", language: meta.language, duration, text: t.text };
  if (meta.words) return json({ ...head, words: t.words.map((w) => ({ word: w.text, start: w.start, end: w.end })) });
  let seek = 0;
  const segments = t.segments.map((s, id) => {
    seek = t.text.indexOf(s.text, seek);
    const segment = { id, seek, start: s.start, end: s.end, text: s.text, tokens: [], temperature: meta.temperature, avg_logprob: 0, compression_ratio: 0, no_speech_prob: 0 };
    seek += s.text.length;
    return segment;
  });
  return json({ ...head, segments });
}

/** OpenAI's five formats, the text ones as text/plain. */
function openAITranscription(t: Transcript, format: string, meta: TranscriptionMeta): Reply {
  const text = t.text.trim();
  const stamp = (seconds: number, separator: string): string => {
    const ms = Math.round(seconds * 1000);
    const pad = (n: number, width = 2): string => String(n).padStart(width, "0");
    return `${pad(Math.floor(ms / 3600000))}:${pad(Math.floor(ms / 60000) % 60)}:${pad(Math.floor(ms / 1000) % 60)}${separator}${pad(ms % 1000, 3)}`;
  };
  const plain = (body: string): Reply => ({ status: 200, contentType: "text/plain; charset=utf-8", body });
  switch (format) {
    case "json":
      return json({ text });
    case "text":
      return plain(`${text}\n`);
    case "srt":
      return plain(t.segments.map((s, i) => `${i + 1}\n${stamp(s.start, ",")} --> ${stamp(s.end, ",")}\n${s.text.trim()}\n\n`).join(""));
    case "vtt":
      return plain(`WEBVTT\n\n${t.segments.map((s) => `${stamp(s.start, ".")} --> ${stamp(s.end, ".")}\n${s.text.trim()}\n\n`).join("")}`);
    case "verbose_json": {
      const duration = t.segments.at(-1)?.end ?? 0;
      const segments = t.segments.map((s, id) => ({ id, start: s.start, end: s.end, text: s.text.trim() }));
      const words = meta.words ? { words: t.words.map((w) => ({ word: w.text.trim(), start: w.start, end: w.end })) } : {};
      return json({ task: meta.task, language: meta.language, duration, text, segments, ...words });
    }
    default:
      throw detailError(400, `Unsupported response_format: ${format}. Use one of json, text, srt, verbose_json, vtt.`);
  }
}

function json(value: unknown): Reply {
  return { status: 200, contentType: "application/json", body: JSON.stringify(value) };
}

const SPEECH_RULES = {
  model: { check: str, required: true },
  input: { check: str, required: true },
  voice: { check: optional(str) },
  response_format: { check: optional(str) },
  speed: { check: optional(anyNumber) },
  stream: { check: optional(bool) },
  kwargs: { check: optional(str) },
};

const VOICE_FILES = ["prompt_speech", "prompt_latent"];

export async function createSpeech(ctx: RouteContext): Promise<Reply> {
  const voiceFiles = ctx.form.files.filter((f) => VOICE_FILES.includes(f.field));
  // The route reads a form only when a voice file came with it; otherwise `await request.json()`, which fails
  // on a form body like any other non-JSON.
  const raw =
    voiceFiles.length > 0 && ctx.flavor === "xinference"
      ? Object.fromEntries([...ctx.form.fields].map(([name, values]) => [name, values.at(-1)]))
      : jsonBodyOf(ctx.json);
  const body = validateBody("SpeechRequest", raw, SPEECH_RULES);
  const uid = body.model as string;
  checkModelAccess(ctx.principal, uid);
  const model = ctx.registry.resolve(uid);
  const speech: SpeechJob = {
    input: body.input as string,
    voice: field<string | null>(body, "voice", null),
    format: field(body, "response_format", "mp3"),
    speed: field(body, "speed", 1),
  };

  const check = (): void => {
    const kwargs = parseKwargs(field<string | null>(body, "kwargs", null));
    ctx.record.kwargs = kwargs;
    delete kwargs.request_id;
    for (const file of voiceFiles) kwargs[file.field] = `<${file.data.length} bytes>`;
    requireAbility(ctx, model, "text2audio", "speech");
    if (ctx.flavor === "openai") {
      if (speech.voice === null) throw detailError(400, "Missing required parameter: 'voice'.");
      return;
    }
    // ChatTTS's speech() takes no extra arguments, voice-cloning files included, and measures the voice first.
    const unexpected = Object.keys(kwargs)[0];
    if (unexpected !== undefined) throw engineError(`ChatTTSModel.speech() got an unexpected keyword argument '${unexpected}'`);
    if (speech.voice === null) throw engineError("object of type 'NoneType' has no len()");
  };

  if (field(body, "stream", false)) {
    const release = ctx.registry.acquire(model);
    try {
      check();
      const events = speechChunks(speech).map((data, i): PacedEvent => ({ data, afterTokens: i + 1 }));
      return pacedStream(ctx, {
        contentType: speechContentType(ctx, speech.format),
        framing: ctx.flavor === "xinference" ? STARLETTE_FRAMING : PLAIN_FRAMING,
        events,
        // Nothing catches a failure inside the speech stream: the connection just ends mid-body.
        failure: () => "drop",
        release,
      });
    } catch (error) {
      release();
      throw error;
    }
  }
  return ctx.engine.run(model, undefined, () => {
    check();
    return { status: 200, contentType: speechContentType(ctx, speech.format), body: Buffer.concat(speechChunks(speech)) };
  });
}

interface SpeechJob {
  input: string;
  voice: string | null;
  format: string;
  speed: number;
}

/** About 60 ms of speech per character, at the requested speed; a tone pitched by voice and text. */
function speechChunks(job: SpeechJob): Buffer[] {
  const seconds = Math.min(60, (0.3 + 0.06 * job.input.length) / (job.speed > 0 ? job.speed : 1));
  let audio: Buffer;
  let head: Buffer = Buffer.alloc(0);
  let chunkBytes: number;
  switch (job.format) {
    case "mp3":
      audio = mp3Frames(seconds);
      head = id3Tag();
      chunkBytes = MP3_CHUNK_BYTES;
      break;
    case "wav":
    case "pcm":
      audio = tonePcm(seconds, hashString(`${job.voice ?? ""}\u0000${job.input}`), SPEECH_SAMPLE_RATE);
      if (job.format === "wav") head = wavHeader(audio.length);
      chunkBytes = PCM_CHUNK_BYTES;
      break;
    default:
      throw engineError(`Emulator: response_format '${job.format}' is not emulated (mp3, wav and pcm are)`);
  }
  // Streamed, it comes in half-second chunks, the header with the first.
  const chunks: Buffer[] = [];
  for (let at = 0; at < audio.length; at += chunkBytes) chunks.push(audio.subarray(at, at + chunkBytes));
  chunks[0] = Buffer.concat([head, chunks[0] as Buffer]);
  return chunks;
}

const OPENAI_AUDIO_TYPES: Record<string, string> = { mp3: "audio/mpeg", wav: "audio/wav", pcm: "audio/pcm" };

function speechContentType(ctx: RouteContext, format: string): string {
  return ctx.flavor === "xinference" ? "application/octet-stream" : (OPENAI_AUDIO_TYPES[format] ?? "application/octet-stream");
}

/** A model without the method the route calls fails inside the actor: a 500 naming its spec. */
function requireAbility(ctx: RouteContext, model: RunningModel, ability: AudioAbility, what: "transcriptions" | "translations" | "speech"): void {
  const spec = model.spec;
  if (spec.model_type === "audio" && spec.model_ability.includes(ability)) return;
  throw refusal(ctx, `Model ${specStr(spec)} is not for creating ${what}.`, `The model \`${model.uid}\` does not support the ${what} API.`);
}

function refusal(ctx: RouteContext, xinference: string, openai: string): HttpError {
  return ctx.flavor === "xinference" ? engineError(xinference) : detailError(400, openai);
}
