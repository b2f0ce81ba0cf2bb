// Upload spool folders a crashed process left are removed at the next start; a live process's are kept.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdir, mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { it } from "node:test";
import { removeOrphanedSpoolDirs } from "../../src/proxy/files/spool-dir.js";

it("removes the spool folders of processes that are gone, and only those", async () => {
  const dir = await mkdtemp(join(tmpdir(), "xgate-spool-test-"));
  try {
    // A pid that was just in use and is now gone.
    const gone = spawnSync(process.execPath, ["-e", "process.stdout.write(String(process.pid))"]).stdout.toString();
    const names = [`xgate-upload-${gone}-abc123`, `xgate-upload-${process.pid}-def456`, `xgate-upload-${process.ppid}-ghi789`, "xgate-upload-legacy", "other"];
    for (const name of names) await mkdir(join(dir, name));
    assert.equal(await removeOrphanedSpoolDirs(dir), 1);
    assert.deepEqual((await readdir(dir)).sort(), names.slice(1).sort());
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
