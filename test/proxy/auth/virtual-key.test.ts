// What a found virtual key may do: the order of the checks, model access (key, team, patterns, LiteLLM's
// special names, aliases) and the /v1/models list it sees.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { AuthenticationError } from "../../../src/errors.js";
import type { Principal, VirtualKey } from "../../../src/proxy/auth/principal.js";
import { assertModelAccess, checkVirtualKey, modelsFor, resolveKeyAlias } from "../../../src/proxy/auth/virtual-key.js";
import type { KeyRecord, TeamRecord } from "../../../src/proxy/store/index.js";
import { keyRecord, RECORDED_AT, teamRecord } from "../../support/records.js";

const NOW = RECORDED_AT;

const virtual = (key: Partial<KeyRecord> = {}, teamRow?: Partial<TeamRecord>): Principal => ({
  kind: "virtual",
  key: { record: keyRecord(key), team: teamRow === undefined ? undefined : teamRecord(teamRow), readAt: NOW },
});

const keyOf = (principal: Principal): VirtualKey => (principal as Extract<Principal, { kind: "virtual" }>).key;

function refused(fn: () => void, expected: { code: string; type: string; message: RegExp }): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof AuthenticationError);
    assert.equal(err.status, 401);
    assert.equal(err.code, expected.code);
    assert.equal(err.type, expected.type);
    assert.match(err.message, expected.message);
    return true;
  });
}

describe("checks on a found key", () => {
  test("a usable key passes", () => {
    checkVirtualKey(keyOf(virtual({ expires: new Date(NOW + 1) })), NOW);
  });

  test("blocked: 401 key_blocked, naming /key/unblock and the key by its alias", () => {
    refused(() => checkVirtualKey(keyOf(virtual({ blocked: true, key_alias: "my-app" })), NOW), {
      code: "key_blocked",
      type: "auth_error",
      message: /Key 'my-app' is blocked\. An admin can unblock it with POST \/key\/unblock/,
    });
  });

  test("expired: 401 expired_key at the moment it expires, judged against the clock given", () => {
    const key = keyOf(virtual({ expires: new Date(NOW) }));
    checkVirtualKey(key, NOW - 1);
    refused(() => checkVirtualKey(key, NOW), { code: "key_expired", type: "expired_key", message: /Key 'sk-\.\.\.abcd' expired at 2025-03-10T12:00:00\.000Z/ });
  });

  test("a key blocked and expired is reported as blocked", () => {
    refused(() => checkVirtualKey(keyOf(virtual({ blocked: true, expires: new Date(NOW - 1) })), NOW), {
      code: "key_blocked",
      type: "auth_error",
      message: /blocked/,
    });
  });
});

describe("model access", () => {
  const denied = (principal: Principal, model: string, message: RegExp, resolvedGroup?: string) =>
    refused(() => assertModelAccess(principal, model, resolvedGroup), {
      code: "model_access_denied",
      type: /is in team/.test(message.source) ? "team_model_access_denied" : "key_model_access_denied",
      message,
    });

  test("the master key and an open proxy may call any model", () => {
    assertModelAccess({ kind: "master" }, "anything");
    assertModelAccess({ kind: "open" }, "anything");
  });

  test("an empty list allows every model; a list allows what it names, and the error names what it allows", () => {
    assertModelAccess(virtual(), "anything");
    const key = virtual({ models: ["embed", "rerank"], key_alias: "app" });
    assertModelAccess(key, "embed");
    denied(key, "sd3.5", /^Key 'app' may not use model 'sd3\.5'\. It may use: embed, rerank\.$/);
  });

  test("the error's param is 'model'", () => {
    assert.throws(() => assertModelAccess(virtual({ models: ["a"] }), "b"), (err: unknown) => (err as AuthenticationError).param === "model");
  });

  test("'*' and 'all-proxy-models' allow every model", () => {
    assertModelAccess(virtual({ models: ["*"] }), "anything");
    assertModelAccess(virtual({ models: ["all-proxy-models"] }), "anything");
  });

  test("a name with '*' is a pattern, matched whole", () => {
    const key = virtual({ models: ["xinference/*", "bge-*-en", "a*b*c"] });
    assertModelAccess(key, "xinference/qwen2.5-instruct");
    assertModelAccess(key, "bge-large-en");
    assertModelAccess(key, "a-x-b-y-c");
    denied(key, "xinferencex/qwen", /may not use/);
    denied(key, "bge-large-en-v1.5", /may not use/);
    denied(key, "openai/xinference/qwen", /may not use/);
    denied(key, "acb", /may not use/);
  });

  test("regex characters in a name are plain characters", () => {
    const key = virtual({ models: ["bge.en*"] });
    assertModelAccess(key, "bge.en-large");
    denied(key, "bgexen-large", /may not use/);
  });

  test("the team's models bind a key too, and the error says it is the team's (LiteLLM's team_model_access_denied)", () => {
    const key = virtual({ models: ["a", "b"] }, { team_alias: "research", models: ["a"] });
    assertModelAccess(key, "a");
    denied(key, "b", /^Key 'sk-\.\.\.abcd' is in team 'research', which may not use model 'b'\. The team may use: a\.$/);
    assertModelAccess(virtual({}, { models: [] }), "anything");
  });

  test("'all-team-models' on a key means its team's models", () => {
    const key = virtual({ models: ["all-team-models"] }, { models: ["a", "xinference/*"] });
    assertModelAccess(key, "a");
    assertModelAccess(key, "xinference/qwen");
    denied(key, "b", /is in team 't1'/);
    assertModelAccess(virtual({ models: ["all-team-models"] }, { models: [] }), "anything");
  });

  test("an alias of the key passes when the alias or what it stands for is allowed", () => {
    const byAlias = virtual({ models: ["fast"], aliases: { fast: "gpt-large" } });
    assertModelAccess(byAlias, "fast");
    const byTarget = virtual({ models: ["gpt-large"], aliases: { fast: "gpt-large" } });
    assertModelAccess(byTarget, "fast");
    denied(virtual({ models: ["other"], aliases: { fast: "gpt-large" } }), "fast", /may not use model 'fast'/);
  });

  test("the model group a name resolves to (a model_group_alias) passes as LiteLLM lets it", () => {
    assertModelAccess(virtual({ models: ["embed"] }), "text-embedding-3-small", "embed");
    denied(virtual({ models: ["embed"] }), "text-embedding-3-small", /may not use/, "other");
  });
});

describe("aliases", () => {
  test("a key's alias names its model group; other names, other principals and inherited names are left alone", () => {
    const key = virtual({ aliases: { fast: "gpt-large" } });
    assert.equal(resolveKeyAlias(key, "fast"), "gpt-large");
    assert.equal(resolveKeyAlias(key, "slow"), "slow");
    assert.equal(resolveKeyAlias(key, "constructor"), "constructor");
    assert.equal(resolveKeyAlias({ kind: "master" }, "fast"), "fast");
  });
});

describe("/v1/models for a principal", () => {
  const entries = [
    { id: "embed", object: "model", owned_by: "xgate" },
    { id: "rerank", object: "model", owned_by: "xgate" },
    { id: "xinference/qwen", object: "model", owned_by: "xgate", model_type: "LLM" },
  ];

  test("the master key, an open proxy and no principal see every model", () => {
    assert.deepEqual(modelsFor({ kind: "master" }, entries), entries);
    assert.deepEqual(modelsFor({ kind: "open" }, entries), entries);
    assert.deepEqual(modelsFor(null, entries), entries);
  });

  test("a key sees the models its list and its team's allow", () => {
    const ids = (principal: Principal) => modelsFor(principal, entries).map((entry) => entry.id);
    assert.deepEqual(ids(virtual()), ["embed", "rerank", "xinference/qwen"]);
    assert.deepEqual(ids(virtual({ models: ["embed", "xinference/*"] })), ["embed", "xinference/qwen"]);
    assert.deepEqual(ids(virtual({ models: ["embed", "xinference/*"] }, { models: ["xinference/qwen", "rerank"] })), ["xinference/qwen"]);
  });

  test("a key's aliases are listed as the models they stand for, when it may call them", () => {
    const listed = modelsFor(virtual({ models: ["embed", "fast"], aliases: { fast: "xinference/qwen", nope: "rerank", ghost: "missing" } }), entries);
    assert.deepEqual(listed, [entries[0], { ...entries[2], id: "fast" }]);
  });
});
