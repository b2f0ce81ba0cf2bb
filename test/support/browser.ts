/**
 * The console in a real browser: Debian's Chromium driven by playwright-core, headless, against the proxy
 * with keys (accounts-app.ts) on the Xinference emulator. The console is built fresh with Vite's build API
 * into a temp folder, once per test process, so that no test runs a stale bundle. Every page a test opens
 * fails the test on a CSP violation or an uncaught error, and leaves a screenshot in test-artifacts/ when
 * the test fails.
 *
 * @example
 * const ui = await consoleHarness(config);
 * test("signs in", (t) => ui.withPage(t, async (page) => { await ui.signIn(page); ... }));
 */
import assert from "node:assert/strict";
import { existsSync, rmSync } from "node:fs";
import { mkdir, mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import type { TestContext } from "node:test";
import { fileURLToPath } from "node:url";
import { type Browser, chromium, type Page } from "playwright-core";
import { build } from "vite";
import { type AccountsApp, ACCOUNTS_MASTER_KEY, accountsApp } from "./accounts-app.js";

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
export const ARTIFACTS_DIR = join(ROOT, "test-artifacts");

export const DESKTOP = { width: 1280, height: 800 } as const;
export const PHONE = { width: 390, height: 844 } as const;

let built: Promise<string> | undefined;

/** The console built from ui/ now, into a temp folder removed when the process exits. */
export function builtConsole(): Promise<string> {
  built ??= (async () => {
    const outDir = await mkdtemp(join(tmpdir(), "xgate-console-"));
    process.once("exit", () => rmSync(outDir, { recursive: true, force: true }));
    await build({ configFile: join(ROOT, "vite.config.ts"), logLevel: "error", build: { outDir, emptyOutDir: true } });
    return outDir;
  })();
  return built;
}

/** Chromium, headless. A missing browser fails the test, naming the fix: it is never a skip. */
export async function launchBrowser(): Promise<Browser> {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(`Chromium is not at ${CHROMIUM_PATH}: install Debian's chromium package (apt-get install -y chromium), or set CHROMIUM_PATH.`);
  }
  // No sandbox: CI runs as root, where Chromium's sandbox cannot start.
  return chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: ["--no-sandbox"] });
}

/** Writes test-artifacts/<name>.png (the folder is gitignored); answers its path. */
export async function screenshot(page: Page, name: string, options: { fullPage?: boolean } = {}): Promise<string> {
  await mkdir(ARTIFACTS_DIR, { recursive: true });
  const path = join(ARTIFACTS_DIR, `${name.replace(/[^\w.-]+/g, "-")}.png`);
  await page.screenshot({ path, fullPage: options.fullPage ?? false, animations: "disabled" });
  return path;
}

export interface PageOptions {
  viewport?: { width: number; height: number };
  colorScheme?: "light" | "dark";
}

export interface ConsoleHarness {
  proxy: AccountsApp;
  browser: Browser;
  /** `http://127.0.0.1:PORT/ui/`. */
  consoleUrl: string;
  /**
   * Runs `body` with a fresh page (its own storage) whose clock reads the proxy's fake clock, so that "today"
   * on the page is the day the spend rows have. Fails on a CSP violation or an uncaught page error; on
   * failure, leaves test-artifacts/failed-<test name>.png.
   */
  withPage(t: TestContext, body: (page: Page) => Promise<void>, options?: PageOptions): Promise<void>;
  /** Opens the console and signs in with the master key; answers when the Overview is shown. */
  signIn(page: Page, path?: string): Promise<void>;
  close(): Promise<void>;
}

export async function consoleHarness(configYaml: string): Promise<ConsoleHarness> {
  const consoleDir = await builtConsole();
  const proxy = await accountsApp(configYaml, { consoleDir });
  const browser = await launchBrowser().catch(async (error: unknown) => {
    await proxy.close();
    throw error;
  });
  const consoleUrl = `${proxy.url}/ui/`;
  return {
    proxy,
    browser,
    consoleUrl,
    async withPage(t, body, options = {}) {
      const context = await browser.newContext({ viewport: options.viewport ?? DESKTOP, colorScheme: options.colorScheme ?? "light" });
      const page = await context.newPage();
      await page.clock.setFixedTime(new Date(proxy.clock.now()));
      const violations: string[] = [];
      page.on("console", (message) => {
        if (/Content.Security.Policy/i.test(message.text())) violations.push(message.text());
      });
      page.on("pageerror", (error) => violations.push(`uncaught: ${error.message}`));
      try {
        await body(page);
        assert.deepEqual(violations, [], "the page broke its CSP or threw");
      } catch (error) {
        await screenshot(page, `failed-${t.name}`, { fullPage: true }).catch(() => undefined);
        throw error;
      } finally {
        await context.close();
      }
    },
    async signIn(page, path = "") {
      await page.goto(`${consoleUrl}${path}`);
      await page.getByLabel("Master key").fill(ACCOUNTS_MASTER_KEY);
      await page.getByRole("button", { name: "Sign in" }).click();
      await page.getByRole("button", { name: "Sign out" }).waitFor();
    },
    async close() {
      await browser.close();
      await proxy.close();
    },
  };
}
