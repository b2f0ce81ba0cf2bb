// A key's life in the console, as an operator lives it: created (shown once), used with the `openai` client
// against the running proxy, its spend seen on the Keys page and the Overview, then blocked — and the
// client refused.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import OpenAI from "openai";
import { ACCOUNTS_MASTER_KEY } from "../support/accounts-app.js";
import { type ConsoleHarness, consoleHarness } from "../support/browser.js";
import { type Emulator, startEmulator } from "../support/emulator/index.js";

let emulator: Emulator;
let ui: ConsoleHarness;

before(async () => {
  emulator = await startEmulator();
  ui = await consoleHarness(`
model_list:
  - model_name: embed
    litellm_params: { model: xinference/bge-base-en, api_base: ${emulator.baseUrl} }
    model_info: { id: embed-1, input_cost_per_token: 0.01 }
router_settings:
  num_retries: 0
general_settings:
  master_key: ${ACCOUNTS_MASTER_KEY}
`);
});

after(async () => {
  await ui?.close();
  await emulator?.close();
});

describe("keys in the console", () => {
  test("create a key, use it with the openai client, see its spend, block it and see the client refused", (t) =>
    ui.withPage(t, async (page) => {
      await ui.signIn(page, "keys");
      await page.getByRole("button", { name: "Create key" }).click();
      const dialog = page.getByRole("dialog", { name: "Create key" });
      await dialog.getByLabel("Alias").fill("search-app");
      await dialog.getByLabel("Budget (USD)").fill("5");
      await dialog.getByRole("button", { name: "Create key" }).click();

      const shown = page.getByTestId("new-key");
      const key = (await shown.textContent()) ?? "";
      assert.match(key, /^sk-/);
      assert.equal(page.url().includes(key), false, "the key is never in the URL");

      const client = new OpenAI({ apiKey: key, baseURL: ui.proxy.baseUrl, maxRetries: 0 });
      const answer = await client.embeddings.create({ model: "embed", input: "the quick brown fox" });
      assert.equal(answer.data.length, 1);
      await ui.proxy.flush();

      // Leaving the page forgets the new key: it was shown once.
      await page.getByRole("link", { name: "Overview" }).click();
      await page.getByRole("heading", { level: 1, name: "Overview" }).waitFor();
      await page.getByRole("cell", { name: /search-app/ }).waitFor();
      await page.getByRole("link", { name: "Keys and teams" }).click();
      const row = page.getByRole("row", { name: /search-app/ });
      await row.waitFor();
      assert.equal(await page.getByTestId("new-key").count(), 0, "the new key is gone once the operator left the page");
      await row.getByText(/\$0\.\d+ of \$5\.00/).waitFor();
      await row.getByRole("meter", { name: "search-app: spend of budget" }).waitFor();

      await row.getByRole("button", { name: "Block search-app" }).click();
      await row.getByText("blocked").waitFor();
      await assert.rejects(client.embeddings.create({ model: "embed", input: "again" }), (error: unknown) => {
        assert.ok(error instanceof OpenAI.APIError);
        assert.equal(error.status, 401);
        return true;
      });

      await row.getByRole("button", { name: "Unblock search-app" }).click();
      await row.getByText("active").waitFor();
      assert.equal((await client.embeddings.create({ model: "embed", input: "once more" })).data.length, 1);
    }));

  test("the search narrows the list; a refused edit shows the proxy's words", (t) =>
    ui.withPage(t, async (page) => {
      await ui.proxy.admin("/key/generate", { key_alias: "billing-batch" });
      await ui.signIn(page, "keys");
      await page.getByRole("row", { name: /billing-batch/ }).waitFor();
      await page.getByLabel("Search keys").fill("nothing-like-this");
      await page.getByText("No key matches").waitFor();
      await page.getByLabel("Search keys").fill("billing");
      await page.getByRole("row", { name: /billing-batch/ }).waitFor();

      await page.getByRole("button", { name: "Edit billing-batch" }).click();
      const dialog = page.getByRole("dialog", { name: "Edit billing-batch" });
      await dialog.getByLabel("Budget period").fill("fortnightly");
      await dialog.getByRole("button", { name: "Save" }).click();
      await dialog.getByRole("alert").getByText(/budget_duration/).waitFor();
      await dialog.getByRole("button", { name: "Cancel" }).click();
    }));

  test("the search finds a key beyond the first hundred shown: the proxy searches them all", (t) =>
    ui.withPage(t, async (page) => {
      for (let i = 0; i < 100; i++) await ui.proxy.admin("/key/generate", { key_alias: `filler-${i}` });
      // The list is oldest first: this key is the newest of more than a hundred.
      ui.proxy.clock.advance(1000);
      await ui.proxy.admin("/key/generate", { key_alias: "Late-Arrival" });
      await ui.signIn(page, "keys");
      await page.getByText(/Showing the first 100 of \d+ keys/).waitFor();
      assert.equal(await page.getByRole("row", { name: /Late-Arrival/ }).count(), 0, "not among the first hundred");
      await page.getByLabel("Search keys").fill("late-arr");
      await page.getByRole("row", { name: /Late-Arrival/ }).waitFor();
      // The other tests find their keys on the first page.
      await ui.proxy.admin("/key/delete", { key_aliases: [...Array.from({ length: 100 }, (_, i) => `filler-${i}`), "Late-Arrival"] });
    }));

  test("regenerate shows the new value once; delete removes the key", (t) =>
    ui.withPage(t, async (page) => {
      await ui.proxy.admin("/key/generate", { key_alias: "old-app" });
      await ui.signIn(page, "keys");
      await page.getByRole("button", { name: "Regenerate old-app" }).click();
      await page.getByRole("dialog").getByRole("button", { name: "Regenerate key" }).click();
      assert.match((await page.getByTestId("new-key").textContent()) ?? "", /^sk-/);
      await page.getByRole("button", { name: "Delete old-app" }).click();
      await page.getByRole("dialog").getByRole("button", { name: "Delete key" }).click();
      await page.getByRole("row", { name: /old-app/ }).waitFor({ state: "detached" });
    }));
});
