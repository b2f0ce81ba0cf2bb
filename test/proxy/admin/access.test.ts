/**
 * Who may call the admin routes: the master key everything; a virtual key only its own `GET /key/info`;
 * nobody else anything. A proxy without a master key answers every admin route with the way to turn keys on.
 */
import assert from "node:assert/strict";
import { after, before, beforeEach, describe, test } from "node:test";
import { ADMIN_ROUTES } from "../../../src/proxy/routes/admin/index.js";
import { type AdminApp, adminApp, errorOf, fields, sqlite, storelessApp } from "./helpers.js";

/** A URL for each admin route (`:key` filled in). */
const urls = ADMIN_ROUTES.map((route) => ({ method: route.method, url: route.url.replace(":key", "sk-some-key") }));

describe("admin access", () => {
  let admin: AdminApp;
  let own: { key: string; token: string };
  let other: { key: string; token: string };
  before(async () => {
    admin = await adminApp(sqlite);
  });
  after(() => admin.close());
  beforeEach(async () => {
    await admin.reset();
    own = fields(await admin.call("POST", "/key/generate", { body: { key_alias: "own" } })) as { key: string; token: string };
    other = fields(await admin.call("POST", "/key/generate", { body: { key_alias: "other" } })) as { key: string; token: string };
  });

  test("every admin route is refused to a virtual key with a 403 that names the master key, except /key/info", async () => {
    for (const { method, url } of urls) {
      if (url === "/key/info") continue;
      const answer = await admin.call(method, url, { as: own.key, body: method === "POST" ? {} : undefined });
      assert.equal(answer.status, 403, `${method} ${url}: ${answer.text}`);
      assert.equal(errorOf(answer).code, "admin_only");
      assert.equal(errorOf(answer).type, "permission_error");
      assert.match(errorOf(answer).message, /needs the proxy's master key/);
    }
    assert.equal((await admin.store.keys.list({ page: 1, size: 10 })).total, 2, "nothing was written");
  });

  test("the refusal comes before the body is read: a malformed body still gets the 403", async () => {
    const answer = await admin.app.inject({
      method: "POST",
      url: "/key/generate",
      headers: { authorization: `Bearer ${own.key}`, "content-type": "application/json" },
      payload: "{not json",
    });
    assert.equal(answer.statusCode, 403);
  });

  test("a virtual key reads its own info, with or without naming itself", async () => {
    for (const url of ["/key/info", `/key/info?key=${own.key}`, `/key/info?key=${own.token}`]) {
      const answer = await admin.call("GET", url, { as: own.key });
      assert.equal(answer.status, 200, `${url}: ${answer.text}`);
      assert.equal(fields(answer).key, own.token);
      assert.equal((fields(answer).info as Record<string, unknown>).key_alias, "own");
      assert.equal(answer.text.includes(own.key), false);
    }
  });

  test("its own info is read fresh, not as the key cache held it", async () => {
    await admin.store.keys.update(own.token, { spend: 2 });
    const answer = await admin.call("GET", "/key/info", { as: own.key });
    assert.equal((fields(answer).info as Record<string, unknown>).spend, 2);
  });

  test("another key's info is a 403 whether that key exists or not", async () => {
    for (const reference of [other.key, other.token, "sk-does-not-exist"]) {
      const answer = await admin.call("GET", `/key/info?key=${reference}`, { as: own.key });
      assert.equal(answer.status, 403, answer.text);
      assert.equal(errorOf(answer).code, "admin_only");
      assert.equal(answer.text.includes(other.key), false);
    }
  });

  test("a request the authenticate stage did not recognise is refused everywhere", async () => {
    for (const { method, url } of urls) {
      const answer = await admin.call(method, url, { as: null });
      assert.equal(answer.status, 403, `${method} ${url}`);
    }
  });
});

describe("admin routes without a master key", () => {
  let app: Awaited<ReturnType<typeof storelessApp>>;
  before(async () => {
    app = await storelessApp();
  });
  after(() => app.close());

  test("every admin route answers 404 virtual_keys_disabled, saying to set general_settings.master_key", async () => {
    for (const { method, url } of urls) {
      const answer = await app.call(method, url, { as: null, body: method === "POST" ? {} : undefined });
      assert.equal(answer.status, 404, `${method} ${url}`);
      assert.equal(errorOf(answer).code, "virtual_keys_disabled");
      assert.match(errorOf(answer).message, /virtual keys are off.*general_settings\.master_key/);
    }
  });
});
