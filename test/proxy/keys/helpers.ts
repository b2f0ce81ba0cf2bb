/**
 * For the key cache's tests: a real store on a temp SQLite file driven by a fake clock, and a source in
 * front of it that counts reads and can hold, fail or hang them — the database going slow or away.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type KeySource } from "../../../src/proxy/keys/cache.js";
import { generateKey, hashKey, keyName } from "../../../src/proxy/keys/tokens.js";
import { type KeyRecord, type NewKey, openStore, type Store, type TeamRecord } from "../../../src/proxy/store/index.js";
import { FakeClock } from "../router/helpers.js";

export { FakeClock };

export const START = Date.parse("2025-03-10T12:00:00.000Z");

export interface TempStore {
  store: Store;
  /** The SQLite file, for a second store on the same database (another worker). */
  path: string;
  clock: FakeClock;
  dispose(): Promise<void>;
}

export async function tempStore(clock = new FakeClock(START)): Promise<TempStore> {
  const dir = await mkdtemp(join(tmpdir(), "xgate-keys-"));
  const path = join(dir, "xgate.db");
  const store = await openStore({ kind: "sqlite", path }, { clock });
  return {
    store,
    path,
    clock,
    async dispose() {
      await store.close().catch(() => undefined);
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** A new key in the store: its value (what a client sends), its token and its row. */
export async function newKey(store: Store, fields: Omit<NewKey, "token"> = {}): Promise<{ value: string; token: string; record: KeyRecord }> {
  const value = generateKey();
  const token = hashKey(value);
  const record = await store.keys.create({ token, key_name: keyName(value), ...fields });
  return { value, token, record };
}

type Mode = "pass" | "fail" | "hang" | "hold";

/** The store as the cache sees it, with reads counted and, by `mode`, failed, held until `release()`, or never answered. */
export class ControlledSource implements KeySource {
  mode: Mode = "pass";
  keyReads = 0;
  teamReads = 0;
  private held: Array<() => void> = [];
  private readonly inFlight = new Set<Promise<unknown>>();

  constructor(private readonly store: Store) {}

  readonly keys = {
    findByToken: (token: string): Promise<KeyRecord | undefined> => {
      this.keyReads++;
      return this.gate(() => this.store.keys.findByToken(token));
    },
  };

  readonly teams = {
    get: (teamId: string): Promise<TeamRecord | undefined> => {
      this.teamReads++;
      return this.gate(() => this.store.teams.get(teamId));
    },
  };

  /** Lets the held reads go on. */
  release(): void {
    const held = this.held;
    this.held = [];
    for (const go of held) go();
  }

  get heldReads(): number {
    return this.held.length;
  }

  /** Waits until every read that will answer has, and the cache has taken what it read. */
  async settled(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
    await new Promise((resolve) => setImmediate(resolve));
  }

  private gate<T>(read: () => Promise<T>): Promise<T> {
    if (this.mode === "fail") return Promise.reject(new Error("the database is down"));
    if (this.mode === "hang") return new Promise<T>(() => undefined);
    const answer =
      this.mode === "hold" ? new Promise<void>((resolve) => this.held.push(resolve)).then(read) : read();
    this.inFlight.add(answer);
    void answer.then(
      () => this.inFlight.delete(answer),
      () => this.inFlight.delete(answer),
    );
    return answer;
  }
}
