import assert from "node:assert/strict";
import { resolve } from "node:path";
import { describe, test } from "node:test";
import { parseConfig } from "../../src/proxy/config/index.js";
import { resolveSettings, SettingsError } from "../../src/proxy/settings.js";

const MINIMAL = "model_list:\n  - model_name: embed\n    litellm_params:\n      model: xinference/bge-base-en\n";
const WITH_KEY = `${MINIMAL}general_settings:\n  master_key: sk-master\n`;

function settings(yaml: string, env: NodeJS.ProcessEnv = {}) {
  return resolveSettings(parseConfig(yaml, "config.yaml", env).config, env);
}

describe("where the store lives", () => {
  test("without a master key there is nothing to manage: no store, whatever DATABASE_URL says", () => {
    assert.equal(settings(MINIMAL).store, undefined);
    assert.equal(settings(MINIMAL, { DATABASE_URL: "mysql://u:pw@h/db" }).store, undefined);
  });

  test("with a master key (from the file or XGATE_MASTER_KEY), SQLite at ./xgate-data/xgate.db by default", () => {
    for (const store of [settings(WITH_KEY).store, settings(MINIMAL, { XGATE_MASTER_KEY: "sk-env" }).store]) {
      assert.deepEqual(store, {
        database: { kind: "sqlite", path: resolve("xgate-data/xgate.db") },
        dataDir: resolve("xgate-data"),
        spendBatchIntervalMs: 10_000,
        spendLogRetention: undefined,
      });
    }
  });

  test("database_path moves the SQLite file and the data directory with it", () => {
    const store = settings(`${WITH_KEY}  database_path: /srv/xgate/db/main.db\n  proxy_batch_write_at: 2\n  maximum_spend_logs_retention_period: 1mo\n`).store;
    assert.deepEqual(store, {
      database: { kind: "sqlite", path: "/srv/xgate/db/main.db" },
      dataDir: "/srv/xgate/db",
      spendBatchIntervalMs: 2000,
      spendLogRetention: { count: 1, unit: "mo", text: "1mo" },
    });
  });

  test("Postgres from database_url, else from DATABASE_URL, with the pool limit; the journals stay in the data directory", () => {
    const fromFile = settings(`${WITH_KEY}  database_url: postgresql://a@db1/x\n  database_connection_pool_limit: 3\n`, { DATABASE_URL: "postgres://b@db2/y" }).store;
    assert.deepEqual(fromFile?.database, { kind: "postgres", url: "postgresql://a@db1/x", poolLimit: 3 });
    assert.equal(fromFile?.dataDir, resolve("xgate-data"));
    const fromEnv = settings(WITH_KEY, { DATABASE_URL: "postgres://b@db2/y" }).store;
    assert.deepEqual(fromEnv?.database, { kind: "postgres", url: "postgres://b@db2/y", poolLimit: 10 });
  });

  test("a DATABASE_URL that is not PostgreSQL is refused, naming the variable and not its password", () => {
    assert.throws(
      () => settings(WITH_KEY, { DATABASE_URL: "mysql://u:pw-123@h/db" }),
      (error: unknown) =>
        error instanceof SettingsError &&
        /^the environment's DATABASE_URL must be a PostgreSQL URL such as postgresql:\/\//.test(error.message) &&
        !error.message.includes("pw-123"),
    );
  });
});

describe("what /model/info shows of the config", () => {
  test("no key and no password of an api_base: the rest of litellm_params as written", () => {
    const yaml =
      "model_list:\n  - model_name: embed\n    litellm_params:\n      model: xinference/bge-base-en\n" +
      "      api_base: https://gateway:s3cret-pass@xinference.internal/v1\n      api_key: xf-upstream-secret\n      rpm: 10\n";
    const [entry] = settings(yaml).modelInfo;
    assert.deepEqual(entry?.litellm_params, { model: "xinference/bge-base-en", api_base: "https://gateway:***@xinference.internal/v1", rpm: 10 });
  });
});
