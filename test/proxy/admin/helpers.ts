/**
 * An app with the admin routes alone, as the tests drive them: the proxy's error handler, a store on a temp
 * SQLite file or on the machine's Postgres (a schema of its own), a fake clock shared by the store and the
 * routes, and a stand-in for the authenticate stage that tells the master key from virtual keys.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Fastify, { type FastifyInstance } from "fastify";
import pino from "pino";
import type { Principal } from "../../../src/proxy/auth/principal.js";
import { installErrorHandlers } from "../../../src/proxy/http/errors.js";
import type { KeyChangeNotifier } from "../../../src/proxy/keys/events.js";
import { hashKey } from "../../../src/proxy/keys/tokens.js";
import { adminRoutes } from "../../../src/proxy/routes/admin/index.js";
import { connect } from "../../../src/proxy/store/database.js";
import { type DatabaseTarget, openStore, type Store } from "../../../src/proxy/store/index.js";
import { freshSchema, postgresReachable } from "../../support/postgres.js";
import { FakeClock } from "../router/helpers.js";

export const MASTER_KEY = "sk-master-test";
export const START = Date.parse("2025-03-10T12:00:00.000Z");
export const HOUR = 3_600_000;
export const DAY = 24 * HOUR;

export interface Backend {
  name: string;
  fresh(): Promise<{ target: DatabaseTarget; dispose(): Promise<void> }>;
}

export const sqlite: Backend = {
  name: "SQLite",
  async fresh() {
    const dir = await mkdtemp(join(tmpdir(), "xgate-admin-"));
    return { target: { kind: "sqlite", path: join(dir, "xgate.db") }, dispose: () => rm(dir, { recursive: true, force: true }) };
  },
};

export const postgres: Backend = {
  name: "Postgres",
  async fresh() {
    const schema = await freshSchema();
    return { target: { kind: "postgres", url: schema.url, poolLimit: 4 }, dispose: () => schema.drop() };
  },
};

/** SQLite always; Postgres too where it answers (on CI it must). */
export async function backends(testFile: string): Promise<Backend[]> {
  return [sqlite, ...((await postgresReachable(testFile)) ? [postgres] : [])];
}

/** What the routes told the notifier, in order. */
export interface Notices {
  keys: string[][];
  teams: string[];
}

export interface Answer {
  status: number;
  headers: Record<string, string | string[] | number | undefined>;
  body: unknown;
  /** The body as text, to check that something never appears in it. */
  text: string;
}

export interface CallOptions {
  body?: unknown;
  /** The caller's key: the master key by default; null for none. */
  as?: string | null;
}

export interface AdminApp {
  app: FastifyInstance;
  store: Store;
  clock: FakeClock;
  notices: Notices;
  call(method: "GET" | "POST", url: string, options?: CallOptions): Promise<Answer>;
  /** Empties the tables and the notices, and puts the clock back at START. */
  reset(): Promise<void>;
  close(): Promise<void>;
}

/** The authenticate stage's verdict, as the real one reaches it: the master key, a stored key, or nobody. */
async function principalFor(store: Store | undefined, authorization: string | undefined, now: number): Promise<Principal> {
  const presented = authorization?.replace(/^Bearer\s+/i, "");
  if (presented === undefined) return { kind: "open" };
  if (presented === MASTER_KEY) return { kind: "master" };
  const record = store && (await store.keys.findByToken(hashKey(presented)));
  if (!record) return { kind: "open" };
  const team = record.team_id === null ? undefined : await store.teams.get(record.team_id);
  return { kind: "virtual", key: { record, team, readAt: now } };
}

function buildApp(store: Store | undefined, clock: FakeClock, notices: Notices): FastifyInstance {
  const app = Fastify({ logger: false });
  app.decorateRequest("trace", null);
  app.decorateRequest("principal", null);
  app.addHook("onRequest", async (request) => {
    request.principal = await principalFor(store, request.headers.authorization, clock.now());
  });
  installErrorHandlers(app, pino({ level: "silent" }), { bodyLimitBytes: 1024 * 1024 });
  const notifier: KeyChangeNotifier = {
    keysChanged: (tokens) => notices.keys.push([...tokens]),
    teamChanged: (teamId) => notices.teams.push(teamId),
  };
  adminRoutes(app, { store, notifier, clock, masterKey: MASTER_KEY });
  return app;
}

function caller(app: FastifyInstance) {
  return async (method: "GET" | "POST", url: string, options: CallOptions = {}): Promise<Answer> => {
    const as = options.as === undefined ? MASTER_KEY : options.as;
    const response = await app.inject({
      method,
      url,
      headers: as === null ? {} : { authorization: `Bearer ${as}` },
      ...(options.body !== undefined && { payload: options.body as object }),
    });
    const text = response.body;
    return { status: response.statusCode, headers: response.headers, body: text === "" ? undefined : JSON.parse(text), text };
  };
}

export async function adminApp(backend: Backend): Promise<AdminApp> {
  const clock = new FakeClock(START);
  const fresh = await backend.fresh();
  const store = await openStore(fresh.target, { clock });
  const raw = connect(fresh.target);
  const notices: Notices = { keys: [], teams: [] };
  const app = buildApp(store, clock, notices);
  await app.ready();
  return {
    app,
    store,
    clock,
    notices,
    call: caller(app),
    async reset() {
      await raw.db.deleteFrom("xgate_spend_logs").execute();
      await raw.db.deleteFrom("xgate_keys").execute();
      await raw.db.deleteFrom("xgate_teams").execute();
      notices.keys.length = 0;
      notices.teams.length = 0;
      clock.advance(START - clock.now());
    },
    async close() {
      await app.close();
      await store.close();
      await raw.close();
      await fresh.dispose();
    },
  };
}

/** An app whose proxy has no master key, so no store. */
export async function storelessApp(): Promise<{ call: AdminApp["call"]; close(): Promise<void> }> {
  const app = buildApp(undefined, new FakeClock(START), { keys: [], teams: [] });
  await app.ready();
  return { call: caller(app), close: () => app.close() };
}

/** The body as a record, for tests reading its fields. */
export function fields(answer: Answer): Record<string, unknown> {
  return answer.body as Record<string, unknown>;
}

/** `{error: {message, type, param, code}}`'s inside. */
export function errorOf(answer: Answer): { message: string; type: string; param: string | null; code: string } {
  return (answer.body as { error: { message: string; type: string; param: string | null; code: string } }).error;
}
