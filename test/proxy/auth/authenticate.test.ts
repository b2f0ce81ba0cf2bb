// The authenticate stage in a small Fastify app with the proxy's error handlers, over a real store on a temp
// SQLite file: what a client sees for the master key, a virtual key and each way a key is refused.
import assert from "node:assert/strict";
import { after, beforeEach, describe, test } from "node:test";
import Fastify, { type FastifyInstance } from "fastify";
import pino from "pino";
import { assertModelAccess, modelsFor, resolveKeyAlias } from "../../../src/proxy/auth/virtual-key.js";
import { installErrorHandlers } from "../../../src/proxy/http/errors.js";
import { KeyCache, LOCAL_TIMING } from "../../../src/proxy/keys/cache.js";
import { generateKey, hashKey } from "../../../src/proxy/keys/tokens.js";
import { authenticator } from "../../../src/proxy/pipeline/authenticate.js";
import { ControlledSource, FakeClock, newKey, START, tempStore, type TempStore } from "../keys/helpers.js";

const MASTER = "sk-master-key-1234";
const MODELS = [
  { id: "embed", object: "model" },
  { id: "rerank", object: "model" },
  { id: "sd3.5", object: "model" },
];

let temp: TempStore;
let clock: FakeClock;
let source: ControlledSource;
let cache: KeyCache;

async function appWith(masterKey: string | undefined, keys: KeyCache | undefined): Promise<FastifyInstance> {
  const app = Fastify();
  app.decorateRequest("principal", null);
  installErrorHandlers(app, pino({ level: "silent" }), { bodyLimitBytes: 1_000_000 });
  const authenticate = authenticator(masterKey, keys);
  app.addHook("onRequest", async (request) => {
    await authenticate(request);
  });
  app.get("/health/liveliness", { config: { public: true } }, async (request) => ({ principal: request.principal }));
  app.get("/v1/models", async (request) => ({ object: "list", data: modelsFor(request.principal, MODELS) }));
  app.post("/v1/embeddings", async (request) => {
    const { model } = request.body as { model: string };
    const principal = request.principal!;
    assertModelAccess(principal, model);
    const who = principal.kind === "virtual" ? { token: principal.key.record.token, alias: principal.key.record.key_alias } : {};
    return { kind: principal.kind, ...who, model: resolveKeyAlias(principal, model) };
  });
  await app.ready();
  return app;
}

let app: FastifyInstance;

beforeEach(async () => {
  await app?.close();
  await temp?.dispose();
  clock = new FakeClock(START);
  temp = await tempStore(clock);
  source = new ControlledSource(temp.store);
  cache = new KeyCache(source, { clock });
  app = await appWith(MASTER, cache);
});

after(async () => {
  await app?.close();
  await temp?.dispose();
});

function embed(key: string | undefined, model = "embed", header = "authorization") {
  const headers: Record<string, string> = {};
  if (key !== undefined) headers[header] = header === "authorization" ? `Bearer ${key}` : key;
  return app.inject({ method: "POST", url: "/v1/embeddings", headers, payload: { model, input: "hi" } });
}

interface ErrorShape {
  status: number;
  type: string;
  code: string;
  message: RegExp;
  param?: string | null;
}

function assertRefused(response: Awaited<ReturnType<typeof embed>>, expected: ErrorShape, secret?: string): void {
  assert.equal(response.statusCode, expected.status, response.body);
  const body = response.json() as { error: { message: string; type: string; param: string | null; code: string } };
  assert.deepEqual(Object.keys(body), ["error"]);
  assert.deepEqual(Object.keys(body.error).sort(), ["code", "message", "param", "type"]);
  assert.equal(body.error.type, expected.type);
  assert.equal(body.error.code, expected.code);
  assert.equal(body.error.param, expected.param ?? null);
  assert.match(body.error.message, expected.message);
  if (secret !== undefined) {
    assert.ok(!response.body.includes(secret), "the key is never echoed");
    assert.ok(!response.body.includes(hashKey(secret)), "nor its hash");
  }
}

describe("who a request is from", () => {
  test("the master key, from any of the key headers, is the master", async () => {
    for (const header of ["authorization", "x-api-key", "api-key", "x-litellm-api-key"]) {
      const response = await embed(MASTER, "embed", header);
      assert.equal(response.statusCode, 200, header);
      assert.equal(response.json().kind, "master");
    }
    assert.equal(source.keyReads, 0, "the master key is never looked up");
  });

  test("a virtual key, from any of the key headers, is that key", async () => {
    const { value, token } = await newKey(temp.store, { key_alias: "my-app" });
    for (const header of ["authorization", "x-api-key", "api-key", "x-litellm-api-key"]) {
      const response = await embed(value, "embed", header);
      assert.equal(response.statusCode, 200, header);
      assert.deepEqual(response.json(), { kind: "virtual", token, alias: "my-app", model: "embed" });
    }
    assert.equal(source.keyReads, 1, "read once, then from the cache");
  });

  test("an open proxy lets everyone in as 'open'", async () => {
    const open = await appWith(undefined, undefined);
    const response = await open.inject({ method: "POST", url: "/v1/embeddings", payload: { model: "embed" } });
    assert.equal(response.json().kind, "open");
    await open.close();
  });

  test("public routes need no key and set no principal", async () => {
    const response = await app.inject({ method: "GET", url: "/health/liveliness" });
    assert.equal(response.statusCode, 200);
    assert.deepEqual(response.json(), { principal: null });
  });

  test("without the key cache, only the master key is accepted", async () => {
    const { value } = await newKey(temp.store);
    const masterOnly = await appWith(MASTER, undefined);
    const response = await masterOnly.inject({ method: "POST", url: "/v1/embeddings", headers: { authorization: `Bearer ${value}` }, payload: { model: "embed" } });
    assert.equal(response.statusCode, 401);
    assert.equal(response.json().error.code, "invalid_api_key");
    await masterOnly.close();
  });
});

describe("refusals", () => {
  test("no key: 401 missing_api_key", async () => {
    assertRefused(await embed(undefined), { status: 401, type: "authentication_error", code: "missing_api_key", message: /^No API key\./ });
  });

  test("an unknown key: 401 invalid_api_key, LiteLLM's auth_error, without echoing it", async () => {
    const made_up = "sk-made-up-0123456789";
    assertRefused(await embed(made_up), { status: 401, type: "auth_error", code: "invalid_api_key", message: /^Invalid API key/ }, made_up);
  });

  test("a value that does not start with sk- is refused without a lookup, even a stored hash", async () => {
    const { token } = await newKey(temp.store);
    assertRefused(await embed(token), { status: 401, type: "auth_error", code: "invalid_api_key", message: /^Invalid API key/ });
    assertRefused(await embed("sk-"), { status: 401, type: "auth_error", code: "invalid_api_key", message: /^Invalid API key/ });
    assert.equal(source.keyReads, 0);
  });

  test("a blocked key: 401 key_blocked, naming /key/unblock", async () => {
    const { value } = await newKey(temp.store, { key_alias: "my-app", blocked: true });
    assertRefused(
      await embed(value),
      { status: 401, type: "auth_error", code: "key_blocked", message: /^Key 'my-app' is blocked\. An admin can unblock it with POST \/key\/unblock\.$/ },
      value,
    );
  });

  test("an expired key: 401 expired_key, judged by the clock while the key is cached", async () => {
    const { value } = await newKey(temp.store, { key_alias: "my-app", expires: new Date(START + 100) });
    cache.setNotified(true);
    assert.equal((await embed(value)).statusCode, 200);
    clock.advance(100);
    assertRefused(await embed(value), { status: 401, type: "expired_key", code: "key_expired", message: /^Key 'my-app' expired at 2025-03-10T12:00:00\.100Z\./ }, value);
    assert.equal(source.keyReads, 1, "no re-read was needed to see it");
  });

  test("a model outside the key's models: 401 key_model_access_denied naming the models it may use", async () => {
    const { value } = await newKey(temp.store, { key_alias: "my-app", models: ["embed", "rerank"] });
    assert.equal((await embed(value, "rerank")).statusCode, 200);
    assertRefused(
      await embed(value, "sd3.5"),
      {
        status: 401,
        type: "key_model_access_denied",
        code: "model_access_denied",
        param: "model",
        message: /^Key 'my-app' may not use model 'sd3\.5'\. It may use: embed, rerank\.$/,
      },
      value,
    );
  });

  test("a model outside the key's team's models: a 401 of type team_model_access_denied, naming the team's", async () => {
    await temp.store.teams.create({ team_id: "t1", team_alias: "research", models: ["embed"] });
    const { value } = await newKey(temp.store, { key_alias: "my-app", team_id: "t1" });
    assert.equal((await embed(value, "embed")).statusCode, 200);
    assertRefused(await embed(value, "rerank"), {
      status: 401,
      type: "team_model_access_denied",
      code: "model_access_denied",
      param: "model",
      message: /^Key 'my-app' is in team 'research', which may not use model 'rerank'\. The team may use: embed\.$/,
    });
  });
});

describe("aliases and the model list", () => {
  test("a key's alias is allowed and names its model group", async () => {
    const { value } = await newKey(temp.store, { models: ["fast"], aliases: { fast: "embed" } });
    const response = await embed(value, "fast");
    assert.equal(response.statusCode, 200);
    assert.equal(response.json().model, "embed");
  });

  test("GET /v1/models lists only the key's models; the master key sees all", async () => {
    const { value } = await newKey(temp.store, { models: ["embed", "sd3.5"] });
    const list = async (key: string) =>
      (await app.inject({ method: "GET", url: "/v1/models", headers: { authorization: `Bearer ${key}` } })).json().data.map((m: { id: string }) => m.id);
    assert.deepEqual(await list(value), ["embed", "sd3.5"]);
    assert.deepEqual(await list(MASTER), ["embed", "rerank", "sd3.5"]);
  });
});

describe("regenerated keys", () => {
  test("the previous key works through its grace period, as the key it became, and is refused after", async () => {
    const { value: old, token } = await newKey(temp.store, { key_alias: "my-app" });
    const renewed = generateKey();
    await temp.store.keys.regenerate(token, { token: hashKey(renewed), key_name: "sk-...new", graceUntil: new Date(START + 60_000) });
    const during = await embed(old);
    assert.equal(during.statusCode, 200);
    assert.equal(during.json().token, hashKey(renewed));
    assert.equal((await embed(renewed)).statusCode, 200);
    clock.advance(60_000);
    assertRefused(await embed(old), { status: 401, type: "auth_error", code: "invalid_api_key", message: /^Invalid API key/ }, old);
    clock.advance(LOCAL_TIMING.maxAgeMs);
    assertRefused(await embed(old), { status: 401, type: "auth_error", code: "invalid_api_key", message: /^Invalid API key/ }, old);
    assert.equal((await embed(renewed)).statusCode, 200);
  });
});

describe("the database away", () => {
  test("keys already known keep working; an unknown key gets a 503 key_store_unavailable at once", async () => {
    const { value } = await newKey(temp.store);
    assert.equal((await embed(value)).statusCode, 200);
    await temp.store.close();
    clock.advance(LOCAL_TIMING.maxAgeMs * 5);
    assert.equal((await embed(value)).statusCode, 200);
    const unknown = await embed("sk-never-seen-before");
    assertRefused(unknown, { status: 503, type: "api_error", code: "key_store_unavailable", message: /could not be checked: the key store \(database\) failed/ });
    assert.equal(unknown.headers["retry-after"], "1");
    // The master key needs no database.
    assert.equal((await embed(MASTER)).statusCode, 200);
  });

  test("a database that hangs holds a request at most loadTimeoutMs", async () => {
    source.mode = "hang";
    const pending = embed("sk-hung-lookup");
    while (source.keyReads === 0) await new Promise((resolve) => setImmediate(resolve));
    clock.advance(2000);
    assertRefused(await pending, { status: 503, type: "api_error", code: "key_store_unavailable", message: /did not answer within 2000 ms/ });
  });
});
