/**
 * Spend logs: one row per request, written in batches off the request path. A batch is idempotent by
 * `request_id` — a row already there is skipped — and in the same transaction each row that was new adds its
 * spend to its key and its team, so that replaying a journal never charges a request twice. Keys and teams
 * are updated in sorted order, so that two instances' batches cannot deadlock each other on Postgres.
 */
import { type Kysely, type RawBuilder, type Selectable, type SelectQueryBuilder, sql } from "kysely";
import { fromJson, iso, toDate, toNumber } from "./codec.js";
import { type Database, type DialectName, writeTransaction } from "./database.js";
import { addKeySpend } from "./keys.js";
import { type ActivityBucket, type ActivityInterval, activity, type KeyActivity, type ModelActivity, modelActivity, type ModelSpend, topKeys, topModels } from "./spend-activity.js";
import type { Page, PageRequest, SpendLogRow, TimeRange } from "./records.js";
import { type ReportRow, type SpendReport, type SpendReportGrouping, spendReport } from "./spend-report.js";
import type { SpendLogsTable, Tables } from "./tables.js";
import { addTeamSpend } from "./teams.js";

/** What a new row charged: its key (hash; '' for the master key), its team, its spend. */
export type SpendCharge = Pick<SpendLogRow, "api_key" | "team_id" | "spend">;

export interface SpendLogFilter extends TimeRange {
  /** The key's hash. */
  api_key?: string;
  request_id?: string;
  model?: string;
}

/** One UTC day's spend, in total and by key hash, user and model. */
export interface DaySpend {
  /** `YYYY-MM-DD`. */
  day: string;
  spend: number;
  api_keys: Record<string, number>;
  users: Record<string, number>;
  models: Record<string, number>;
}

/** Rows per INSERT: well under SQLite's 32766 bound variables and Postgres's 65535. */
const INSERT_CHUNK = 200;
/** Rows per retention DELETE: short transactions, so that writers are never held up for long. */
const RETENTION_BATCH = 500;
const DAY_MS = 86_400_000;

function toRow(row: Selectable<SpendLogsTable>): SpendLogRow {
  return {
    request_id: row.request_id,
    call_type: row.call_type,
    api_key: row.api_key,
    spend: toNumber(row.spend),
    prompt_tokens: toNumber(row.prompt_tokens),
    completion_tokens: toNumber(row.completion_tokens),
    total_tokens: toNumber(row.total_tokens),
    model: row.model,
    model_group: row.model_group,
    model_id: row.model_id,
    api_base: row.api_base,
    user: row.user,
    team_id: row.team_id,
    status: row.status === "failure" ? "failure" : "success",
    startTime: toDate(row.startTime),
    endTime: toDate(row.endTime),
    metadata: fromJson<Record<string, unknown>>(row.metadata),
  };
}

function columnsOf(row: SpendLogRow) {
  return { ...row, startTime: iso(row.startTime), endTime: iso(row.endTime), metadata: JSON.stringify(row.metadata) };
}

/** The UTC day of `startTime`, as `YYYY-MM-DD` (SQLite keeps ISO text, so its first ten characters). */
function dayOf(dialect: DialectName): RawBuilder<string> {
  return dialect === "postgres" ? sql<string>`to_char("startTime" at time zone 'UTC', 'YYYY-MM-DD')` : sql<string>`substr("startTime", 1, 10)`;
}

function sums(rows: ReadonlyArray<{ key: string | null; spend: number }>): Array<[string, number]> {
  const totals = new Map<string, number>();
  for (const { key, spend } of rows) if (key && spend !== 0) totals.set(key, (totals.get(key) ?? 0) + spend);
  return [...totals].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

/** Every UTC day from `start`'s to the one before `end`, as `YYYY-MM-DD`. */
function daysBetween(start: Date, end: Date): string[] {
  const days: string[] = [];
  for (let at = Math.floor(start.getTime() / DAY_MS) * DAY_MS; at < end.getTime(); at += DAY_MS) days.push(new Date(at).toISOString().slice(0, 10));
  return days;
}

function filtered<O>(query: SelectQueryBuilder<Tables, "xgate_spend_logs", O>, filter: SpendLogFilter): SelectQueryBuilder<Tables, "xgate_spend_logs", O> {
  let q = query;
  if (filter.api_key !== undefined) q = q.where("api_key", "=", filter.api_key);
  if (filter.request_id !== undefined) q = q.where("request_id", "=", filter.request_id);
  if (filter.model !== undefined) q = q.where("model", "=", filter.model);
  if (filter.start !== undefined) q = q.where("startTime", ">=", iso(filter.start));
  if (filter.end !== undefined) q = q.where("startTime", "<", iso(filter.end));
  return q;
}

export class SpendLogRepository {
  constructor(
    private readonly database: Database,
    private readonly now: () => Date,
  ) {}

  /** Writes the rows the database lacks and charges their keys and teams; answers how many were new. */
  async insertBatch(rows: readonly SpendLogRow[]): Promise<number> {
    return (await this.insertNew(rows)).length;
  }

  /** `insertBatch`, answering the charges of the rows that were new (a replayed row is none of them). */
  async insertNew(rows: readonly SpendLogRow[]): Promise<SpendCharge[]> {
    const unique = [...new Map(rows.map((row) => [row.request_id, row])).values()];
    if (unique.length === 0) return [];
    const now = this.now();
    return writeTransaction(this.database, async (tx) => {
      const inserted: SpendCharge[] = [];
      for (let i = 0; i < unique.length; i += INSERT_CHUNK) {
        const chunk = unique.slice(i, i + INSERT_CHUNK).map(columnsOf);
        const written = await tx
          .insertInto("xgate_spend_logs")
          .values(chunk)
          .onConflict((oc) => oc.column("request_id").doNothing())
          .returning(["api_key", "team_id", "spend"])
          .execute();
        inserted.push(...written);
      }
      await this.charge(tx, inserted, now);
      return inserted.map((charge) => ({ ...charge, spend: toNumber(charge.spend) }));
    });
  }

  /** Newest first. */
  async list(filter: SpendLogFilter, page: PageRequest): Promise<Page<SpendLogRow>> {
    const base = filtered(this.database.db.selectFrom("xgate_spend_logs"), filter);
    const [count, rows] = await Promise.all([
      base.select((eb) => eb.fn.countAll().as("total")).executeTakeFirstOrThrow(),
      base
        .selectAll()
        .orderBy("startTime", "desc")
        .orderBy("request_id", "desc")
        .limit(page.size)
        .offset((page.page - 1) * page.size)
        .execute(),
    ]);
    return { items: rows.map(toRow), total: toNumber(count.total) };
  }

  /** One entry per UTC day of the range, days without spend included. */
  async daily(filter: SpendLogFilter & Required<TimeRange>): Promise<DaySpend[]> {
    const day = dayOf(this.database.dialect);
    const groups = await filtered(this.database.db.selectFrom("xgate_spend_logs"), filter)
      .select((eb) => [day.as("day"), "api_key", "user", "model", eb.fn.sum<number | string>("spend").as("spend")])
      .groupBy([day, "api_key", "user", "model"])
      .execute();
    const byDay = new Map(daysBetween(filter.start, filter.end).map((d): [string, DaySpend] => [d, { day: d, spend: 0, api_keys: {}, users: {}, models: {} }]));
    for (const group of groups) {
      const entry = byDay.get(group.day);
      if (!entry) continue;
      const spend = toNumber(group.spend);
      entry.spend += spend;
      entry.api_keys[group.api_key] = (entry.api_keys[group.api_key] ?? 0) + spend;
      if (group.user !== null) entry.users[group.user] = (entry.users[group.user] ?? 0) + spend;
      entry.models[group.model] = (entry.models[group.model] ?? 0) + spend;
    }
    return [...byDay.values()];
  }

  /** The spend of every request in the range (all time without one). */
  async total(range: TimeRange = {}): Promise<number> {
    const row = await filtered(this.database.db.selectFrom("xgate_spend_logs"), range)
      .select((eb) => eb.fn.sum<number | string | null>("spend").as("spend"))
      .executeTakeFirstOrThrow();
    return toNumber(row.spend);
  }

  /** `/global/spend/report` in LiteLLM's shape (see spend-report.ts). */
  async report(grouping: SpendReportGrouping, range: Required<TimeRange>): Promise<SpendReport> {
    const day = dayOf(this.database.dialect);
    const rows = await filtered(this.database.db.selectFrom("xgate_spend_logs"), range)
      .leftJoin("xgate_teams", "xgate_teams.team_id", "xgate_spend_logs.team_id")
      .select((eb) => [
        day.as("day"),
        "xgate_spend_logs.team_id",
        "xgate_teams.team_alias",
        "xgate_spend_logs.api_key",
        "xgate_spend_logs.model",
        eb.fn.sum<number | string>("xgate_spend_logs.spend").as("spend"),
        eb.fn.sum<number | string>("xgate_spend_logs.total_tokens").as("total_tokens"),
        eb.fn.sum<number | string>("xgate_spend_logs.prompt_tokens").as("prompt_tokens"),
        eb.fn.sum<number | string>("xgate_spend_logs.completion_tokens").as("completion_tokens"),
      ])
      .groupBy([day, "xgate_spend_logs.team_id", "xgate_teams.team_alias", "xgate_spend_logs.api_key", "xgate_spend_logs.model"])
      .orderBy(day)
      .execute();
    const reportRows: ReportRow[] = rows.map((row) => ({
      day: row.day,
      team_id: row.team_id,
      team_alias: row.team_alias,
      api_key: row.api_key,
      model: row.model,
      spend: toNumber(row.spend),
      total_tokens: toNumber(row.total_tokens),
      prompt_tokens: toNumber(row.prompt_tokens),
      completion_tokens: toNumber(row.completion_tokens),
    }));
    return spendReport(grouping, reportRows);
  }

  /** Requests, failures, tokens, spend and latency per hour or day of the range (see spend-activity.ts). */
  activity(range: Required<TimeRange>, interval: ActivityInterval): Promise<ActivityBucket[]> {
    return activity(this.database, range, interval);
  }

  /** The model groups with the most requests in the range, with their traffic per hour or day. */
  modelActivity(range: Required<TimeRange>, interval: ActivityInterval, limit: number): Promise<ModelActivity[]> {
    return modelActivity(this.database, range, interval, limit);
  }

  /** The keys that spent most in the range. */
  topKeys(range: Required<TimeRange>, limit: number): Promise<KeyActivity[]> {
    return topKeys(this.database, range, limit);
  }

  /** The model groups that cost most in the range. */
  topModels(range: Required<TimeRange>, limit: number): Promise<ModelSpend[]> {
    return topModels(this.database, range, limit);
  }

  /**
   * Deletes rows that started before `cutoff`, `batchSize` at a time with a pause for other work between
   * batches; answers how many. Keys and teams keep their spend: only the log is trimmed.
   */
  async deleteOlderThan(cutoff: Date, batchSize = RETENTION_BATCH): Promise<number> {
    const db = this.database.db;
    let deleted = 0;
    for (;;) {
      const result = await db
        .deleteFrom("xgate_spend_logs")
        .where("request_id", "in", db.selectFrom("xgate_spend_logs").select("request_id").where("startTime", "<", iso(cutoff)).limit(batchSize))
        .executeTakeFirst();
      const count = Number(result.numDeletedRows);
      deleted += count;
      if (count < batchSize) return deleted;
      await new Promise((resolve) => setImmediate(resolve));
    }
  }

  private async charge(tx: Kysely<Tables>, rows: ReadonlyArray<{ api_key: string; team_id: string | null; spend: number }>, now: Date): Promise<void> {
    for (const [token, amount] of sums(rows.map((r) => ({ key: r.api_key, spend: toNumber(r.spend) })))) await addKeySpend(tx, token, amount, now);
    for (const [teamId, amount] of sums(rows.map((r) => ({ key: r.team_id, spend: toNumber(r.spend) })))) await addTeamSpend(tx, teamId, amount, now);
  }
}
