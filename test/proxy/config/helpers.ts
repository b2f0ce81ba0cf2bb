import assert from "node:assert/strict";
import { ConfigError, parseConfig, type LoadOptions } from "../../../src/proxy/config/index.js";

/** The ConfigError a config text fails with; fails the test when it loads. */
export function failure(text: string, env: NodeJS.ProcessEnv = {}, options: Pick<LoadOptions, "strict"> = {}): ConfigError {
  try {
    parseConfig(text, "config.yaml", env, options);
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected a ConfigError, got ${String(err)}`);
    return err;
  }
  assert.fail("the config loaded, but it should not have");
}
