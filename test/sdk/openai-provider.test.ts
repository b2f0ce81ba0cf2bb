// The SDK against an OpenAI-compatible server (the emulator's OpenAI-wire twin, as vLLM answers): `openai/`
// and `hosted_vllm/` model strings, api_base required, OpenAI's wire format both ways.
import assert from "node:assert/strict";
import { beforeEach, describe, it } from "node:test";
import {
  AuthenticationError,
  BadRequestError,
  embedding,
  imageEdit,
  imageGeneration,
  InternalServerError,
  NotFoundError,
  RateLimitError,
  rerank,
  ServiceUnavailableError,
  completion,
  speech,
  textCompletion,
  transcription,
  translation,
} from "../../src/index.js";
import { getProvider } from "../../src/providers/index.js";
import { tonePcm, wavHeader } from "../support/emulator/audio-encoding.js";
import { pngBytes } from "../upstream/helpers.js";
import { decodeFloat32Base64, jsonBody, multipartBody, requestsTo, useEmulator } from "./helpers.js";

const vllm = useEmulator({ flavor: "openai" });
const base = (): string => vllm().baseUrl;

beforeEach(() => {
  vllm().clearRequests();
  vllm().setFault("*", null);
});

describe("openai/ and hosted_vllm/ embeddings", () => {
  it("sends OpenAI's request with the model's name on the server, and answers floats", async () => {
    const res = await embedding({ model: "openai/bge-base-en", input: ["hello", "world"], api_base: base(), user: "u1", truncate_prompt_tokens: 16 });
    assert.equal(res.model, "openai/bge-base-en");
    assert.deepEqual(res.data.map((d) => [d.index, (d.embedding as number[]).length]), [[0, 768], [1, 768]]);
    assert.ok(res.usage.prompt_tokens > 0);
    assert.deepEqual(jsonBody(requestsTo(vllm(), "/v1/embeddings")[0]), {
      truncate_prompt_tokens: 16,
      model: "bge-base-en",
      input: ["hello", "world"],
      user: "u1",
    });
  });

  it("asks the server for base64 when base64 is wanted, and hands on the very float32s it sent", async () => {
    const floats = await embedding({ model: "hosted_vllm/bge-small-en-v1.5", input: ["a", "b"], api_base: base() });
    const b64 = await embedding({ model: "hosted_vllm/bge-small-en-v1.5", input: ["a", "b"], api_base: base(), encoding_format: "base64" });
    const [floatRequest, base64Request] = requestsTo(vllm(), "/v1/embeddings").map(jsonBody);
    assert.ok(!("encoding_format" in (floatRequest ?? {})));
    assert.equal(base64Request?.encoding_format, "base64");
    for (let i = 0; i < 2; i++) {
      assert.equal(typeof b64.data[i]?.embedding, "string");
      assert.deepEqual(decodeFloat32Base64(b64.data[i]?.embedding as string), (floats.data[i]?.embedding as number[]).map((x) => Math.fround(x)));
    }
  });

  it("splits a large input into batches and keeps the order, base64 included", async () => {
    const input = Array.from({ length: 7 }, (_, i) => `text ${i}`);
    const whole = await embedding({ model: "openai/bge-small-en-v1.5", input, api_base: base(), encoding_format: "base64" });
    const split = await embedding({ model: "openai/bge-small-en-v1.5", input, api_base: base(), encoding_format: "base64", max_batch_size: 3 });
    assert.deepEqual(split.data, whole.data);
    assert.equal(requestsTo(vllm(), "/v1/embeddings").length, 4);
  });

  it("needs an api_base: without one it is a 400 naming it, before any call", async () => {
    await assert.rejects(embedding({ model: "openai/bge-base-en", input: "x" }), (err: unknown) => {
      assert.ok(err instanceof BadRequestError);
      assert.equal(err.param, "api_base");
      assert.equal(err.message, "api_base is required for openai/ models: the URL of the OpenAI-compatible server's API, e.g. http://127.0.0.1:8000/v1.");
      return true;
    });
    assert.equal(vllm().requests.length, 0);
  });

  it("refuses vectors of another length than `dimensions` asked for", async () => {
    await assert.rejects(
      embedding({ model: "openai/bge-base-en", input: "x", api_base: base(), dimensions: 256 }),
      (err: unknown) => err instanceof BadRequestError && err.code === "dimensions_mismatch" && /returned 768-dimensional embeddings, not the 256/.test(err.message),
    );
  });
});

describe("OpenAI error bodies become xgate's error classes", () => {
  it("keeps the server's message and names the provider the model string used", async () => {
    await assert.rejects(embedding({ model: "hosted_vllm/nope", input: "x", api_base: base() }), (err: unknown) => {
      assert.ok(err instanceof NotFoundError);
      assert.equal(err.provider, "hosted_vllm");
      assert.equal(err.code, "model_not_found");
      assert.equal(err.param, "model");
      assert.match(err.message, /^Model not found in the model list, uid: nope/);
      return true;
    });
  });

  it("maps each status, nested or flat (vLLM before 0.10), and retries the retryable ones", async () => {
    const cases: [number, unknown, new (...args: never[]) => Error][] = [
      [429, { error: { message: "slow down", type: "RateLimitError", param: null, code: 429 } }, RateLimitError],
      [503, { object: "error", message: "engine busy", type: "ServiceUnavailableError", param: null, code: 503 }, ServiceUnavailableError],
      [500, { error: { message: "CUDA error", type: "InternalServerError", param: null, code: 500 } }, InternalServerError],
      [400, { error: { message: "input is too long", type: "BadRequestError", param: "input", code: 400 } }, BadRequestError],
    ];
    for (const [status, body, type] of cases) {
      vllm().clearRequests();
      vllm().setFault("embeddings", { kind: "status", status, body, times: 3 });
      await assert.rejects(embedding({ model: "openai/bge-base-en", input: "x", api_base: base(), num_retries: 2 }), (err: unknown) => {
        assert.ok(err instanceof type, `${status} → ${type.name}`);
        assert.equal((err as BadRequestError).status, status);
        assert.match(err.message, /slow down|engine busy|CUDA error|input is too long/);
        return true;
      });
      assert.equal(requestsTo(vllm(), "/v1/embeddings").length, status === 400 ? 1 : 3, `${status}: retried only when retryable`);
    }
    vllm().setFault("embeddings", { kind: "status", status: 400, body: { error: { message: "bad", type: "BadRequestError", param: "input", code: 400 } }, times: 1 });
    await assert.rejects(embedding({ model: "openai/bge-base-en", input: "x", api_base: base() }), (err: unknown) => (err as BadRequestError).param === "input");
  });

  it("a 401 says whether a key was sent", async () => {
    const refused = { kind: "status" as const, status: 401, body: { error: { message: "Unauthorized", type: "Unauthorized", param: null, code: 401 } }, times: 1 };
    vllm().setFault("embeddings", refused);
    await assert.rejects(embedding({ model: "openai/bge-base-en", input: "x", api_base: base() }), (err: unknown) => {
      assert.ok(err instanceof AuthenticationError);
      assert.equal(err.message, "Unauthorized. No API key was sent: set api_key.");
      return true;
    });
    vllm().setFault("embeddings", refused);
    await assert.rejects(
      embedding({ model: "openai/bge-base-en", input: "x", api_base: base(), api_key: "sk-wrong" }),
      (err: unknown) => err instanceof AuthenticationError && err.message === "Unauthorized. The API key was refused: check api_key.",
    );
    assert.equal(requestsTo(vllm(), "/v1/embeddings").at(-1)?.headers.authorization, "Bearer sk-wrong");
  });

  it("an api_base that is not the API root is a 404 naming api_base", async () => {
    await assert.rejects(embedding({ model: "openai/bge-base-en", input: "x", api_base: vllm().url }), (err: unknown) => {
      assert.ok(err instanceof NotFoundError);
      assert.equal(err.code, "not_found");
      assert.equal(err.param, "api_base");
      assert.match(err.message, /has no route POST \/embeddings: it answered 404 \(Not Found\)\. .*api_base is not its API root \(ending in \/v1/);
      return true;
    });
  });
});

describe("openai/ images", () => {
  it("generates in OpenAI's form: WIDTHxHEIGHT, parameters and extras as they are, base64 asked for", async () => {
    const res = await imageGeneration({
      model: "openai/sd-turbo",
      prompt: "a lighthouse",
      size: "64x48",
      n: 2,
      api_base: base(),
      quality: "hd",
      seed: 7,
    });
    assert.equal(res.data.length, 2);
    assert.ok(res.data.every((d) => typeof d.b64_json === "string" && d.b64_json.length > 100));
    assert.deepEqual(jsonBody(requestsTo(vllm(), "/v1/images/generations")[0]), {
      seed: 7,
      model: "sd-turbo",
      prompt: "a lighthouse",
      response_format: "b64_json",
      n: 2,
      size: "64x48",
      quality: "hd",
    });
  });

  it("answers `url` as data: URLs of the images (the server is still asked for base64)", async () => {
    const res = await imageGeneration({ model: "openai/sd-turbo", prompt: "a lighthouse", size: "64x64", api_base: base(), response_format: "url" });
    assert.match(res.data[0]?.url ?? "", /^data:image\/jpeg;base64,\/9j\//);
    assert.equal(jsonBody(requestsTo(vllm(), "/v1/images/generations")[0]).response_format, "b64_json");
  });

  it("edits as OpenAI's multipart: one image as `image`, several as `image[]`, the mask as `mask`", async () => {
    const png = await pngBytes(32, 32);
    const one = await imageEdit({ model: "openai/stabilityai/stable-diffusion-3.5-large", image: png, prompt: "a hat", api_base: base(), guidance_scale: 3 });
    assert.equal(one.data.length, 1);
    const single = multipartBody(requestsTo(vllm(), "/v1/images/edits")[0]);
    assert.deepEqual(single.files.map((f) => f.field), ["image"]);
    assert.deepEqual(single.fields, {
      guidance_scale: "3",
      model: "stabilityai/stable-diffusion-3.5-large",
      prompt: "a hat",
      response_format: "b64_json",
    });
    await imageEdit({ model: "openai/stabilityai/stable-diffusion-3.5-large", image: [png, png], mask: png, prompt: "a hat", size: "32x32", api_base: base() });
    const several = multipartBody(requestsTo(vllm(), "/v1/images/edits")[1]);
    assert.deepEqual(several.files.map((f) => f.field), ["image[]", "image[]", "mask"]);
    assert.equal(several.fields.size, "32x32");
  });
});

describe("openai/ rerank", () => {
  it("posts to {api_base}/rerank and reads vLLM's answer: usage as tokens, documents when asked", async () => {
    const documents = ["Paris is the capital of France.", "Berlin is in Germany."];
    const res = await rerank({ model: "hosted_vllm/bge-reranker-base", query: "capital of France", documents, top_n: 1, api_base: base() });
    assert.equal(res.results.length, 1);
    assert.deepEqual(res.results[0]?.document, { text: documents[0] });
    assert.equal(res.results[0]?.index, 0);
    assert.ok((res.meta.tokens?.input_tokens ?? 0) > 0);
    assert.deepEqual(res.meta.billed_units, { search_units: 1, total_tokens: res.meta.tokens?.input_tokens });
    assert.deepEqual(jsonBody(requestsTo(vllm(), "/v1/rerank")[0]), {
      model: "bge-reranker-base",
      query: "capital of France",
      documents,
      return_documents: true,
      top_n: 1,
    });
    const bare = await rerank({ model: "hosted_vllm/bge-reranker-base", query: "capital", documents, return_documents: false, api_base: base() });
    assert.ok(bare.results.every((r) => r.document === undefined));
  });

  it("a server without the route answers 404, which says the server does not offer it", async () => {
    // What vLLM's FastAPI answers for a route it does not have.
    vllm().setFault("rerank", { kind: "status", status: 404, body: { detail: "Not Found" }, times: 1 });
    await assert.rejects(rerank({ model: "openai/bge-reranker-base", query: "q", documents: ["d"], api_base: base() }), (err: unknown) => {
      assert.ok(err instanceof NotFoundError);
      assert.equal(err.param, "api_base");
      assert.equal(
        err.message,
        `OpenAI-compatible server at ${base()} has no route POST /rerank: it answered 404 (Not Found). ` +
          "The server does not offer this operation, or api_base is not its API root (ending in /v1, e.g. http://127.0.0.1:8000/v1).",
      );
      return true;
    });
  });
});

describe("openai/ model listing", () => {
  it("lists ids only: no model type, no abilities", async () => {
    const models = await getProvider("openai").listModels({ api_base: base() });
    const embedder = models.find((m) => m.id === "bge-base-en");
    assert.ok(embedder);
    assert.equal(embedder.model_type, undefined);
    assert.equal(embedder.model_ability, undefined);
    assert.equal(embedder.raw.owned_by, "vllm");
  });

  it("has no launch: a clear error, and nothing is sent", async () => {
    await assert.rejects(
      getProvider("hosted_vllm").launchModel({ api_base: base() }, { model_name: "bge-base-en", model_type: "embedding" }),
      (err: unknown) => err instanceof BadRequestError && /^OpenAI-compatible servers have no API to launch models/.test(err.message),
    );
    assert.equal(vllm().requests.length, 0);
  });
});

describe("openai/ audio", () => {
  const pcm = tonePcm(4, 3);
  const wav = Buffer.concat([wavHeader(pcm.length), pcm]);

  it("transcribes through OpenAI's form, asking verbose_json for timings and sending extras as fields", async () => {
    const srt = await transcription({ model: "openai/whisper-large-v3", file: { data: wav, filename: "a.wav" }, response_format: "srt", api_base: base(), language: "en", vad_filter: true });
    assert.match(srt, /^1\n00:00:00,000 --> /);
    const form = multipartBody(requestsTo(vllm(), "/v1/audio/transcriptions").at(-1));
    assert.equal(form.fields.model, "whisper-large-v3");
    assert.equal(form.fields.response_format, "verbose_json");
    assert.equal(form.fields.language, "en");
    assert.equal(form.fields.vad_filter, "true", "an extra is a form field of its own, not Xinference's kwargs");
    assert.equal(form.fields.kwargs, undefined);
    const translated = await translation({ model: "openai/whisper-large-v3", file: { data: wav, filename: "a.wav" }, api_base: base() });
    assert.ok(translated.text.length > 0);
    assert.equal(requestsTo(vllm(), "/v1/audio/translations").length, 1);
  });

  it("answers speech as the server's audio bytes, sending OpenAI's body without Xinference's stream flag", async () => {
    const res = await speech({ model: "openai/ChatTTS", input: "Hello there.", voice: "alloy", response_format: "wav", api_base: base() });
    assert.equal(res.content_type, "audio/wav");
    const bytes = Buffer.from(await res.arrayBuffer());
    assert.equal(bytes.toString("latin1", 0, 4), "RIFF");
    assert.deepEqual(jsonBody(requestsTo(vllm(), "/v1/audio/speech")[0]), { model: "ChatTTS", input: "Hello there.", voice: "alloy", response_format: "wav" });
  });
});

describe("openai/ chat and text completions", () => {
  const messages = [{ role: "user" as const, content: "hello there" }];

  it("answers a chat whole, sending OpenAI's body as it is (n passed on: the server answers every choice)", async () => {
    const res = await completion({ model: "hosted_vllm/qwen2.5-instruct", messages, max_tokens: 5, n: 2, api_base: base() });
    assert.equal(res.object, "chat.completion");
    assert.equal(res.choices.length, 2);
    assert.match(res.choices[0]?.message.content ?? "", /^You said: hello there/);
    const sent = jsonBody(requestsTo(vllm(), "/v1/chat/completions")[0]);
    assert.equal(sent.model, "qwen2.5-instruct");
    assert.equal(sent.n, 2);
    assert.equal(sent.stream, false);
  });

  it("streams a chat, asking the server for the usage and passing the usage chunk on only when asked", async () => {
    const stream = await completion({ model: "openai/qwen2.5-instruct", messages, stream: true, api_base: base() });
    let text = "";
    for await (const chunk of stream) {
      assert.equal(chunk.usage, undefined, "no usage field when the client did not ask");
      text += chunk.choices[0]?.delta.content ?? "";
    }
    assert.match(text, /^You said: hello there/);
    assert.deepEqual(jsonBody(requestsTo(vllm(), "/v1/chat/completions")[0]).stream_options, { include_usage: true });
    const withUsage = await completion({ model: "openai/qwen2.5-instruct", messages, stream: true, stream_options: { include_usage: true }, api_base: base() });
    const chunks = [];
    for await (const chunk of withUsage) chunks.push(chunk);
    assert.ok((chunks.at(-1)?.usage?.completion_tokens ?? 0) > 0, "the last chunk carries the usage");
  });

  it("ends a stream broken off mid-way with an error that says so", async () => {
    vllm().setFault("chat/completions", { kind: "stream-error", afterChunks: 2, message: "engine died" });
    const stream = await completion({ model: "openai/qwen2.5-instruct", messages, stream: true, api_base: base(), num_retries: 0 });
    await assert.rejects(async () => {
      for await (const _chunk of stream) void _chunk;
    }, (err: unknown) => err instanceof Error && /engine died/.test(err.message));
  });

  it("answers a text completion whole and streamed", async () => {
    const whole = await textCompletion({ model: "openai/qwen2.5-instruct", prompt: "Once upon a time", max_tokens: 4, api_base: base() });
    assert.equal(whole.choices.length, 1);
    assert.ok((whole.usage?.completion_tokens ?? 0) > 0);
    const stream = await textCompletion({ model: "openai/qwen2.5-instruct", prompt: "Once upon a time", max_tokens: 4, stream: true, api_base: base() });
    let text = "";
    for await (const chunk of stream) text += chunk.choices[0]?.text ?? "";
    assert.equal(text, whole.choices[0]?.text);
  });
});
