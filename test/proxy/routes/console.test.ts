// Serving the web console at /ui: its files with cache headers and a strict CSP, index.html for the app's
// own paths, a clear answer when it is not built — and the API's paths and auth untouched by it.
import assert from "node:assert/strict";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { CONSOLE_CSP, defaultConsoleDir } from "../../../src/proxy/routes/console.js";
import { type TestApp, testApp } from "../../support/app.js";

const MASTER_KEY = "sk-console-master-0123456789";
const CONFIG = `
model_list:
  - model_name: embed
    litellm_params: { model: xinference/bge-base-en, api_base: http://127.0.0.1:9 }
general_settings:
  master_key: ${MASTER_KEY}
`;
const INDEX = '<!doctype html><script type="module" src="/ui/assets/index-Ab12.js"></script>';

let dir: string;
let app: TestApp;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "xgate-console-test-"));
  await mkdir(join(dir, "assets"));
  await writeFile(join(dir, "index.html"), INDEX);
  await writeFile(join(dir, "assets", "index-Ab12.js"), "console.log('console')");
  await writeFile(join(dir, "robots.txt"), "User-agent: *\nDisallow: /\n");
  app = await testApp(CONFIG, { consoleDir: dir });
});

after(async () => {
  await app?.dispose();
  await rm(dir, { recursive: true, force: true });
});

function get(url: string, headers: Record<string, string> = {}) {
  return app.app.inject({ method: "GET", url, headers });
}

describe("the console at /ui", () => {
  test("/ui and /ui/ answer index.html, revalidated every time, without a key", async () => {
    for (const url of ["/ui", "/ui/"]) {
      const answer = await get(url);
      assert.equal(answer.statusCode, 200, url);
      assert.equal(answer.body, INDEX);
      assert.match(String(answer.headers["content-type"]), /^text\/html/);
      assert.equal(answer.headers["cache-control"], "no-cache");
    }
  });

  test("the app's own paths get index.html too, so that a reload or a shared link works", async () => {
    for (const url of ["/ui/keys", "/ui/spend/", "/ui/models?group=embed"]) {
      const answer = await get(url);
      assert.equal(answer.statusCode, 200, url);
      assert.equal(answer.body, INDEX);
      assert.equal(answer.headers["cache-control"], "no-cache");
    }
  });

  test("hashed assets are cached for a year as immutable; other files are revalidated", async () => {
    const asset = await get("/ui/assets/index-Ab12.js");
    assert.equal(asset.statusCode, 200);
    assert.equal(asset.body, "console.log('console')");
    assert.match(String(asset.headers["content-type"]), /javascript/);
    assert.equal(asset.headers["cache-control"], "public, max-age=31536000, immutable");
    const robots = await get("/ui/robots.txt");
    assert.equal(robots.statusCode, 200);
    assert.equal(robots.headers["cache-control"], "no-cache");
  });

  test("every console answer has the strict CSP, nosniff and no referrer", async () => {
    for (const url of ["/ui/", "/ui/keys", "/ui/assets/index-Ab12.js", "/ui/assets/gone-1234.js"]) {
      const answer = await get(url);
      assert.equal(answer.headers["content-security-policy"], CONSOLE_CSP, url);
      assert.equal(answer.headers["x-content-type-options"], "nosniff", url);
      assert.equal(answer.headers["referrer-policy"], "no-referrer", url);
    }
    assert.match(CONSOLE_CSP, /script-src 'self';/);
    assert.doesNotMatch(CONSOLE_CSP, /unsafe-inline|unsafe-eval/);
  });

  test("a missing asset is a 404 in the error shape, never the page (a browser must not run HTML as a script)", async () => {
    const answer = await get("/ui/assets/gone-1234.js");
    assert.equal(answer.statusCode, 404);
    const body = answer.json<{ error: { message: string; code: string } }>();
    assert.equal(body.error.code, "not_found");
    assert.match(body.error.message, /reload the page/);
  });

  test("paths that climb out of the console's folder are not served its files' neighbours", async () => {
    for (const url of ["/ui/../package.json", "/ui/%2e%2e/%2e%2e/package.json", "/ui/assets/..%2f..%2fpackage.json"]) {
      const answer = await get(url);
      assert.equal(answer.body.includes('"name"'), false, url);
    }
  });

  test("/ redirects to the console", async () => {
    const answer = await get("/");
    assert.equal(answer.statusCode, 302);
    assert.equal(answer.headers.location, "/ui/");
  });

  test("the API is untouched: its routes still need a key, and an unknown API path is still the API's 404", async () => {
    const models = await get("/v1/models");
    assert.equal(models.statusCode, 401);
    assert.equal(models.headers["content-security-policy"], undefined);
    const unknown = await get("/v1/nothing-here");
    assert.equal(unknown.statusCode, 404);
    assert.equal(unknown.body.includes("<!doctype html>"), false);
    const admin = await get("/key/list");
    assert.equal(admin.statusCode, 401);
  });
});

describe("the console when it is not built", () => {
  let empty: string;
  let bare: TestApp;
  before(async () => {
    empty = await mkdtemp(join(tmpdir(), "xgate-console-empty-"));
    bare = await testApp(CONFIG, { consoleDir: empty });
  });
  after(async () => {
    await bare?.dispose();
    await rm(empty, { recursive: true, force: true });
  });

  test("/ui and its paths answer a 503 that names the fix", async () => {
    for (const url of ["/ui", "/ui/", "/ui/keys", "/ui/assets/index-Ab12.js"]) {
      const answer = await bare.app.inject({ method: "GET", url });
      assert.equal(answer.statusCode, 503, url);
      const body = answer.json<{ error: { message: string; code: string } }>();
      assert.equal(body.error.code, "console_not_built");
      assert.match(body.error.message, /npm run build/);
    }
  });
});

test("by default the console is dist/ui at the package's root", () => {
  assert.match(defaultConsoleDir(), /[\\/]dist[\\/]ui$/);
  assert.equal(defaultConsoleDir().includes(`${join("src", "proxy")}`), false);
});
