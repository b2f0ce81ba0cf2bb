/**
 * The proxy built in-process from a config text, for `inject` tests: the same app the CLI serves, with a
 * logger that keeps its lines and the router's state in memory.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import pino from "pino";
import { type App, type AppDeps, buildApp } from "../../src/proxy/app.js";
import { parseConfig } from "../../src/proxy/config/index.js";
import { resolveSettings, type Settings } from "../../src/proxy/settings.js";

export interface TestApp extends App {
  settings: Settings;
  /** Every log line so far, parsed. */
  logLines(): Record<string, unknown>[];
  /** Closes the app and removes its image folder. */
  dispose(): Promise<void>;
}

export async function testApp(configYaml: string, deps: Partial<Omit<AppDeps, "logger">> = {}, env: NodeJS.ProcessEnv = {}): Promise<TestApp> {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      lines.push(...chunk.toString("utf8").split("\n").filter((line) => line !== ""));
      callback();
    },
  });
  const logger = pino({ level: "debug", base: undefined }, sink);
  const settings = resolveSettings(parseConfig(configYaml, "test.yaml", env).config, env);
  const imageDir = deps.imageDir ?? (await mkdtemp(join(tmpdir(), "xgate-test-images-")));
  const built = await buildApp(settings, { ...deps, logger, imageDir });
  return {
    ...built,
    settings,
    logLines: () => lines.map((line) => JSON.parse(line) as Record<string, unknown>),
    async dispose() {
      await built.close();
      if (deps.imageDir === undefined) await rm(imageDir, { recursive: true, force: true });
    },
  };
}
