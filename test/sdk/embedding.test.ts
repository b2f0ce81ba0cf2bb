import assert from "node:assert/strict";
import { createServer } from "node:http";
import type { ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { beforeEach, describe, it } from "node:test";
import { BadGatewayError, BadRequestError, embedding } from "../../src/index.js";
import { decodeFloat32Base64, jsonBody, requestsTo, useEmulator } from "./helpers.js";

const emu = useEmulator();
const base = (): string => emu().baseUrl;

beforeEach(() => emu().clearRequests());

describe("embedding", () => {
  it("answers OpenAI's shape for a string, with the model string the caller passed", async () => {
    const res = await embedding({ model: "xinference/bge-base-en", input: "hello world", api_base: base() });
    assert.equal(res.object, "list");
    assert.equal(res.model, "xinference/bge-base-en");
    assert.equal(res.data.length, 1);
    assert.deepEqual(Object.keys(res.data[0] ?? {}).sort(), ["embedding", "index", "object"]);
    assert.equal(res.data[0]?.object, "embedding");
    assert.equal((res.data[0]?.embedding as number[]).length, 768);
    assert.ok(res.usage.prompt_tokens > 0);
    assert.equal(res.usage.total_tokens, res.usage.prompt_tokens);
    assert.deepEqual(Object.keys(res).sort(), ["data", "model", "object", "usage"], "nothing but OpenAI's fields");
    assert.deepEqual(jsonBody(requestsTo(emu(), "/v1/embeddings")[0]), { model: "bge-base-en", input: "hello world" });
  });

  it("takes every input form: string[], token ids, arrays of token ids", async () => {
    const texts = await embedding({ model: "xinference/bge-small-en-v1.5", input: ["a", "b", "c"], api_base: base() });
    assert.deepEqual(texts.data.map((d) => d.index), [0, 1, 2]);
    const tokens = await embedding({ model: "xinference/bge-small-en-v1.5", input: [101, 2023, 102], api_base: base() });
    assert.equal(tokens.data.length, 1);
    const tokenLists = await embedding({ model: "xinference/bge-small-en-v1.5", input: [[101, 102], [7, 8, 9]], api_base: base() });
    assert.equal(tokenLists.data.length, 2);
    assert.equal((tokenLists.data[1]?.embedding as number[]).length, 384);
    const sent = requestsTo(emu(), "/v1/embeddings").map((r) => jsonBody(r).input);
    assert.deepEqual(sent, [["a", "b", "c"], [101, 2023, 102], [[101, 102], [7, 8, 9]]]);
  });

  it("refuses empty input with a 400 before any upstream call", async () => {
    for (const input of ["", [], [""], ["a", ""], [[]], [1.5], ["a", 1], { text: "x" }]) {
      await assert.rejects(
        embedding({ model: "xinference/bge-base-en", input: input as string, api_base: base() }),
        (err: unknown) => err instanceof BadRequestError && err.status === 400 && err.param === "input",
      );
    }
    assert.equal(emu().requests.length, 0);
  });

  it("encodes base64 itself (Xinference ignores encoding_format) and does not forward the field", async () => {
    const floats = await embedding({ model: "xinference/bge-base-en", input: ["x", "y"], api_base: base() });
    const b64 = await embedding({ model: "xinference/bge-base-en", input: ["x", "y"], encoding_format: "base64", api_base: base() });
    for (let i = 0; i < 2; i++) {
      const decoded = decodeFloat32Base64(b64.data[i]?.embedding as string);
      const expected = (floats.data[i]?.embedding as number[]).map((x) => Math.fround(x));
      assert.deepEqual(decoded, expected);
    }
    const bodies = requestsTo(emu(), "/v1/embeddings").map(jsonBody);
    assert.ok(bodies.every((b) => !("encoding_format" in b)));
    await assert.rejects(
      embedding({ model: "xinference/bge-base-en", input: "x", encoding_format: "hex" as "base64", api_base: base() }),
      (err: unknown) => err instanceof BadRequestError && err.param === "encoding_format",
    );
  });

  it("passes dimensions through and accepts vectors of that length", async () => {
    const res = await embedding({ model: "xinference/bge-small-en-v1.5", input: "x", dimensions: 384, api_base: base() });
    assert.equal((res.data[0]?.embedding as number[]).length, 384);
    assert.equal(jsonBody(requestsTo(emu(), "/v1/embeddings")[0]).dimensions, 384);
  });

  it("fails with a 400 saying what the model returns when vectors come back another length", async () => {
    await assert.rejects(
      embedding({ model: "xinference/bge-base-en", input: "x", dimensions: 384, api_base: base() }),
      (err: unknown) => {
        assert.ok(err instanceof BadRequestError);
        assert.equal(err.param, "dimensions");
        assert.equal(err.provider, "xinference");
        assert.match(err.message, /returns 768-dimensional embeddings, not the 384/);
        assert.match(err.message, /launch-time setting/);
        assert.match(err.message, /bge-small-en-v1\.5/, "names a builtin model of that size");
        return true;
      },
    );
  });

  it("forwards user and extras, and never the call options", async () => {
    await embedding({
      model: "xinference/bge-base-en",
      input: "x",
      user: "u-1",
      truncate_prompt_tokens: 8,
      api_base: base(),
      api_key: undefined,
      timeout: 30,
      num_retries: 1,
      drop_params: true,
      extra_headers: { "x-request-id": "r1" },
      signal: new AbortController().signal,
      max_batch_size: 10,
      max_concurrency: 2,
    });
    const [request] = requestsTo(emu(), "/v1/embeddings");
    assert.deepEqual(jsonBody(request), { model: "bge-base-en", input: "x", user: "u-1", truncate_prompt_tokens: 8 });
    assert.equal(request?.headers["x-request-id"], "r1");
  });

  it("splits large inputs into chunks, keeps the order and sums the usage", async () => {
    const input = Array.from({ length: 600 }, (_, i) => `text number ${i}`);
    const chunked = await embedding({ model: "xinference/bge-small-en-v1.5", input, api_base: base() });
    const chunkSizes = requestsTo(emu(), "/v1/embeddings").map((r) => (jsonBody(r).input as string[]).length);
    assert.deepEqual(chunkSizes.sort((a, b) => b - a), [256, 256, 88]);
    emu().clearRequests();
    const whole = await embedding({ model: "xinference/bge-small-en-v1.5", input, max_batch_size: 1000, api_base: base() });
    assert.equal(requestsTo(emu(), "/v1/embeddings").length, 1);
    assert.deepEqual(chunked.data, whole.data, "same vectors in the same order");
    assert.deepEqual(chunked.usage, whole.usage);
    assert.equal(chunked.model, "xinference/bge-small-en-v1.5");
  });

  it("honours max_batch_size", async () => {
    await embedding({ model: "xinference/bge-base-en", input: ["a", "b", "c", "d", "e"], max_batch_size: 2, api_base: base() });
    const sent = requestsTo(emu(), "/v1/embeddings").map((r) => jsonBody(r).input as string[]);
    assert.deepEqual(sent.flat().sort(), ["a", "b", "c", "d", "e"]);
    assert.equal(sent.length, 3);
    await assert.rejects(
      embedding({ model: "xinference/bge-base-en", input: "a", max_batch_size: 0, api_base: base() }),
      (err: unknown) => err instanceof BadRequestError && err.param === "max_batch_size",
    );
  });

  it("fails the whole call when one chunk fails", async () => {
    emu().setFault("embeddings", { kind: "status", status: 400, body: { detail: "bad chunk" }, times: 1 });
    await assert.rejects(
      embedding({ model: "xinference/bge-base-en", input: ["a", "b", "c", "d"], max_batch_size: 1, max_concurrency: 1, api_base: base() }),
      (err: unknown) => err instanceof BadRequestError && err.message === "bad chunk",
    );
    emu().setFault("embeddings", null);
  });
});

describe("embedding chunk concurrency", () => {
  it("keeps at most max_concurrency upstream requests in flight", async () => {
    // Holds requests until `limit` are in flight, then answers them: a call that ran fewer at once would hang,
    // one that ran more would show it in `maxInFlight`.
    const limit = 2;
    const total = 6;
    let inFlight = 0;
    let maxInFlight = 0;
    let received = 0;
    const held: { res: ServerResponse; input: string[] }[] = [];
    const server = createServer((req, res) => {
      let text = "";
      req.on("data", (c: Buffer) => (text += c.toString()));
      req.on("end", () => {
        const input = (JSON.parse(text) as { input: string[] }).input;
        inFlight++;
        received++;
        maxInFlight = Math.max(maxInFlight, inFlight);
        held.push({ res, input });
        if (held.length === limit || received === total) {
          for (const { res: r, input: chunk } of held.splice(0)) {
            inFlight--;
            r.writeHead(200, { "content-type": "application/json" });
            r.end(
              JSON.stringify({
                object: "list",
                model: "m",
                data: chunk.map((s, index) => ({ index, object: "embedding", embedding: [Number(s), 0] })),
                usage: { prompt_tokens: chunk.length, total_tokens: chunk.length },
              }),
            );
          }
        }
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as AddressInfo;
    try {
      const input = Array.from({ length: total }, (_, i) => String(i));
      const res = await embedding({
        model: "xinference/m",
        input,
        max_batch_size: 1,
        max_concurrency: limit,
        api_base: `http://127.0.0.1:${port}/v1`,
      });
      assert.equal(maxInFlight, limit);
      assert.deepEqual(res.data.map((d) => (d.embedding as number[])[0]), [0, 1, 2, 3, 4, 5]);
      assert.deepEqual(res.usage, { prompt_tokens: 6, total_tokens: 6 });
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });

  it("refuses an answer with fewer vectors than inputs as a bad gateway", async () => {
    const server = createServer((_req, res) => {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ data: [{ index: 0, embedding: [1] }], usage: { prompt_tokens: 1, total_tokens: 1 } }));
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as AddressInfo;
    try {
      await assert.rejects(
        embedding({ model: "xinference/m", input: ["a", "b"], api_base: `http://127.0.0.1:${port}/v1`, num_retries: 0 }),
        (err: unknown) => err instanceof BadGatewayError && /returned 1 embeddings for 2 inputs/.test(err.message),
      );
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });
});
