/**
 * Where uploads are spooled: a folder per request under the system's temp dir, named after the process that
 * made it (`xgate-upload-<pid>-XXXXXX`), so that the folders a crashed process left can be told from those of
 * a live one — another worker, another instance on the same machine — and removed at the next start.
 */
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

const PREFIX = "xgate-upload-";
const OWNED = /^xgate-upload-(\d+)-/;

/** A new spool folder for one request. */
export function makeSpoolDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), `${PREFIX}${process.pid}-`));
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists, it is just not ours to signal.
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Removes the spool folders of processes that are gone; resolves with how many. Never throws. */
export async function removeOrphanedSpoolDirs(dir: string = tmpdir()): Promise<number> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return 0;
  }
  const orphans = names.filter((name) => {
    const pid = Number(OWNED.exec(name)?.[1]);
    return Number.isInteger(pid) && pid > 0 && pid !== process.pid && !isAlive(pid);
  });
  await Promise.all(orphans.map((name) => rm(join(dir, name), { recursive: true, force: true }).catch(() => undefined)));
  return orphans.length;
}
