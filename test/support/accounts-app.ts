/**
 * The proxy with virtual keys, built in-process as server.ts builds it — a store on a temp SQLite file, the
 * spend recorder journaling into the same folder, budgets told of each batch the database took — with one
 * fake clock for all of them (key expiries, budget periods, rate-limit windows), and listening on port 0 so
 * that real clients (the `openai` package, fetch) call it over HTTP.
 *
 * @example
 * const proxy = await accountsApp(yaml); // yaml with general_settings.master_key: ACCOUNTS_MASTER_KEY
 * const { key } = await proxy.admin("/key/generate", { max_budget: 1 });
 * const openai = new OpenAI({ apiKey: key, baseURL: proxy.baseUrl });
 */
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { MemoryBudgets } from "../../src/proxy/budgets/index.js";
import { SpendRecorder } from "../../src/proxy/spend/recorder.js";
import { openStore, type Store } from "../../src/proxy/store/index.js";
import { FakeClock } from "../proxy/router/helpers.js";
import { type TestApp, testApp } from "./app.js";

export { FakeClock };

export const ACCOUNTS_MASTER_KEY = "sk-accounts-master-0123456789";
export const ACCOUNTS_START = Date.parse("2025-03-10T12:00:00.000Z");

export interface AdminAnswer {
  status: number;
  headers: Headers;
  body: Record<string, unknown> & { error?: { message: string; type: string; param: string | null; code: string } };
}

export interface AccountsApp {
  app: TestApp;
  store: Store;
  recorder: SpendRecorder;
  clock: FakeClock;
  /** `http://127.0.0.1:PORT`. */
  url: string;
  /** `url` + "/v1", what OpenAI clients take as their base URL. */
  baseUrl: string;
  /** An admin call with the master key; answers whatever the proxy said (a test asserts the status). */
  call(method: "GET" | "POST", path: string, body?: unknown): Promise<AdminAnswer>;
  /** A POST that must answer 200: its body. */
  admin(path: string, body: unknown): Promise<Record<string, unknown> & { key: string; token: string }>;
  /** What the spend journal holds now (rows not yet sent to the database). */
  journal(): Promise<string>;
  /**
   * Sends the journal's rows to the database now, as the batch writer does every proxy_batch_write_at —
   * a millisecond later on the clock: a batch reaches the database after the rows it holds were read (time
   * moves between a read and a commit; the budgets rely on it, see budgets/memory.ts).
   */
  flush(): Promise<void>;
  /** Errors the recorder and the store reported. */
  errors: Error[];
  close(): Promise<void>;
}

/** `consoleDir`: a built web console to serve at /ui (test/support/browser.ts builds one). */
export async function accountsApp(configYaml: string, options: { clock?: FakeClock; consoleDir?: string } = {}): Promise<AccountsApp> {
  const clock = options.clock ?? new FakeClock(ACCOUNTS_START);
  const dir = await mkdtemp(join(tmpdir(), "xgate-accounts-"));
  const errors: Error[] = [];
  const onError = (error: Error): void => void errors.push(error);
  const store = await openStore({ kind: "sqlite", path: join(dir, "xgate.db") }, { clock, onError });
  const budgets = new MemoryBudgets({ clock });
  const recorder = await SpendRecorder.open({
    store,
    dir,
    instance: "0",
    // Tests flush when they want the rows; the interval is never reached unless the clock is moved past it.
    flushIntervalMs: 60 * 60_000,
    retention: undefined,
    clock,
    onCommitted: (charges) => budgets.committed(charges),
    onError,
  });
  const app = await testApp(configYaml, { store, recorder, budgets, clock, ...(options.consoleDir !== undefined && { consoleDir: options.consoleDir }) });
  if (app.settings.masterKey === undefined) throw new Error("accountsApp needs a config with general_settings.master_key");
  await app.ready();
  await app.app.listen({ host: "127.0.0.1", port: 0 });
  const address = app.app.server.address();
  const port = typeof address === "object" && address !== null ? address.port : 0;
  const url = `http://127.0.0.1:${port}`;

  const call = async (method: "GET" | "POST", path: string, body?: unknown): Promise<AdminAnswer> => {
    const res = await fetch(`${url}${path}`, {
      method,
      headers: { authorization: `Bearer ${app.settings.masterKey}`, ...(body !== undefined && { "content-type": "application/json" }) },
      ...(body !== undefined && { body: JSON.stringify(body) }),
    });
    return { status: res.status, headers: res.headers, body: (await res.json()) as AdminAnswer["body"] };
  };

  return {
    app,
    store,
    recorder,
    clock,
    url,
    baseUrl: `${url}/v1`,
    call,
    async admin(path, body) {
      const answer = await call("POST", path, body);
      if (answer.status !== 200) throw new Error(`POST ${path} answered ${answer.status}: ${JSON.stringify(answer.body)}`);
      return answer.body as Record<string, unknown> & { key: string; token: string };
    },
    journal: () => readFile(join(dir, "spend-0.jsonl"), "utf8").catch(() => ""),
    flush() {
      clock.advance(1);
      return recorder.flush();
    },
    errors,
    async close() {
      await app.dispose();
      await recorder.close();
      await store.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
