// The floor: a bare node:http + undici pass-through to the emulator, with nothing a gateway adds (no auth, no
// routing, no checks, no log). What any Node gateway pays for one hop before doing its own work: the S1/S2
// targets are judged against direct, and this shows how much of the gap the platform itself takes.
//
// Usage: node --import tsx bench/lib/floor-server.ts --port P --upstream http://127.0.0.1:E/v1
import { createServer } from "node:http";
import { parseArgs } from "node:util";
import { Agent, request } from "undici";

const { values } = parseArgs({ options: { port: { type: "string" }, upstream: { type: "string" } } });
if (values.port === undefined || values.upstream === undefined) {
  console.error("usage: floor-server.ts --port P --upstream http://127.0.0.1:E/v1");
  process.exit(2);
}
const upstream = new URL(values.upstream);
const agent = new Agent({ headersTimeout: 0, bodyTimeout: 0 });

const server = createServer((req, res) => {
  const parts: Buffer[] = [];
  req.on("data", (chunk: Buffer) => parts.push(chunk));
  req.on("end", () => {
    // The gateway's /v1/... maps onto the upstream's /v1/...: only the origin changes.
    const url = new URL(req.url ?? "/", upstream.origin);
    const headers: Record<string, string> = {};
    if (req.headers["content-type"] !== undefined) headers["content-type"] = req.headers["content-type"];
    request(url, { method: req.method as "GET" | "POST", headers, body: parts.length > 0 ? Buffer.concat(parts) : undefined, dispatcher: agent })
      .then(async (answer) => {
        const body = Buffer.from(await answer.body.arrayBuffer());
        res.writeHead(answer.statusCode, {
          "content-type": String(answer.headers["content-type"] ?? "application/json"),
          "content-length": body.length,
        });
        res.end(body);
      })
      .catch((error: unknown) => {
        res.writeHead(502, { "content-type": "text/plain" });
        res.end(error instanceof Error ? error.message : String(error));
      });
  });
});
server.listen(Number(values.port), "127.0.0.1");
for (const signal of ["SIGTERM", "SIGINT"] as const) process.on(signal, () => server.close(() => process.exit(0)));
