/**
 * A client that sends part of an image edit's form and hangs up before the route starts reading it (while
 * the request's hooks run): the request still ends, with its log line, and leaves no upload folder behind.
 * Left alone, the form's reader would wait forever for a request that had already closed.
 */
import assert from "node:assert/strict";
import { once } from "node:events";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { type TestApp, testApp } from "../../support/app.js";
import { head, portOf } from "./raw-http.js";

let app: TestApp;
let spoolDir: string;
const systemTmp = process.env.TMPDIR;

before(async () => {
  // Uploads are spooled under the system's temp dir, read when each form is: a folder of this test's own.
  spoolDir = await mkdtemp(join(tmpdir(), "xgate-abandoned-"));
  process.env.TMPDIR = spoolDir;
  app = await testApp(`
model_list:
  - model_name: sd
    litellm_params: { model: xinference/sd-turbo, api_base: "http://127.0.0.1:9" }
`);
  // The connection goes as the route starts: its close is emitted while the form's reader is setting up.
  app.app.addHook("preHandler", async (request) => {
    if (request.url === "/v1/images/edits") request.raw.destroy();
  });
  await app.app.listen({ port: 0, host: "127.0.0.1" });
});
after(async () => {
  process.env.TMPDIR = systemTmp;
  await app?.dispose();
  await rm(spoolDir, { recursive: true, force: true });
});

test("a form abandoned before it is read ends the request and leaves no upload folder", { timeout: 10_000 }, async () => {
  const boundary = "abandoned";
  const part = `--${boundary}\r\nContent-Disposition: form-data; name="image"; filename="a.png"\r\nContent-Type: image/png\r\n\r\n`;
  const socket = connect(portOf(app.app), "127.0.0.1");
  await once(socket, "connect");
  socket.write(
    head("POST /v1/images/edits HTTP/1.1", { "Content-Type": `multipart/form-data; boundary=${boundary}`, "Content-Length": 10_000 }) + part,
  );
  socket.resume();
  await once(socket, "close");

  // The request's log line is written once its handler has finished; a reader left waiting never writes it.
  const edits = (): Record<string, unknown>[] => app.logLines().filter((line) => line.route === "/v1/images/edits");
  while (edits().length === 0) await new Promise((resolve) => setImmediate(resolve));
  assert.equal(edits()[0]?.status, 499);
  assert.equal(edits()[0]?.error_code, "client_closed_request");
  assert.deepEqual((await readdir(spoolDir)).filter((name) => name.startsWith("xgate-upload-")), [], "no upload folder is left");
});
