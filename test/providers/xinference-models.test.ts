import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { APIConnectionError, BadRequestError, PermissionDeniedError } from "../../src/errors.js";
import { getProvider } from "../../src/providers/index.js";
import { useEmulator } from "../sdk/helpers.js";

const emu = useEmulator({ apiKeys: ["xf-user"], adminTokens: ["admin-token"] });
const xinference = getProvider("xinference");

describe("xinference listModels", () => {
  it("lists the running models with their type, dimensions and abilities", async () => {
    const models = await xinference.listModels({ api_base: emu().baseUrl, api_key: "xf-user" });
    const byId = new Map(models.map((m) => [m.id, m]));
    assert.equal(byId.get("bge-base-en")?.model_type, "embedding");
    assert.equal(byId.get("bge-base-en")?.dimensions, 768);
    assert.deepEqual(byId.get("sd-turbo")?.model_ability, ["text2image"]);
    assert.equal(byId.get("stabilityai/stable-diffusion-3.5-large")?.model_name, "sd3.5-large");
    assert.equal(byId.get("bge-reranker-base")?.model_type, "rerank");
    assert.equal(byId.get("bge-base-en")?.raw.owned_by, "xinference");
  });

  it("fails like any call when Xinference cannot be reached", async () => {
    await assert.rejects(xinference.listModels({ api_base: "http://127.0.0.1:9/v1", num_retries: 0 }), APIConnectionError);
  });
});

describe("xinference launchModel", () => {
  it("launches a model and resolves with its uid", async () => {
    const uid = await xinference.launchModel(
      { api_base: emu().baseUrl, api_key: "admin-token" },
      { model_name: "gte-base", model_type: "embedding", model_uid: "team/gte" },
    );
    assert.equal(uid, "team/gte");
    const models = await xinference.listModels({ api_base: emu().baseUrl, api_key: "xf-user" });
    assert.ok(models.some((m) => m.id === "team/gte" && m.dimensions === 768));
  });

  it("keeps Xinference's refusals: an API key may not launch, a duplicate uid is a 400; neither is retried", async () => {
    emu().clearRequests();
    await assert.rejects(
      xinference.launchModel({ api_base: emu().baseUrl, api_key: "xf-user" }, { model_name: "gte-base", model_type: "embedding" }),
      PermissionDeniedError,
    );
    await assert.rejects(
      xinference.launchModel({ api_base: emu().baseUrl, api_key: "admin-token" }, { model_name: "bge-base-en", model_type: "embedding" }),
      (err: unknown) => err instanceof BadRequestError && /already in the model list/.test(err.message),
    );
    assert.equal(emu().requests.filter((r) => r.method === "POST").length, 2);
  });
});
