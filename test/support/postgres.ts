/** The machine's Postgres, for the store's tests: a schema of their own per run, dropped at the end. */
import { randomBytes } from "node:crypto";
import pg from "pg";

/** Trust auth on the machine (see .ci/run); XGATE_TEST_POSTGRES_URL points the tests elsewhere. */
export const POSTGRES_URL = process.env.XGATE_TEST_POSTGRES_URL ?? "postgres://postgres@127.0.0.1:5432/test";

/**
 * Whether Postgres answers. On CI a missing Postgres is a failure, never a silent skip: CI must start it
 * (see .ci/run), so this throws there; elsewhere the caller skips, with the warning printed here.
 */
export async function postgresReachable(testFile: string, url = POSTGRES_URL): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
  client.on("error", () => undefined);
  let reachable: boolean;
  try {
    await client.connect();
    reachable = (await client.query("select 1 as one")).rows[0]?.one === 1;
  } catch {
    reachable = false;
  } finally {
    await client.end().catch(() => undefined);
  }
  const where = new URL(url).host;
  if (!reachable && process.env.CI) {
    throw new Error(`PostgreSQL is not reachable at ${where}; CI must start it (see .ci/run), so ${testFile} may not be skipped there.`);
  }
  if (!reachable) console.warn(`${testFile}: PostgreSQL is not reachable at ${where}; skipping its Postgres tests (they run on CI).`);
  return reachable;
}

export interface TestSchema {
  /** A URL whose connections use only this schema. */
  url: string;
  name: string;
  drop(): Promise<void>;
}

/** A new, empty schema; every connection through `url` sees it alone (search_path). */
export async function freshSchema(url = POSTGRES_URL): Promise<TestSchema> {
  const name = `xgate_test_${process.pid}_${randomBytes(4).toString("hex")}`;
  const admin = async (statement: string): Promise<void> => {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      await client.query(statement);
    } finally {
      await client.end();
    }
  };
  await admin(`create schema "${name}"`);
  const scoped = new URL(url);
  scoped.searchParams.set("options", `-c search_path=${name}`);
  return { url: scoped.toString(), name, drop: () => admin(`drop schema "${name}" cascade`) };
}
