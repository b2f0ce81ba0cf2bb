/**
 * One fuzz case per index: a route, a method, headers and a body, all drawn from the case's own seeded
 * generator, so a failing case is rebuilt from the seed and its index alone. Only well-formed HTTP: what a
 * client library sends, with any body and any header value it allows.
 */
import { anyValue, array, json, key, nested, object, oddString, PROTOTYPE_KEYS, Rng, smuggled } from "./values.js";

export interface FuzzCase {
  index: number;
  method: "GET" | "POST" | "PUT" | "DELETE" | "PATCH" | "OPTIONS" | "HEAD";
  path: string;
  headers: Record<string, string>;
  body?: Buffer;
}

export interface FuzzWorld {
  masterKey: string;
  /** Model names the config serves, by what they do. */
  models: { embed: string[]; image: string[]; rerank: string[]; transcribe: string[]; speak: string[]; chat: string[] };
  /** Real encoded images (PNG, JPEG, WebP) to upload. */
  images: UploadFile[];
  /** Real audio files (WAV, MP3) to upload. */
  audio: UploadFile[];
  /** Names of hosted images the proxy has answered so far: GETs of them should find them. */
  hosted: string[];
}

export interface UploadFile {
  name: string;
  type: string;
  bytes: Buffer;
}

type Fields = [string, string][];

function anyModel(rng: Rng, world: FuzzWorld): string {
  const all = Object.values(world.models).flat();
  return rng.chance(0.85) ? json(rng.pick(all)) : anyValue(rng, 1);
}

function embeddingFields(rng: Rng, world: FuzzWorld): Fields {
  const inputs = [
    json("hello"),
    json(["a", "b", "c"]),
    json([1, 2, 3]),
    json([[1, 2], [3]]),
    json(Array.from({ length: rng.int(1, 300) }, (_unused, i) => `text ${i}`)),
    json(rng.pick(["é☃🙂", "\u0000", ""])),
  ];
  const fields: Fields = [
    ["model", rng.chance(0.9) ? json(rng.pick(world.models.embed)) : anyModel(rng, world)],
    ["input", rng.pick(inputs)],
  ];
  if (rng.chance(0.3)) fields.push(["encoding_format", json(rng.pick(["float", "base64"]))]);
  if (rng.chance(0.1)) fields.push(["dimensions", json(rng.int(1, 1024))]);
  if (rng.chance(0.1)) fields.push(["user", json("u-1")]);
  if (rng.chance(0.1)) fields.push(["max_batch_size", json(rng.int(1, 64))]);
  if (rng.chance(0.1)) fields.push(["max_concurrency", json(rng.int(1, 4))]);
  return fields;
}

function imageGenerationFields(rng: Rng, world: FuzzWorld): Fields {
  const fields: Fields = [
    ["model", rng.chance(0.9) ? json(rng.pick(world.models.image)) : anyModel(rng, world)],
    ["prompt", json(rng.pick(["a lighthouse at dawn", "☃ in snow", "x"]))],
    ["size", json(rng.pick(["8x8", "16x16", "32x24", "64*64"]))],
  ];
  if (rng.chance(0.3)) fields.push(["n", json(rng.int(1, 2))]);
  if (rng.chance(0.3)) fields.push(["response_format", json(rng.pick(["b64_json", "url"]))]);
  if (rng.chance(0.1)) fields.push(["quality", json("standard")], ["style", json("vivid")]);
  return fields;
}

function rerankFields(rng: Rng, world: FuzzWorld): Fields {
  const documents = rng.chance(0.5) ? json(["Paris is in France", "Berlin", "Rome"]) : json([{ text: "Paris" }, { text: "Berlin is big" }]);
  const fields: Fields = [
    ["model", rng.chance(0.9) ? json(rng.pick(world.models.rerank)) : anyModel(rng, world)],
    ["query", json(rng.pick(["capital of France", "☃", "q"]))],
    ["documents", documents],
  ];
  if (rng.chance(0.3)) fields.push(["top_n", json(rng.int(1, 5))]);
  if (rng.chance(0.3)) fields.push(["return_documents", json(rng.chance(0.5))]);
  return fields;
}

function speechFields(rng: Rng, world: FuzzWorld): Fields {
  const fields: Fields = [
    ["model", rng.chance(0.9) ? json(rng.pick(world.models.speak)) : anyModel(rng, world)],
    ["input", json(rng.pick(["Hello there.", "☃ 🙂", "x", "a".repeat(rng.pick([10, 4096, 4097]))]))],
    ["voice", json(rng.pick(["2155", "alloy", ""]))],
  ];
  // The formats the emulator encodes, and one xgate refuses: the emulator answers the others (opus, aac, flac)
  // with a 500 "not emulated", which would cool the deployment down for the cases after it.
  if (rng.chance(0.5)) fields.push(["response_format", json(rng.pick(["mp3", "wav", "pcm", "ogg"]))]);
  if (rng.chance(0.3)) fields.push(["speed", json(rng.pick([0.25, 1, 4, 4.5, 0]))]);
  if (rng.chance(0.3)) fields.push(["stream", json(rng.chance(0.5))]);
  return fields;
}

/** What chat and text completions share: sampling parameters, and streaming now and then. */
function samplingFields(rng: Rng, fields: Fields): Fields {
  if (rng.chance(0.4)) fields.push(["stream", json(true)]);
  if (rng.chance(0.2)) fields.push(["stream_options", json({ include_usage: rng.chance(0.5) })]);
  if (rng.chance(0.3)) fields.push(["max_tokens", json(rng.int(1, 16))]);
  if (rng.chance(0.2)) fields.push(["temperature", json(rng.pick([0, 0.7, 2]))]);
  if (rng.chance(0.1)) fields.push(["stop", json(rng.pick(["\n", ["a", "b"]]))]);
  if (rng.chance(0.1)) fields.push(["logit_bias", json({ "50256": -100 })]);
  return fields;
}

function chatFields(rng: Rng, world: FuzzWorld): Fields {
  const messages = [
    json([{ role: "user", content: "hello" }]),
    json([{ role: "system", content: "be brief" }, { role: "user", content: [{ type: "text", text: "é☃🙂" }] }]),
    json([{ role: "user", content: [{ type: "image_url", image_url: { url: "data:image/png;base64,iVBOR" } }] }]),
    json([
      { role: "user", content: "weather?" },
      { role: "assistant", content: null, tool_calls: [{ id: "c1", type: "function", function: { name: "get_weather", arguments: "{}" } }] },
      { role: "tool", tool_call_id: "c1", content: "sunny" },
    ]),
  ];
  const fields: Fields = [
    ["model", rng.chance(0.9) ? json(rng.pick(world.models.chat)) : anyModel(rng, world)],
    ["messages", rng.pick(messages)],
  ];
  if (rng.chance(0.2)) fields.push(["tools", json([{ type: "function", function: { name: "get_weather", parameters: { type: "object" } } }])]);
  if (rng.chance(0.1)) fields.push(["response_format", json({ type: "json_object" })]);
  return samplingFields(rng, fields);
}

function completionFields(rng: Rng, world: FuzzWorld): Fields {
  const fields: Fields = [
    ["model", rng.chance(0.9) ? json(rng.pick(world.models.chat)) : anyModel(rng, world)],
    ["prompt", json(rng.pick(["Once upon a time", "☃", ["a", "b"], [1, 2, 3]]))],
  ];
  return samplingFields(rng, fields);
}

/** Valid fields, then some of them broken: replaced by any value, dropped, repeated, or joined by extras. */
function mutate(rng: Rng, fields: Fields): Fields {
  const out: Fields = [];
  for (const [name, value] of fields) {
    const roll = rng.int(0, 9);
    if (roll === 0) continue;
    out.push([name, roll <= 2 ? anyValue(rng) : value]);
    if (rng.chance(0.03)) out.push([name, anyValue(rng, 1)]);
  }
  const extras = rng.pick([0, 0, 1, 2, 4]);
  for (let i = 0; i < extras; i++) {
    switch (rng.int(0, 4)) {
      case 0:
        out.push(["extra_body", rng.chance(0.5) ? anyValue(rng) : smuggled(rng)]);
        break;
      case 1:
        out.push([rng.pick(PROTOTYPE_KEYS), rng.chance(0.5) ? anyValue(rng, 1) : object([["polluted", "true"], ["model", json("x")]])]);
        break;
      case 2:
        out.push([key(rng), smuggled(rng)]);
        break;
      default:
        out.push([key(rng), anyValue(rng)]);
    }
  }
  return out;
}

/** A JSON body: mostly an object of fields (whole or broken), sometimes not an object or not JSON at all. */
function jsonBody(rng: Rng, fields: Fields): string {
  const roll = rng.int(0, 19);
  if (roll <= 4) return object(fields);
  if (roll <= 14) return object(mutate(rng, fields));
  const text = object(fields);
  switch (roll) {
    case 15:
      return anyValue(rng);
    case 16:
      return object([...fields, ["extra_body", nested(rng, rng.pick([63, 64, 65, 100, 20_000]))]]);
    case 17:
      return text.slice(0, rng.int(0, text.length - 1));
    case 18:
      return rng.pick(["", " ", "\ufeff" + text, text + "garbage", text.replace(":", ":NaN,"), "{'model': 'embed'}", `${text}/* c */`, "\u0000"]);
    default:
      return rng.bytes(rng.int(1, 200)).toString("latin1");
  }
}

function shuffle<T>(rng: Rng, items: T[]): void {
  for (let i = items.length - 1; i > 0; i--) {
    const j = rng.int(0, i);
    [items[i], items[j]] = [items[j] as T, items[i] as T];
  }
}

function formPart(boundary: string, name: string, value: Buffer | string, file?: { filename: string; type: string }): Buffer {
  const disposition = file ? `form-data; name="${name}"; filename="${file.filename}"` : `form-data; name="${name}"`;
  const head = `--${boundary}\r\nContent-Disposition: ${disposition}\r\n${file ? `Content-Type: ${file.type}\r\n` : ""}\r\n`;
  return Buffer.concat([Buffer.from(head), Buffer.from(value), Buffer.from("\r\n")]);
}

/** One of `files` to upload, sometimes broken: noise, cut short, empty, oddly named or typed, or text. */
function uploadBytes(rng: Rng, files: UploadFile[]): { bytes: Buffer; filename: string; type: string } {
  const file = rng.pick(files);
  switch (rng.int(0, 9)) {
    case 0:
      return { bytes: rng.bytes(rng.int(0, 2_000)), filename: `noise${file.name.slice(file.name.lastIndexOf("."))}`, type: file.type };
    case 1:
      return { bytes: file.bytes.subarray(0, rng.int(1, file.bytes.length - 1)), filename: file.name, type: file.type };
    case 2:
      return { bytes: Buffer.concat([file.bytes.subarray(0, 16), rng.bytes(300)]), filename: file.name, type: file.type };
    case 3:
      return { bytes: Buffer.alloc(0), filename: "empty.bin", type: file.type };
    case 4:
      return { bytes: file.bytes, filename: rng.pick(["../../etc/passwd", "☃.bin", "a\".bin", "", "x".repeat(300)]), type: rng.pick(["application/octet-stream", "text/plain", "image/gif", ""]) };
    case 5:
      return { bytes: Buffer.from("not an upload at all"), filename: "a.txt", type: "text/plain" };
    default:
      return { bytes: file.bytes, filename: file.name, type: file.type };
  }
}

/** A valid edit form, its parts as the OpenAI client writes them: the model, a prompt, one image or two. */
function validEditForm(rng: Rng, world: FuzzWorld, boundary: string): Buffer[] {
  const parts = [formPart(boundary, "model", "sd"), formPart(boundary, "prompt", "make it snow")];
  if (rng.chance(0.5)) parts.push(formPart(boundary, "size", rng.pick(["8x8", "16x16", "original"])));
  if (rng.chance(0.3)) parts.push(formPart(boundary, "response_format", rng.pick(["b64_json", "url"])));
  const images = rng.int(1, 2);
  for (let i = 0; i < images; i++) {
    const image = rng.pick(world.images);
    parts.push(formPart(boundary, images > 1 ? "image[]" : "image", image.bytes, { filename: image.name, type: image.type }));
  }
  return parts;
}

/** A hostile edit form: odd values, missing parts, repeated parts, files and text swapped, broken files. */
function hostileEditForm(rng: Rng, world: FuzzWorld, boundary: string): Buffer[] {
  const parts: Buffer[] = [];
  const text = (name: string, valid: string): void => {
    if (rng.chance(0.08)) return;
    parts.push(formPart(boundary, name, rng.chance(0.15) ? oddString(rng) : valid));
  };
  text("model", rng.chance(0.9) ? rng.pick(world.models.image) : rng.pick([...world.models.embed, "nope"]));
  text("prompt", "make it snow");
  if (rng.chance(0.5)) text("size", rng.pick(["8x8", "16x16", "original"]));
  if (rng.chance(0.3)) text("n", rng.pick(["1", "2"]));
  if (rng.chance(0.3)) text("response_format", rng.pick(["b64_json", "url"]));
  const files = rng.pick([0, 1, 1, 1, 2, 3]);
  for (let i = 0; i < files; i++) {
    const upload = uploadBytes(rng, world.images);
    parts.push(formPart(boundary, rng.pick(["image", "image", "image", "image[]", "mask", "other"]), upload.bytes, upload));
  }
  if (rng.chance(0.05)) parts.push(formPart(boundary, "prompt", rng.pick(world.images).bytes, { filename: "p.png", type: "image/png" }));
  if (rng.chance(0.1)) parts.push(formPart(boundary, key(rng), oddString(rng)));
  if (rng.chance(0.05)) parts.push(formPart(boundary, "huge", "x".repeat(rng.pick([100_000, 1_100_000]))));
  if (rng.chance(0.05)) parts.push(Buffer.from(`--${boundary}\r\nno-disposition: here\r\n\r\nvalue\r\n`));
  if (rng.chance(0.3)) shuffle(rng, parts);
  return parts;
}

/** A valid transcription form, as the OpenAI client writes it: the model, the file, maybe a format and timings. */
function validAudioForm(rng: Rng, world: FuzzWorld, boundary: string): Buffer[] {
  const format = rng.pick(["json", "text", "srt", "vtt", "verbose_json"]);
  const parts = [formPart(boundary, "model", rng.pick(world.models.transcribe)), formPart(boundary, "response_format", format)];
  if (format === "verbose_json" && rng.chance(0.5)) parts.push(formPart(boundary, "timestamp_granularities[]", rng.pick(["word", "segment"])));
  if (rng.chance(0.3)) parts.push(formPart(boundary, "temperature", rng.pick(["0", "0.4"])));
  const audio = rng.pick(world.audio);
  parts.push(formPart(boundary, "file", audio.bytes, { filename: audio.name, type: audio.type }));
  return parts;
}

/** A hostile transcription form: odd values, missing or repeated parts, images and broken files as the audio. */
function hostileAudioForm(rng: Rng, world: FuzzWorld, boundary: string): Buffer[] {
  const parts: Buffer[] = [];
  const text = (name: string, valid: string): void => {
    if (rng.chance(0.08)) return;
    parts.push(formPart(boundary, name, rng.chance(0.15) ? oddString(rng) : valid));
  };
  text("model", rng.chance(0.85) ? rng.pick(world.models.transcribe) : rng.pick([...world.models.speak, ...world.models.image, "nope"]));
  if (rng.chance(0.6)) text("response_format", rng.pick(["json", "text", "srt", "vtt", "verbose_json", "mp3"]));
  if (rng.chance(0.3)) text("temperature", rng.pick(["0", "0.5", "2", "-1", "warm", ""]));
  if (rng.chance(0.2)) text("language", rng.pick(["en", "de", ""]));
  for (let i = rng.pick([0, 1, 2]); i > 0; i--) text("timestamp_granularities[]", rng.pick(["word", "segment", "letter"]));
  const files = rng.pick([0, 1, 1, 1, 2]);
  for (let i = 0; i < files; i++) {
    const upload = uploadBytes(rng, rng.chance(0.85) ? world.audio : world.images);
    parts.push(formPart(boundary, rng.pick(["file", "file", "file", "file[]", "audio", "image"]), upload.bytes, upload));
  }
  if (rng.chance(0.1)) parts.push(formPart(boundary, key(rng), oddString(rng)));
  if (rng.chance(0.05)) parts.push(formPart(boundary, "huge", "x".repeat(rng.pick([100_000, 1_100_000]))));
  if (rng.chance(0.3)) shuffle(rng, parts);
  return parts;
}

type FormParts = (rng: Rng, world: FuzzWorld, boundary: string) => Buffer[];

/** A multipart form, valid or hostile, then sometimes cut short or sent under a wrong Content-Type. */
function multipartForm(rng: Rng, world: FuzzWorld, valid: FormParts, hostile: FormParts): { body: Buffer; contentType: string } {
  const boundary = rng.pick(["xgate-fuzz", "----WebKitFormBoundary7MA4YWxkTrZu0gW", "a", "x".repeat(70)]);
  if (rng.chance(0.35)) {
    return { body: Buffer.concat([...valid(rng, world, boundary), Buffer.from(`--${boundary}--\r\n`)]), contentType: `multipart/form-data; boundary=${boundary}` };
  }
  let body = Buffer.concat([...hostile(rng, world, boundary), Buffer.from(`--${boundary}--\r\n`)]);
  if (rng.chance(0.1)) body = body.subarray(0, rng.int(0, body.length - 1));
  const contentType = rng.pick([
    ...Array<string>(15).fill(`multipart/form-data; boundary=${boundary}`),
    "multipart/form-data",
    "multipart/form-data; boundary=not-the-one",
    `multipart/form-data; boundary="${boundary}"`,
    "application/json",
    `multipart/mixed; boundary=${boundary}`,
  ]);
  return { body, contentType };
}

function authHeaders(rng: Rng, world: FuzzWorld): Record<string, string> {
  const key = world.masterKey;
  if (rng.chance(0.85)) return { authorization: `Bearer ${key}` };
  return rng.pick<Record<string, string>>([
    {},
    { authorization: "" },
    { authorization: "Bearer" },
    { authorization: `bearer ${key}` },
    { authorization: `Bearer  ${key}` },
    { authorization: key },
    { authorization: `Basic ${Buffer.from(`user:${key}`).toString("base64")}` },
    { authorization: "Bearer sk-wrong" },
    { authorization: `Bearer ${"k".repeat(4_000)}` },
    { authorization: `Bearer ${key}x` },
    { "x-api-key": key },
    { "api-key": key },
    { authorization: "Bearer sk-wrong", "x-api-key": key },
  ]);
}

function oddHeaders(rng: Rng): Record<string, string> {
  const headers: Record<string, string> = {};
  if (rng.chance(0.3)) {
    headers["x-request-id"] = rng.pick(["", "req-1", " spaced id ", "x".repeat(rng.pick([129, 1_000, 4_000])), "../../x", "é\u00ff", "a,b", '"quoted"', "\t"]);
  }
  if (rng.chance(0.05)) headers["accept"] = rng.pick(["text/html", "*/*", "application/xml", "image/png"]);
  if (rng.chance(0.03)) headers["content-encoding"] = rng.pick(["gzip", "br", "identity", "x-unknown"]);
  if (rng.chance(0.03)) headers["x-forwarded-host"] = rng.pick(["evil.example", "", "a b"]);
  return headers;
}

function jsonContentType(rng: Rng): string | undefined {
  if (rng.chance(0.85)) return "application/json";
  return rng.pick([undefined, "APPLICATION/JSON", "application/json; charset=utf-8", "application/json; charset=latin1", "application/json;", "text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "application/vnd.api+json", "", "*/*"]);
}

const JSON_ROUTES = [
  { paths: ["/v1/embeddings", "/embeddings"], fields: embeddingFields },
  { paths: ["/v1/images/generations", "/images/generations"], fields: imageGenerationFields },
  { paths: ["/v1/rerank", "/rerank", "/v2/rerank"], fields: rerankFields },
  { paths: ["/v1/audio/speech", "/audio/speech"], fields: speechFields },
  { paths: ["/v1/chat/completions", "/chat/completions"], fields: chatFields },
  { paths: ["/v1/completions", "/completions"], fields: completionFields },
];
const EDIT_PATHS = ["/v1/images/edits", "/images/edits"];
const AUDIO_FORM_PATHS = ["/v1/audio/transcriptions", "/audio/transcriptions", "/v1/audio/translations", "/audio/translations"];
const GET_PATHS = ["/v1/models", "/models", "/model/info", "/v1/model/info", "/health", "/health/readiness", "/health/liveliness", "/health/liveness"];

/** Every UTF-8 byte as %XX: lone surrogates included (as U+FFFD), which encodeURIComponent refuses. */
function percentEncoded(text: string): string {
  return Buffer.from(text).toString("hex").replace(/../g, "%$&");
}

function hostedImagePath(rng: Rng, world: FuzzWorld): string {
  if (world.hosted.length > 0 && rng.chance(0.3)) return `/v1/files/images/${rng.pick(world.hosted)}`;
  const name = rng.pick([
    rng.bytes(16).toString("hex"),
    rng.bytes(16).toString("hex") + ".jpeg",
    "..%2F..%2Fetc%2Fpasswd",
    "%2e%2e",
    "%00",
    percentEncoded(oddString(rng).slice(0, 8)),
    "x".repeat(rng.pick([64, 100, 101, 255])),
    // A bad percent-encoding, and names past the router's parameter limit: the proxy's own 400 and 414.
    "%",
    "%E0%A4%A",
    percentEncoded(oddString(rng)).repeat(8),
  ]);
  return `/v1/files/images/${name}`;
}

/** A query string or a trailing slash that should change nothing, or could break URL parsing. */
function decoratePath(rng: Rng, path: string): string {
  if (rng.chance(0.9)) return path;
  return rng.pick([`${path}/`, `${path}?`, `${path}?a=1&a=2`, `${path}?%ZZ=%`, `${path}?fresh=true`, `${path}?fresh=${percentEncoded(oddString(rng).slice(0, 50))}`, `${path}#frag`, `/${path}`, `${path}%20`, path.toUpperCase()]);
}

export function fuzzCase(seed: number, index: number, world: FuzzWorld): FuzzCase {
  const rng = Rng.forCase(seed, index);
  const headers = { ...authHeaders(rng, world), ...oddHeaders(rng) };
  const roll = rng.int(0, 99);
  let method: FuzzCase["method"] = "POST";
  let path: string;
  let body: Buffer | undefined;
  if (roll < 55) {
    const route = rng.pick(JSON_ROUTES);
    path = rng.pick(route.paths);
    body = Buffer.from(jsonBody(rng, route.fields(rng, world)));
    const type = jsonContentType(rng);
    if (type !== undefined) headers["content-type"] = type;
  } else if (roll < 80) {
    const edit = roll < 70;
    path = rng.pick(edit ? EDIT_PATHS : AUDIO_FORM_PATHS);
    const form = edit ? multipartForm(rng, world, validEditForm, hostileEditForm) : multipartForm(rng, world, validAudioForm, hostileAudioForm);
    body = form.body;
    headers["content-type"] = form.contentType;
  } else if (roll < 92) {
    method = "GET";
    path = rng.pick(GET_PATHS);
  } else if (roll < 96) {
    method = "GET";
    path = hostedImagePath(rng, world);
  } else {
    // The wrong method for a route, or a route that does not exist.
    method = rng.pick(["GET", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD", "POST"] as const);
    path = rng.pick([...EDIT_PATHS, ...AUDIO_FORM_PATHS, ...GET_PATHS, "/v1/nope", "/", "/v1", "/v1/files/images/"]);
    if (method !== "GET" && method !== "HEAD" && rng.chance(0.5)) {
      body = Buffer.from(array([anyValue(rng, 1)]));
      headers["content-type"] = "application/json";
    }
  }
  return { index, method, path: decoratePath(rng, path), headers, ...(body !== undefined && { body }) };
}

/** The case as a reader can replay it: the request line, headers and the body (cut when long). */
export function describeCase(fuzz: FuzzCase, limit = 1_500): string {
  const lines = [`${fuzz.method} ${fuzz.path}`, `headers: ${JSON.stringify(fuzz.headers)}`];
  if (fuzz.body !== undefined) {
    // Valid UTF-8 is shown as a JSON string (control characters escaped), anything else as base64.
    const printable = Buffer.from(fuzz.body.toString("utf8")).equals(fuzz.body);
    const shown = printable ? JSON.stringify(fuzz.body.toString("utf8").slice(0, limit)) : `base64 ${fuzz.body.subarray(0, limit).toString("base64")}`;
    lines.push(`body (${fuzz.body.length} bytes${fuzz.body.length > limit ? `, first ${limit}` : ""}): ${shown}`);
  }
  return lines.join("\n");
}
