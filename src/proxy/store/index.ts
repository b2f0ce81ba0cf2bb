/**
 * The store: keys, teams and spend logs on SQLite (a file, the default) or Postgres, through one query layer
 * and one contract. Opening it brings the schema up to date (see migrations.ts).
 *
 * @example
 * const store = await openStore({ kind: "sqlite", path: "./xgate-data/xgate.db" });
 * const key = await store.keys.findByToken(createHash("sha256").update(presented).digest("hex"));
 */
import type { Clock } from "../router/clock.js";
import { connect, type DatabaseTarget, type DialectName } from "./database.js";
import { KeyRepository } from "./keys.js";
import { migrate } from "./migrations.js";
import { SpendLogRepository } from "./spend-logs.js";
import { TeamRepository } from "./teams.js";

export interface Store {
  dialect: DialectName;
  /** The schema versions this opening applied; empty when the database was up to date. */
  migrated: readonly number[];
  keys: KeyRepository;
  teams: TeamRepository;
  spendLogs: SpendLogRepository;
  close(): Promise<void>;
}

export interface StoreOptions {
  /** Time for budget periods, expiries and row timestamps; tests pass a fake one. */
  clock?: Pick<Clock, "now">;
  /** Errors of idle database connections, which nothing awaits: for the log. */
  onError?: (error: Error) => void;
}

export async function openStore(target: DatabaseTarget, options: StoreOptions = {}): Promise<Store> {
  const clock = options.clock ?? Date;
  const now = (): Date => new Date(clock.now());
  const database = connect(target, options.onError ? { onError: options.onError } : {});
  let migrated: number[];
  try {
    migrated = await migrate(database, now);
  } catch (error) {
    await database.close();
    throw error;
  }
  return {
    dialect: database.dialect,
    migrated,
    keys: new KeyRepository(database, now),
    teams: new TeamRepository(database, now),
    spendLogs: new SpendLogRepository(database, now),
    close: () => database.close(),
  };
}

export type { DatabaseTarget, DialectName } from "./database.js";
export { StoreConflictError } from "./errors.js";
export type { KeyFilter, Regeneration } from "./keys.js";
export type * from "./records.js";
export type { DaySpend, SpendCharge, SpendLogFilter } from "./spend-logs.js";
export type { ActivityBucket, ActivityInterval, KeyActivity, ModelActivity, ModelSpend } from "./spend-activity.js";
export { SPEND_REPORT_GROUPINGS } from "./spend-report.js";
export type { KeySpend, ModelDay, SpendReport, SpendReportGrouping, TeamDay } from "./spend-report.js";
