import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { startEmulator } from "../support/emulator/index.js";
import type { Emulator } from "../support/emulator/index.js";
import { postJson } from "./helpers.js";

const EMBED = { model: "bge-base-en", input: "x" };

function embed(emulator: Emulator, signal?: AbortSignal): Promise<Response> {
  return fetch(`${emulator.baseUrl}/embeddings`, { method: "POST", body: JSON.stringify(EMBED), signal });
}

function causeCode(error: unknown): string | undefined {
  const cause = (error as { cause?: { code?: string } }).cause;
  return cause?.code;
}

describe("faults", () => {
  let emulator: Emulator;
  before(async () => {
    emulator = await startEmulator({ models: [{ model_name: "bge-base-en", model_type: "embedding" }] });
  });
  after(() => emulator.close());

  test("status: any status, body, content type and headers; times limits it", async () => {
    emulator.setFault("embeddings", { kind: "status", status: 500, body: "Internal Server Error", times: 1 });
    const plain = await embed(emulator);
    assert.equal(plain.status, 500);
    assert.equal(plain.headers.get("content-type"), "text/plain; charset=utf-8");
    assert.equal(await plain.text(), "Internal Server Error");
    assert.equal((await embed(emulator)).status, 200);

    emulator.setFault("embeddings", { kind: "status", status: 503, body: { detail: "busy" }, headers: { "Retry-After": "2" }, times: 1 });
    const busy = await embed(emulator);
    assert.equal(busy.status, 503);
    assert.equal(busy.headers.get("retry-after"), "2");
    assert.deepEqual(await busy.json(), { detail: "busy" });
    assert.equal(emulator.requests.at(-1)?.status, 503);
  });

  test("reset: the client sees ECONNRESET", async () => {
    emulator.setFault("embeddings", { kind: "reset", times: 1 });
    const error = await embed(emulator).then(
      () => assert.fail("expected the request to fail"),
      (e: unknown) => e,
    );
    assert.equal(causeCode(error), "ECONNRESET");
    assert.equal((await embed(emulator)).status, 200);
  });

  test("stall: no answer, until the client gives up", async () => {
    emulator.setFault("embeddings", { kind: "stall", times: 1 });
    await assert.rejects(embed(emulator, AbortSignal.timeout(100)), { name: "TimeoutError" });
  });

  test("stall-body: headers and part of the body, then nothing", async () => {
    emulator.setFault("embeddings", { kind: "stall-body", times: 1 });
    const res = await embed(emulator, AbortSignal.timeout(200));
    assert.equal(res.status, 200);
    await assert.rejects(res.text(), { name: "TimeoutError" });
  });

  test("truncate: Content-Length promises more than arrives", async () => {
    emulator.setFault("embeddings", { kind: "truncate", times: 1 });
    const res = await embed(emulator);
    assert.equal(res.status, 200);
    assert.ok(Number(res.headers.get("content-length")) > 0);
    await assert.rejects(res.text(), (error: unknown) => causeCode(error) === "UND_ERR_SOCKET");
  });

  test("latency: answers normally", async () => {
    emulator.setFault("embeddings", { kind: "latency", ms: 5, times: 1 });
    const res = await embed(emulator);
    assert.equal(res.status, 200);
    assert.equal(((await res.json()) as { data: unknown[] }).data.length, 1);
  });

  test("'*' applies to every route; a route's own fault wins", async () => {
    emulator.setFault("*", { kind: "status", status: 502 });
    emulator.setFault("embeddings", { kind: "status", status: 418 });
    assert.equal((await fetch(`${emulator.baseUrl}/models`)).status, 502);
    assert.equal((await embed(emulator)).status, 418);
    emulator.setFault("embeddings", null);
    assert.equal((await embed(emulator)).status, 502);
    emulator.setFault("*", null);
    assert.equal((await embed(emulator)).status, 200);
  });

  test("rate draws from a seeded PRNG: the same seed hits the same requests", async () => {
    const pattern = async (seed: number): Promise<number[]> => {
      const e = await startEmulator({ seed, models: [{ model_name: "bge-base-en", model_type: "embedding" }] });
      try {
        e.setFault("embeddings", { kind: "status", status: 500, rate: 0.5 });
        const statuses: number[] = [];
        for (let i = 0; i < 20; i++) statuses.push((await embed(e)).status);
        return statuses;
      } finally {
        await e.close();
      }
    };
    const first = await pattern(42);
    assert.ok(first.includes(500) && first.includes(200), first.join(","));
    assert.deepEqual(await pattern(42), first);
  });

  test("close() ends stalled requests", async () => {
    let stalledArrived: () => void = () => undefined;
    const arrived = new Promise<void>((resolve) => (stalledArrived = resolve));
    const e = await startEmulator({
      models: [{ model_name: "bge-base-en", model_type: "embedding" }],
      // A stalled request counts as handled (dropped) once the emulator has it.
      onRequest: (r) => r.path === "/v1/embeddings" && stalledArrived(),
    });
    e.setFault("embeddings", { kind: "stall" });
    e.setFault("models", { kind: "stall-body" });
    const stalled = embed(e).catch((error: unknown) => error);
    const halfBody = await fetch(`${e.baseUrl}/models`);
    assert.equal(halfBody.status, 200);
    const body = halfBody.text().catch((error: unknown) => error);
    await arrived;
    await e.close();
    assert.ok((await stalled) instanceof Error);
    assert.ok((await body) instanceof Error);
  });
});

describe("request log and several emulators", () => {
  test("every request is recorded with method, path, headers, body and status", async () => {
    const emulator = await startEmulator({ models: [{ model_name: "bge-base-en", model_type: "embedding" }] });
    try {
      await postJson(emulator, "/embeddings", EMBED, { "x-trace": "t1" });
      await fetch(`${emulator.baseUrl}/models?x=1`);
      assert.equal(emulator.requests.length, 2);
      const [first, second] = emulator.requests;
      assert.equal(first?.method, "POST");
      assert.equal(first?.path, "/v1/embeddings");
      assert.equal(first?.headers["x-trace"], "t1");
      assert.deepEqual(first?.body, EMBED);
      assert.equal(first?.status, 200);
      assert.equal(typeof first?.at, "number");
      assert.deepEqual(second?.query, { x: "1" });
      assert.equal(second?.body, null);
      emulator.clearRequests();
      assert.equal(emulator.requests.length, 0);
    } finally {
      await emulator.close();
    }
  });

  test("two emulators run side by side, each with its own models and faults", async () => {
    const a = await startEmulator({ models: [{ model_name: "bge-base-en", model_type: "embedding" }] });
    const b = await startEmulator({ models: [{ model_name: "bge-small-en-v1.5", model_type: "embedding", model_uid: "bge-base-en" }] });
    try {
      assert.notEqual(a.port, b.port);
      b.setFault("*", { kind: "status", status: 503 });
      const fromA = (await (await embed(a)).json()) as { data: { embedding: number[] }[] };
      assert.equal(fromA.data[0]?.embedding.length, 768);
      assert.equal((await embed(b)).status, 503);
      b.setFault("*", null);
      const fromB = (await (await embed(b)).json()) as { data: { embedding: number[] }[] };
      assert.equal(fromB.data[0]?.embedding.length, 384);
      assert.equal(a.requests.length, 1);
      assert.equal(b.requests.length, 2);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });
});
