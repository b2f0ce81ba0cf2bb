// `npm run emulator -- --port 9997 [--host 127.0.0.1] [--api-key KEY]... [--compute-delay-ms N] [--log]`
// Starts an emulated Xinference with DEFAULT_MODELS, for trying xgate without a GPU.
import { parseArgs } from "node:util";
import { DEFAULT_MODELS, startEmulator } from "./index.js";

const USAGE = `Usage: npm run emulator -- [--port 9997] [--host 127.0.0.1] [--api-key KEY]... [--admin-token TOKEN]...
                            [--compute-delay-ms N] [--token-delay-ms N] [--flavor xinference|openai]
                            [--legacy-not-found-400] [--log]`;

function numberOption(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 0) {
    console.error(`--${name} must be a non-negative integer, got "${value}"\n${USAGE}`);
    process.exit(2);
  }
  return parsed;
}

async function main(): Promise<void> {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        port: { type: "string" },
        host: { type: "string" },
        "api-key": { type: "string", multiple: true },
        "admin-token": { type: "string", multiple: true },
        "compute-delay-ms": { type: "string" },
        "token-delay-ms": { type: "string" },
        flavor: { type: "string" },
        "legacy-not-found-400": { type: "boolean" },
        log: { type: "boolean" },
        help: { type: "boolean", short: "h" },
      },
    }));
  } catch (error) {
    console.error(`${error instanceof Error ? error.message : String(error)}\n${USAGE}`);
    process.exit(2);
  }
  if (values.help === true) {
    console.log(USAGE);
    return;
  }

  const flavor = values.flavor ?? "xinference";
  if (flavor !== "xinference" && flavor !== "openai") {
    console.error(`--flavor must be xinference or openai, got "${flavor}"\n${USAGE}`);
    process.exit(2);
  }
  const emulator = await startEmulator({
    host: values.host ?? "127.0.0.1",
    port: numberOption("port", values.port, 9997),
    apiKeys: values["api-key"] ?? [],
    adminTokens: values["admin-token"] ?? [],
    computeDelayMs: numberOption("compute-delay-ms", values["compute-delay-ms"], 0),
    tokenDelayMs: numberOption("token-delay-ms", values["token-delay-ms"], 0),
    flavor,
    legacyNotFound400: values["legacy-not-found-400"] === true,
    // A long-running process must not keep every request body it has seen.
    recordRequests: false,
    onRequest:
      values.log === true
        ? (r) => console.log(`${new Date(r.at).toISOString()} ${r.method} ${r.path} ${r.status || "dropped"}`)
        : undefined,
  });
  console.log(`Xinference emulator listening on ${emulator.url} (OpenAI-style API at ${emulator.baseUrl})`);
  console.log(`Models: ${DEFAULT_MODELS.map((m) => m.model_uid ?? m.model_name).join(", ")}`);
  if ((values["api-key"] ?? []).length > 0) console.log("Auth is on: send Authorization: Bearer <key>.");

  const shutdown = (): void => {
    void emulator.close().then(() => process.exit(0));
  };
  process.once("SIGINT", shutdown);
  process.once("SIGTERM", shutdown);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : String(error));
  process.exit(1);
});
