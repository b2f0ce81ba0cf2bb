import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { ConfigError, loadConfig, parseConfig } from "../../../src/proxy/config/index.js";

const fixture = (name: string): string => fileURLToPath(new URL(`fixtures/${name}`, import.meta.url));

function syntaxError(text: string): ConfigError {
  try {
    parseConfig(text, "config.yaml", {});
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected a ConfigError, got ${String(err)}`);
    return err;
  }
  assert.fail("the config loaded, but it should not have");
}

const item = (name: string, indent = "  "): string =>
  `${indent}- model_name: ${name}\n${indent}  litellm_params:\n${indent}    model: xinference/${name}\n`;

describe("YAML syntax errors", () => {
  test("the Xinference docs' image config names file, line and column, shows the line, and says where model_info belongs", async () => {
    const path = fixture("xinference-docs-image.yaml");
    const err = await loadConfig(path, { env: {} }).then(
      () => assert.fail("should not load"),
      (e: unknown) => e as ConfigError,
    );
    assert.ok(err instanceof ConfigError);
    assert.equal(err.file, path);
    assert.equal(err.line, 6);
    assert.equal(err.column, 3);
    assert.match(err.message, new RegExp(`^${path.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")}:6:3: YAML syntax error`));
    assert.match(err.message, /> 6 \| {3}model_info:\n\s+\| {3}\^/);
    assert.match(
      err.message,
      /Hint: `model_info` belongs inside the list item that starts on line 2 \(`- model_name: stable-diffusion`\): indent it by 4 spaces, to line up with `litellm_params` on line 3/,
    );
    // The fix is shown: model_info at the column of litellm_params, its keys below it.
    assert.match(err.message, /\n {8}litellm_params:\n {10}\.\.\.\n {8}model_info:\n {10}mode: image_generation/);
  });

  test("model_info one column in, after several items, gets the same hint", () => {
    const err = syntaxError(`model_list:\n${item("a")}${item("b")} model_info:\n   mode: embedding\n`);
    assert.equal(err.line, 8);
    assert.equal(err.column, 2);
    assert.match(err.message, /`model_info` belongs inside the list item that starts on line 5 \(`- model_name: b`\)/);
    assert.match(err.message, /to line up with `litellm_params` on line 6/);
  });

  test("model_info at the list marker's column followed by more items: the hint points at model_info, not the cascade", () => {
    const err = syntaxError(`model_list:\n${item("a")}  model_info:\n    mode: embedding\n${item("b")}`);
    assert.equal(err.line, 5);
    assert.match(err.message, /`model_info` belongs inside the list item/);
    assert.match(err.message, /Also found:\n {2}- line 7, column 3: YAML syntax error: A block sequence may not be used as an implicit map key/);
  });

  test("a list at column 1 with model_info beside it: yaml fails later, and the hint still names model_info's line", () => {
    const err = syntaxError(`model_list:\n${item("a", "")}model_info:\n  mode: y\n${item("b", "")}`);
    assert.match(err.message, /A block sequence may not be used as an implicit map key/);
    assert.equal(err.line, 7);
    assert.match(err.message, /Hint: the mistake is on line 5: `model_info` belongs inside the list item that starts on line 2/);
    assert.match(err.message, /indent it by 2 spaces, to line up with `litellm_params` on line 3/);
  });

  test("model_info one space short of litellm_params", () => {
    const err = syntaxError(`model_list:\n${item("a")}   model_info:\n     mode: embedding\n`);
    assert.equal(err.line, 5);
    assert.equal(err.column, 4);
    assert.match(err.message, /Sequence item without - indicator/);
    assert.match(err.message, /`model_info` belongs inside the list item that starts on line 2/);
  });

  test("model_info one space too deep", () => {
    const err = syntaxError(`model_list:\n${item("a")}     model_info:\n       mode: embedding\n`);
    assert.equal(err.line, 5);
    assert.match(err.message, /indent it by 4 spaces, to line up with `litellm_params` on line 3/);
  });

  test("litellm_params at the list marker's column lines up with model_name", () => {
    const err = syntaxError("model_list:\n  - model_name: a\n  litellm_params:\n    model: xinference/a\n");
    assert.equal(err.line, 3);
    assert.match(err.message, /`litellm_params` belongs inside the list item that starts on line 2 \(`- model_name: a`\): indent it by 4 spaces, to line up with `model_name` on line 2/);
  });

  test("an indented top-level section is told to start at column 1", () => {
    const err = syntaxError(`model_list:\n${item("a")}  general_settings:\n    master_key: sk-1\n`);
    assert.equal(err.line, 5);
    assert.match(err.message, /Hint: `general_settings` is a top-level section: start it at the beginning of the line/);
  });

  test("a list item out of line with the one before it", () => {
    const err = syntaxError(`model_list:\n${item("a")}   - model_name: b\n     litellm_params:\n       model: xinference/b\n`);
    assert.equal(err.line, 5);
    assert.match(err.message, /All sequence items must start at the same column/);
    assert.match(err.message, /the `-` of each list item must line up: the item on line 2 starts its `-` after 2 spaces, this one after 3/);
  });

  test("a section written twice", () => {
    const err = syntaxError(`model_list:\n${item("a")}model_list:\n${item("b")}`);
    assert.equal(err.line, 5);
    assert.match(err.message, /Map keys must be unique/);
    assert.match(err.message, /`model_list` is already on line 1, and a map holds each key once: merge the two into one `model_list:`/);
  });

  test("an unclosed quote names its line and shows it", () => {
    const err = syntaxError('model_list:\n  - model_name: "embed\n    litellm_params:\n      model: xinference/a\n');
    assert.ok(err.line !== undefined && err.line >= 2);
    assert.match(err.message, /^config\.yaml:\d+:\d+: YAML syntax error: Missing closing "quote/);
    assert.match(err.message, /> +\d+ \|/);
  });

  test("tabs used for indentation", () => {
    const err = syntaxError("model_list:\n\t- model_name: a\n");
    assert.equal(err.line, 2);
    assert.match(err.message, /Tabs are not allowed as indentation/);
  });
});
