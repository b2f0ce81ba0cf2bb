// Audio bytes without an encoder: WAV and PCM hold a real tone (16-bit mono); MP3 is an ID3 tag and valid
// MPEG-2 Layer III frames that decode to silence (all-zero side info), as many as the duration needs. The
// other direction: whether an upload is audio at all, and how long it lasts (WAV and MP3 exactly, others
// estimated from their size).
import { engineError } from "./errors.js";

export const SPEECH_SAMPLE_RATE = 24000;
/** Half a second of 16-bit mono samples. */
export const PCM_CHUNK_BYTES = SPEECH_SAMPLE_RATE;

/** A sine tone at a pitch picked by `seed`, `seconds` long, as little-endian 16-bit samples. */
export function tonePcm(seconds: number, seed: number, sampleRate = SPEECH_SAMPLE_RATE): Buffer {
  const count = Math.max(1, Math.round(seconds * sampleRate));
  const hz = 180 + (seed % 160);
  const out = Buffer.alloc(count * 2);
  for (let i = 0; i < count; i++) out.writeInt16LE(Math.round(Math.sin((2 * Math.PI * hz * i) / sampleRate) * 8000), i * 2);
  return out;
}

/** A WAV header for 16-bit mono PCM; `dataBytes` undefined writes the "unknown length" sizes of a stream. */
export function wavHeader(dataBytes: number | undefined, sampleRate = SPEECH_SAMPLE_RATE): Buffer {
  const header = Buffer.alloc(44);
  const unknown = 0xffffffff;
  header.write("RIFF", 0, "latin1");
  header.writeUInt32LE(dataBytes === undefined ? unknown : 36 + dataBytes, 4);
  header.write("WAVEfmt ", 8, "latin1");
  header.writeUInt32LE(16, 16);
  header.writeUInt16LE(1, 20); // PCM
  header.writeUInt16LE(1, 22); // mono
  header.writeUInt32LE(sampleRate, 24);
  header.writeUInt32LE(sampleRate * 2, 28);
  header.writeUInt16LE(2, 32);
  header.writeUInt16LE(16, 34);
  header.write("data", 36, "latin1");
  header.writeUInt32LE(dataBytes === undefined ? unknown : dataBytes, 40);
  return header;
}

/** An ID3v2.4 tag naming the encoder, as ffmpeg starts its MP3 files. */
export function id3Tag(): Buffer {
  const text = Buffer.from("\u0003Lavf60.16.100", "latin1");
  const frame = Buffer.concat([Buffer.from("TSSE", "latin1"), syncsafe(text.length), Buffer.from([0, 0]), text]);
  return Buffer.concat([Buffer.from([0x49, 0x44, 0x33, 4, 0, 0]), syncsafe(frame.length), frame]);
}

function syncsafe(n: number): Buffer {
  return Buffer.from([(n >> 21) & 0x7f, (n >> 14) & 0x7f, (n >> 7) & 0x7f, n & 0x7f]);
}

/** MPEG-2 Layer III, 64 kbit/s, 24 kHz, mono, no CRC: 192 bytes and 576 samples (24 ms) per frame. */
const MP3_FRAME_HEADER = [0xff, 0xf3, 0x84, 0xc0];
const MP3_FRAME_BYTES = 192;
const MP3_FRAME_SAMPLES = 576;
/** About half a second of frames (21 × 24 ms). */
export const MP3_CHUNK_BYTES = 21 * MP3_FRAME_BYTES;

/** Silent MP3 frames covering `seconds` at 24 kHz. */
export function mp3Frames(seconds: number): Buffer {
  const frames = Math.max(1, Math.ceil((seconds * SPEECH_SAMPLE_RATE) / MP3_FRAME_SAMPLES));
  const frame = Buffer.alloc(MP3_FRAME_BYTES);
  Buffer.from(MP3_FRAME_HEADER).copy(frame);
  return Buffer.concat(Array.from({ length: frames }, () => frame));
}

const FFMPEG_READ_ERROR =
  "Soundfile is either not in the correct format or is malformed. Ensure that the soundfile has a valid audio file " +
  "extension (e.g. wav, flac or mp3) and is not corrupted. If reading from a remote URL, ensure that the URL is the " +
  "full address to **download** the audio file.";

/** The length of uploaded audio in seconds; data ffmpeg could not read fails as the transformers pipeline does. */
export function audioSeconds(data: Buffer): number {
  if (data.length < 12) throw engineError(FFMPEG_READ_ERROR);
  const tag = data.toString("latin1", 0, 4);
  if (tag === "RIFF" && data.toString("latin1", 8, 12) === "WAVE") return wavSeconds(data);
  if (tag.startsWith("ID3") || isMp3Sync(data, 0)) return mp3Seconds(data);
  const known =
    tag === "fLaC" || tag === "OggS" || data.readUInt32BE(0) === 0x1a45dfa3 || data.toString("latin1", 4, 8) === "ftyp";
  if (known) return data.length / 16000;
  throw engineError(FFMPEG_READ_ERROR);
}

function wavSeconds(data: Buffer): number {
  let byteRate = 0;
  for (let at = 12; at + 8 <= data.length; ) {
    const id = data.toString("latin1", at, at + 4);
    const size = data.readUInt32LE(at + 4);
    if (id === "fmt " && at + 16 <= data.length) byteRate = data.readUInt32LE(at + 16);
    if (id === "data") {
      if (byteRate === 0) break;
      const bytes = size === 0xffffffff ? data.length - at - 8 : Math.min(size, data.length - at - 8);
      return bytes / byteRate;
    }
    at += 8 + size + (size % 2);
  }
  throw engineError(FFMPEG_READ_ERROR);
}

function isMp3Sync(data: Buffer, at: number): boolean {
  return at + 4 <= data.length && data[at] === 0xff && ((data[at + 1] as number) & 0xe0) === 0xe0;
}

const MPEG1_L3_KBPS = [0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320];
const MPEG2_L3_KBPS = [0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160];
const SAMPLE_RATES: Record<number, number[]> = { 3: [44100, 48000, 32000], 2: [22050, 24000, 16000], 0: [11025, 12000, 8000] };

/** Walks the Layer III frames after any ID3 tag and adds up their samples. */
function mp3Seconds(data: Buffer): number {
  let at = 0;
  if (data.toString("latin1", 0, 3) === "ID3" && data.length >= 10) {
    at = 10 + (((data[6] as number) << 21) | ((data[7] as number) << 14) | ((data[8] as number) << 7) | (data[9] as number));
  }
  let seconds = 0;
  while (isMp3Sync(data, at)) {
    const version = ((data[at + 1] as number) >> 3) & 3;
    const rates = SAMPLE_RATES[version];
    const bitrate = (version === 3 ? MPEG1_L3_KBPS : MPEG2_L3_KBPS)[((data[at + 2] as number) >> 4) & 15] ?? 0;
    const sampleRate = rates?.[((data[at + 2] as number) >> 2) & 3];
    if (sampleRate === undefined || bitrate === 0) break;
    const padding = ((data[at + 2] as number) >> 1) & 1;
    const samples = version === 3 ? 1152 : 576;
    seconds += samples / sampleRate;
    at += Math.floor(((samples / 8) * bitrate * 1000) / sampleRate) + padding;
  }
  if (seconds === 0) throw engineError(FFMPEG_READ_ERROR);
  return seconds;
}
