// Signing in to the console with the master key: refused keys say why, the key stays in this tab only
// (never in a URL), and signing out forgets it.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
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
general_settings:
  master_key: ${ACCOUNTS_MASTER_KEY}
`);
});

after(async () => {
  await ui?.close();
  await emulator?.close();
});

describe("console sign-in", () => {
  test("a wrong key is refused with the proxy's words, and nothing is kept", (t) =>
    ui.withPage(t, async (page) => {
      await page.goto(ui.consoleUrl);
      await page.getByLabel("Master key").fill("sk-not-the-master-key");
      await page.getByRole("button", { name: "Sign in" }).click();
      await page.getByRole("alert").getByText(/invalid|not valid|unknown/i).waitFor();
      assert.equal(await page.evaluate("sessionStorage.length"), 0);
      assert.equal(await page.getByRole("navigation", { name: "Console" }).count(), 0);
    }));

  test("a virtual key is refused: the console needs the master key", (t) =>
    ui.withPage(t, async (page) => {
      const { key } = await ui.proxy.admin("/key/generate", {});
      await page.goto(ui.consoleUrl);
      await page.getByLabel("Master key").fill(key);
      await page.getByRole("button", { name: "Sign in" }).click();
      await page.getByRole("alert").getByText(/master key/).waitFor();
    }));

  test("the master key signs in, stays for a reload in this tab, never in the URL, and sign-out forgets it", (t) =>
    ui.withPage(t, async (page) => {
      await ui.signIn(page);
      await page.getByRole("heading", { level: 1, name: "Overview" }).waitFor();
      assert.equal(page.url().includes(ACCOUNTS_MASTER_KEY), false);
      await page.reload();
      await page.getByRole("heading", { level: 1, name: "Overview" }).waitFor();

      await page.getByRole("link", { name: "Keys and teams" }).click();
      await page.getByRole("heading", { level: 1, name: "Keys and teams" }).waitFor();
      assert.match(page.url(), /\/ui\/keys$/);

      await page.getByRole("button", { name: "Sign out" }).click();
      await page.getByLabel("Master key").waitFor();
      assert.equal(await page.evaluate("sessionStorage.length"), 0);
      await page.reload();
      await page.getByLabel("Master key").waitFor();
    }));

  test("a move to another page by keyboard puts the focus on its content, not left in the menu", (t) =>
    ui.withPage(t, async (page) => {
      await ui.signIn(page);
      const link = page.getByRole("navigation", { name: "Console" }).getByRole("link", { name: "Models" });
      await link.focus();
      await page.keyboard.press("Enter");
      await page.getByRole("heading", { level: 1, name: "Models" }).waitFor();
      assert.equal(await page.evaluate("document.activeElement?.id"), "main");
      // The page's controls come with its data: under load the heading can be there before them, and Tab
      // would then have nothing in the page to go to.
      await page.locator("#main").locator("a[href], button, input, select, [tabindex='0']").first().waitFor();
      await page.keyboard.press("Tab");
      assert.equal(await page.evaluate("document.querySelector('#main').contains(document.activeElement)"), true, "Tab goes on within the page");
    }));

  test("a page's own address opens that page once signed in", (t) =>
    ui.withPage(t, async (page) => {
      await ui.signIn(page, "spend");
      await page.getByRole("heading", { level: 1, name: "Spend and logs" }).waitFor();
    }));
});
