// Every page of the console at 1280×800 and at phone width, light and dark, with a day and a month of
// traffic, written to test-artifacts/ (not committed) for a person to look at. Each shot also checks that
// the page drew what it should. With UPDATE_DOCS_SCREENSHOT=1 the Overview's light desktop shot is also
// written to docs/console-overview.png, the README's picture.
import assert from "node:assert/strict";
import { copyFile, mkdir } from "node:fs/promises";
import { dirname, join } from "node:path";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import type { SpendLogRow } from "../../src/proxy/store/index.js";
import { ACCOUNTS_MASTER_KEY } from "../support/accounts-app.js";
import { type ConsoleHarness, consoleHarness, DESKTOP, PHONE, screenshot } from "../support/browser.js";
import { type Emulator, startEmulator } from "../support/emulator/index.js";
import { spendRow } from "../support/records.js";

const DOCS_SHOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "docs", "console-overview.png");
const HOUR = 3_600_000;

let emulator: Emulator;
let ui: ConsoleHarness;

/** A deterministic day and month of traffic: a daily rhythm, a few failures, three keys, three models. */
async function seedTraffic(): Promise<void> {
  const now = ui.proxy.clock.now();
  const keys = await Promise.all(
    [
      { key_alias: "search-app", max_budget: 40 },
      { key_alias: "support-bot", max_budget: 25, team_id: undefined },
      { key_alias: "nightly-batch" },
    ].map((body) => ui.proxy.admin("/key/generate", body)),
  );
  await ui.proxy.admin("/team/new", { team_id: "search", team_alias: "Search", max_budget: 100 });
  await ui.proxy.admin("/key/update", { key: keys[0]?.key, team_id: "search" });
  const models = [
    { model: "embed", call_type: "aembedding", latency: 40, price: 0.0004 },
    { model: "chat", call_type: "acompletion", latency: 900, price: 0.006 },
    { model: "rerank", call_type: "arerank", latency: 120, price: 0.001 },
  ];
  const rows: SpendLogRow[] = [];
  let seed = 7;
  const random = (): number => ((seed = (seed * 16807) % 2147483647) / 2147483647);
  for (let hour = 24 * 30; hour >= 1; hour--) {
    const at = now - hour * HOUR;
    const busy = 12 + Math.round(10 * (1 + Math.sin(((at / HOUR) % 24) / 24 * 2 * Math.PI - 1.8)));
    const count = hour <= 24 ? busy : Math.round(busy / 3);
    for (let i = 0; i < count; i++) {
      const model = models[Math.floor(random() * random() * models.length)] ?? models[0];
      const key = keys[Math.floor(random() * keys.length)];
      if (!model || !key) continue;
      const failed = random() < (hour % 24 === 9 ? 0.2 : 0.02);
      const latency = Math.round(model.latency * (0.6 + random() * random() * 3));
      const startTime = at + Math.floor(random() * HOUR);
      rows.push(
        spendRow(`seed-${hour}-${i}`, startTime, {
          model: model.model,
          model_group: model.model,
          call_type: model.call_type,
          api_key: key.token,
          team_id: key === keys[0] ? "search" : null,
          status: failed ? "failure" : "success",
          spend: failed ? 0 : Math.round(model.price * (0.5 + random()) * 1e6) / 1e6,
          total_tokens: failed ? 0 : Math.round(50 + random() * 400),
          endTime: new Date(startTime + latency),
        }),
      );
    }
  }
  await ui.proxy.store.spendLogs.insertBatch(rows);
}

before(async () => {
  emulator = await startEmulator();
  ui = await consoleHarness(`
model_list:
  - model_name: embed
    litellm_params: { model: xinference/bge-base-en, api_base: ${emulator.baseUrl} }
  - model_name: chat
    litellm_params: { model: xinference/qwen2.5-instruct, api_base: ${emulator.baseUrl} }
  - model_name: rerank
    litellm_params: { model: xinference/bge-reranker-base, api_base: ${emulator.baseUrl} }
  - model_name: rerank
    litellm_params: { model: xinference/not-launched-reranker, api_base: ${emulator.baseUrl} }
    model_info: { id: rerank-spare }
general_settings:
  master_key: ${ACCOUNTS_MASTER_KEY}
`);
  await seedTraffic();
});

after(async () => {
  await ui?.close();
  await emulator?.close();
});

/** Each page, and what it must show before its picture is taken. */
const PAGES = [
  { path: "", name: "overview", ready: "Top keys" },
  { path: "models", name: "models", ready: "not launched" },
  { path: "keys", name: "keys", ready: "search-app" },
  { path: "spend", name: "spend", ready: "Request log" },
  { path: "playground", name: "playground", ready: "Compare texts" },
] as const;

describe("console screenshots", () => {
  for (const [size, viewport] of [["desktop", DESKTOP], ["phone", PHONE]] as const) {
    for (const scheme of ["light", "dark"] as const) {
      test(`every page at ${size} width, ${scheme}`, (t) =>
        ui.withPage(
          t,
          async (page) => {
            await ui.signIn(page);
            for (const entry of PAGES) {
              await page.goto(`${ui.consoleUrl}${entry.path}`);
              await page.getByText(entry.ready).first().waitFor();
              if (entry.name === "overview" || entry.name === "spend") {
                await page.locator(".recharts-surface").first().waitFor();
                // Axis labels are text: drawn in the muted text colour, not the faint colour of the axis line.
                const colours = (await page.evaluate(`(() => {
                  const tick = document.querySelector(".recharts-cartesian-axis-tick-value");
                  const muted = getComputedStyle(document.documentElement).getPropertyValue("--muted").trim();
                  const probe = document.createElement("span");
                  probe.style.color = muted;
                  document.body.append(probe);
                  const expected = getComputedStyle(probe).color;
                  probe.remove();
                  return [tick ? getComputedStyle(tick).fill : "no tick", expected];
                })()`)) as [string, string];
                assert.equal(colours[0], colours[1], "axis labels in --muted");
              }
              assert.equal(await page.evaluate("document.documentElement.dataset.theme"), scheme);
              const file = await screenshot(page, `console-${entry.name}-${size}-${scheme}`, { fullPage: true });
              if (entry.name === "overview" && size === "desktop" && scheme === "light" && process.env.UPDATE_DOCS_SCREENSHOT === "1") {
                await screenshot(page, "console-overview-docs");
                await mkdir(dirname(DOCS_SHOT), { recursive: true });
                await copyFile(file.replace(/console-overview-desktop-light\.png$/, "console-overview-docs.png"), DOCS_SHOT);
              }
            }
            if (size === "phone") {
              const menu = page.getByRole("button", { name: "Open navigation" });
              await menu.click();
              await page.getByRole("navigation", { name: "Console" }).getByRole("link", { name: "Models" }).waitFor();
              await screenshot(page, `console-nav-phone-${scheme}`);
            }
          },
          { viewport, colorScheme: scheme },
        ));
    }
  }

  test("the theme toggle switches light and dark, and the choice stays", (t) =>
    ui.withPage(t, async (page) => {
      await ui.signIn(page);
      assert.equal(await page.evaluate("document.documentElement.dataset.theme"), "light");
      await page.getByRole("button", { name: "Switch to dark theme" }).click();
      assert.equal(await page.evaluate("document.documentElement.dataset.theme"), "dark");
      await page.reload();
      await page.getByRole("button", { name: "Switch to light theme" }).waitFor();
    }));

  test("the keyboard reaches the skip link first, and it moves focus to the page", (t) =>
    ui.withPage(t, async (page) => {
      await ui.signIn(page);
      await page.keyboard.press("Tab");
      const skip = page.getByRole("link", { name: "Skip to content" });
      assert.equal(await skip.evaluate((element) => element === element.ownerDocument.activeElement), true);
      await page.keyboard.press("Enter");
      assert.equal(await page.evaluate("document.activeElement?.id"), "main");
    }));
});
