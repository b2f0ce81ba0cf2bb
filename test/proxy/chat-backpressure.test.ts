// A client that stops reading a stream makes xgate stop reading the upstream: what the upstream manages to send
// stays bounded (socket buffers), however much it has to say, and resumes when the client reads again.
import assert from "node:assert/strict";
import { createServer, type Server, type ServerResponse } from "node:http";
import { connect, type AddressInfo, type Socket } from "node:net";
import { after, before, test } from "node:test";
import { type TestApp, testApp } from "../support/app.js";

/** An OpenAI-style server that streams an endless answer as fast as its client takes it (it waits on `drain`), 1 kB an event. */
class EndlessUpstream {
  readonly server: Server;
  bytesSent = 0;
  /** Set while a write waits for the reader; the promise resolves when one starts waiting. */
  blocked = false;
  closed = false;
  private onBlocked: (() => void) | undefined;

  constructor() {
    this.server = createServer((req, res) => {
      req.resume();
      req.on("end", () => void this.stream(res));
    });
  }

  whenBlocked(): Promise<void> {
    return this.blocked ? Promise.resolve() : new Promise((resolve) => (this.onBlocked = resolve));
  }

  private async stream(res: ServerResponse): Promise<void> {
    res.writeHead(200, { "content-type": "text/event-stream" });
    res.on("close", () => (this.closed = true));
    const text = "x".repeat(1000);
    for (let i = 0; !res.destroyed; i++) {
      const event = `data: ${JSON.stringify({ id: "c", object: "chat.completion.chunk", created: 0, model: "m", choices: [{ index: 0, delta: { content: text }, finish_reason: null }] })}\n\n`;
      this.bytesSent += event.length;
      // A turn of the event loop per event: a reader that keeps up never leaves the upstream waiting for long.
      if (res.write(event)) {
        await new Promise((resolve) => setImmediate(resolve));
        continue;
      }
      this.blocked = true;
      this.onBlocked?.();
      await new Promise<void>((resolve) => {
        res.once("drain", resolve);
        res.once("close", resolve);
      });
      this.blocked = false;
    }
  }
}

let upstream: EndlessUpstream;
let app: TestApp;
let port: number;

before(async () => {
  upstream = new EndlessUpstream();
  await new Promise<void>((resolve) => upstream.server.listen(0, "127.0.0.1", resolve));
  const base = `http://127.0.0.1:${(upstream.server.address() as AddressInfo).port}/v1`;
  app = await testApp(`
model_list:
  - model_name: chat
    litellm_params: { model: xinference/m, api_base: ${base} }
`);
  await app.app.listen({ port: 0, host: "127.0.0.1" });
  port = (app.app.server.address() as AddressInfo).port;
});
after(async () => {
  await app.dispose();
  upstream.server.closeAllConnections();
  await new Promise<void>((resolve) => upstream.server.close(() => resolve()));
});

/** A request through the proxy's event loop: if xgate were still reading upstream, the upstream would drain meanwhile. */
async function roundTrip(): Promise<void> {
  await (await fetch(`http://127.0.0.1:${port}/health/liveliness`)).text();
}

test("a client that does not read holds the upstream back; reading again lets it go on", { timeout: 60_000 }, async () => {
  const body = JSON.stringify({ model: "chat", messages: [{ role: "user", content: "go on forever" }], stream: true });
  const client: Socket = connect(port, "127.0.0.1");
  await new Promise<void>((resolve) => client.once("connect", resolve));
  client.pause();
  client.write(`POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`);

  // Settled: the upstream is waiting on a drain that two round trips through xgate did not bring.
  for (;;) {
    await upstream.whenBlocked();
    const sent = upstream.bytesSent;
    await roundTrip();
    await roundTrip();
    if (upstream.blocked && upstream.bytesSent === sent) break;
  }
  const held = upstream.bytesSent;
  // An xgate that kept reading would never get here: the upstream would never stay waiting. The rest is socket buffers.
  assert.ok(held < 32 * 1024 * 1024, `the upstream got only as far as the buffers on the way let it (${held} bytes)`);

  let received = 0;
  client.on("data", (chunk: Buffer) => (received += chunk.length));
  client.resume();
  while (upstream.bytesSent < held + 1024 * 1024) await roundTrip();
  assert.ok(received > 0);
  client.destroy();
  while (!upstream.closed) await roundTrip();
});
