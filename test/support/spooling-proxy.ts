/**
 * The CLI proxy in front of an emulator serving an image model, spooling uploads into a folder of its own
 * (TMPDIR), with a check after each test that no upload was left there. Call it inside a `describe`.
 */
import assert from "node:assert/strict";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, afterEach, before } from "node:test";
import { type Emulator, startEmulator } from "./emulator/index.js";
import { type ProxyProcess, startProxyProcess } from "./proxy-process.js";

export interface SpoolingProxy {
  emulator(): Emulator;
  proxy(): ProxyProcess;
  /** The proxy's TMPDIR, where its spool folders are. */
  spoolRoot(): string;
}

/** `configExtra`: more config sections (e.g. router_settings), appended as YAML. */
export function spoolingProxy(masterKey: string, configExtra = ""): SpoolingProxy {
  let emulator: Emulator | undefined;
  let proxy: ProxyProcess | undefined;
  let spoolRoot = "";
  before(async () => {
    spoolRoot = await mkdtemp(join(tmpdir(), "xgate-spool-root-"));
    emulator = await startEmulator();
    proxy = await startProxyProcess(
      `
model_list:
  - model_name: sd
    litellm_params: { model: xinference/stabilityai/stable-diffusion-3.5-large, api_base: "${emulator.baseUrl}" }
general_settings:
  master_key: ${masterKey}
  max_request_size_mb: 2
${configExtra}`,
      { env: { TMPDIR: spoolRoot } },
    );
  });
  after(async () => {
    await proxy?.stop();
    await emulator?.close();
    await rm(spoolRoot, { recursive: true, force: true });
  });
  afterEach(async () => {
    const left = (await readdir(spoolRoot)).filter((name) => name.startsWith("xgate-upload-"));
    assert.deepEqual(left, [], "spooled uploads left behind");
    emulator?.clearRequests();
  });
  return {
    emulator: () => emulator as Emulator,
    proxy: () => proxy as ProxyProcess,
    spoolRoot: () => spoolRoot,
  };
}
