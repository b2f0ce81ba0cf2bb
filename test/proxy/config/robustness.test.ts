import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { ConfigError, parseConfig } from "../../../src/proxy/config/index.js";

const FULL = fileURLToPath(new URL("fixtures/full.yaml", import.meta.url));
const ENV = { TEST_CLUSTER_KEY: "c", TEST_RPM: "1", TEST_REDIS_PASSWORD: "p", TEST_MASTER_KEY: "sk-1" };

/** Loads, or fails with a ConfigError; anything else is a crash. */
function loadsOrExplains(text: string): void {
  try {
    parseConfig(text, "config.yaml", ENV);
  } catch (err) {
    if (!(err instanceof ConfigError)) assert.fail(`crashed with ${String(err)} on:\n${text}`);
  }
}

describe("no config can crash the loader", () => {
  test("every line of a full config deleted, shifted, cut short or given a value of another type", async () => {
    const lines = (await readFile(FULL, "utf8")).split("\n");
    const replaceLine = (i: number, f: (line: string) => string): string => lines.map((l, j) => (j === i ? f(l) : l)).join("\n");
    for (let i = 0; i < lines.length; i++) {
      loadsOrExplains(lines.filter((_, j) => j !== i).join("\n"));
      loadsOrExplains(replaceLine(i, (l) => ` ${l}`));
      loadsOrExplains(replaceLine(i, (l) => l.slice(1)));
      for (const value of ["[", "null", "{a: 1}", "[1, 2]", "-3", "os.environ/UNSET_VAR"]) {
        loadsOrExplains(replaceLine(i, (l) => l.replace(/: .*/, `: ${value}`)));
      }
      loadsOrExplains(lines.slice(0, i).join("\n"));
    }
  });

  test("an alias bomb is refused with a ConfigError", () => {
    const text =
      "a: &a [1,1,1,1,1,1,1,1,1]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\n" +
      "d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: [*d,*d,*d,*d,*d,*d,*d,*d,*d]\n";
    assert.throws(() => parseConfig(text, "config.yaml", {}), /config\.yaml: the config cannot be read: Excessive alias count/);
  });

  test("a list used as a key is refused at its line", () => {
    assert.throws(() => parseConfig("model_list: []\n? [a, b]\n: c\n", "config.yaml", {}), /^ConfigError: config\.yaml:2:3: a key must be plain text/);
  });

  test("keys named like Object.prototype members are just unknown keys", () => {
    const text =
      "model_list:\n  - model_name: a\n    litellm_params:\n      model: xinference/a\n" +
      "general_settings:\n  __proto__: {master_key: sk-x}\n  constructor: 1\n";
    const { config, warnings } = parseConfig(text, "config.yaml", {});
    assert.equal(config.general_settings.master_key, undefined);
    assert.deepEqual(warnings, [
      "unknown key general_settings.__proto__ (line 6) is ignored",
      "unknown key general_settings.constructor (line 7) is ignored",
    ]);
  });

  test("several YAML documents in one file are a syntax error", () => {
    assert.throws(() => parseConfig("a: 1\n---\nb: 2\n", "config.yaml", {}), /config\.yaml:2:1: YAML syntax error: Source contains multiple documents/);
  });
});
