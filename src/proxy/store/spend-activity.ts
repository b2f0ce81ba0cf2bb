/**
 * Traffic over time from the spend log, for `/global/activity*` and `/global/spend/keys|models`: requests,
 * failures, tokens, spend and latency per hour or day, per model group, and the top keys and models.
 * Latency percentiles come from a histogram the database fills (a fixed set of bins, each 20% wider than
 * the last), so that a month of rows is summed in SQL and never read one by one: p50 and p99 are exact to
 * within a bin, about ±10%.
 */
import { type RawBuilder, sql } from "kysely";
import { toNumber } from "./codec.js";
import type { Database, DialectName } from "./database.js";
import type { TimeRange } from "./records.js";

export type ActivityInterval = "hour" | "day";

/** One hour or day of traffic. */
export interface ActivityBucket {
  /** The bucket's start: `YYYY-MM-DD` for a day, an ISO 8601 time for an hour (UTC). */
  date: string;
  api_requests: number;
  failed_requests: number;
  total_tokens: number;
  spend: number;
  /** Null when the bucket had no request. */
  latency_p50_ms: number | null;
  latency_p99_ms: number | null;
}

/** A model group's traffic: LiteLLM's `/global/activity/model` entry, with failures and spend added. */
export interface ModelActivity {
  model: string;
  daily_data: Array<Pick<ActivityBucket, "date" | "api_requests" | "failed_requests" | "total_tokens" | "spend">>;
  sum_api_requests: number;
  sum_total_tokens: number;
  sum_failed_requests: number;
  sum_spend: number;
}

/** A key's spend over a range: LiteLLM's `/global/spend/keys` row, with its request count. */
export interface KeyActivity {
  /** The key's hash; '' for the master key. */
  api_key: string;
  key_alias: string | null;
  key_name: string | null;
  total_spend: number;
  api_requests: number;
}

/** LiteLLM's `/global/spend/models` row, with the request count. */
export interface ModelSpend {
  model: string;
  total_spend: number;
  api_requests: number;
}

const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;

/** Upper bounds of the latency bins in ms: 1 ms to about 2 hours, each 20% wider. */
const BIN_BOUNDS: readonly number[] = (() => {
  const bounds: number[] = [];
  for (let bound = 1; bound < 7_200_000; bound *= 1.2) bounds.push(Math.round(bound * 1000) / 1000);
  return bounds;
})();

function durationMs(dialect: DialectName): RawBuilder<number> {
  return dialect === "postgres"
    ? sql<number>`extract(epoch from ("endTime" - "startTime")) * 1000`
    : sql<number>`(julianday("endTime") - julianday("startTime")) * 86400000.0`;
}

/** The bin index of a latency `d` (ms): the first bound it is under (the last bin holds the rest). */
const LATENCY_BIN: RawBuilder<number> = sql<number>`case ${sql.join(
  BIN_BOUNDS.map((bound, i) => sql`when d < ${sql.lit(bound)} then ${sql.lit(i)}`),
  sql` `,
)} else ${sql.lit(BIN_BOUNDS.length)} end`;

/** `YYYY-MM-DD` for a day; `YYYY-MM-DDTHH` for an hour (made a whole time in JS). */
function bucketOf(dialect: DialectName, interval: ActivityInterval): RawBuilder<string> {
  if (dialect === "postgres") {
    return interval === "day"
      ? sql<string>`to_char("startTime" at time zone 'UTC', 'YYYY-MM-DD')`
      : sql<string>`to_char("startTime" at time zone 'UTC', 'YYYY-MM-DD"T"HH24')`;
  }
  return interval === "day" ? sql<string>`substr("startTime", 1, 10)` : sql<string>`substr("startTime", 1, 13)`;
}

function bucketLabel(interval: ActivityInterval, key: string): string {
  return interval === "day" ? key : `${key}:00:00.000Z`;
}

/** Every bucket's key from `start`'s to the one before `end`. */
function bucketKeys(range: Required<TimeRange>, interval: ActivityInterval): string[] {
  const step = interval === "day" ? DAY_MS : HOUR_MS;
  const keys: string[] = [];
  for (let at = Math.floor(range.start.getTime() / step) * step; at < range.end.getTime(); at += step) {
    keys.push(new Date(at).toISOString().slice(0, interval === "day" ? 10 : 13));
  }
  return keys;
}

/** The value a bin stands for: the geometric middle of its bounds. */
function binValue(bin: number): number {
  const upper = BIN_BOUNDS[Math.min(bin, BIN_BOUNDS.length - 1)] ?? 1;
  const lower = bin === 0 ? 0 : (BIN_BOUNDS[bin - 1] ?? 0);
  return bin === 0 ? upper / 2 : Math.round(Math.sqrt(lower * upper) * 10) / 10;
}

function percentile(bins: ReadonlyMap<number, number>, total: number, q: number): number | null {
  if (total === 0) return null;
  const rank = Math.max(1, Math.ceil(q * total));
  let seen = 0;
  for (const bin of [...bins.keys()].sort((a, b) => a - b)) {
    seen += bins.get(bin) ?? 0;
    if (seen >= rank) return binValue(bin);
  }
  return null;
}

const inRange = (range: Required<TimeRange>) => [range.start.toISOString(), range.end.toISOString()] as const;

export async function activity(database: Database, range: Required<TimeRange>, interval: ActivityInterval): Promise<ActivityBucket[]> {
  const [start, end] = inRange(range);
  // Each row's latency computed once, in a subquery; the outer query bins and sums it.
  const rows = await database.db
    .selectFrom((db) =>
      db
        .selectFrom("xgate_spend_logs")
        .where("startTime", ">=", start)
        .where("startTime", "<", end)
        .select([bucketOf(database.dialect, interval).as("bucket"), durationMs(database.dialect).as("d"), "status", "total_tokens", "spend"])
        .as("r"),
    )
    .select((eb) => [
      "r.bucket",
      LATENCY_BIN.as("bin"),
      eb.fn.countAll<number | string>().as("requests"),
      sql<number | string>`sum(case when status = 'failure' then 1 else 0 end)`.as("failures"),
      eb.fn.sum<number | string>("r.total_tokens").as("tokens"),
      eb.fn.sum<number | string>("r.spend").as("spend"),
    ])
    .groupBy(["r.bucket", LATENCY_BIN])
    .execute();
  const buckets = new Map(bucketKeys(range, interval).map((key) => [key, { requests: 0, failures: 0, tokens: 0, spend: 0, bins: new Map<number, number>() }]));
  for (const row of rows) {
    const entry = buckets.get(row.bucket);
    if (!entry) continue;
    const requests = toNumber(row.requests);
    entry.requests += requests;
    entry.failures += toNumber(row.failures);
    entry.tokens += toNumber(row.tokens);
    entry.spend += toNumber(row.spend);
    const binIndex = toNumber(row.bin);
    entry.bins.set(binIndex, (entry.bins.get(binIndex) ?? 0) + requests);
  }
  return [...buckets].map(([key, entry]) => ({
    date: bucketLabel(interval, key),
    api_requests: entry.requests,
    failed_requests: entry.failures,
    total_tokens: entry.tokens,
    spend: entry.spend,
    latency_p50_ms: percentile(entry.bins, entry.requests, 0.5),
    latency_p99_ms: percentile(entry.bins, entry.requests, 0.99),
  }));
}

/** The `limit` model groups with the most requests in the range, each with its traffic per bucket. */
export async function modelActivity(database: Database, range: Required<TimeRange>, interval: ActivityInterval, limit: number): Promise<ModelActivity[]> {
  const bucket = bucketOf(database.dialect, interval);
  const model = sql<string>`coalesce(model_group, model)`;
  const [start, end] = inRange(range);
  const rows = await database.db
    .selectFrom("xgate_spend_logs")
    .where("startTime", ">=", start)
    .where("startTime", "<", end)
    .select((eb) => [
      model.as("model"),
      bucket.as("bucket"),
      eb.fn.countAll<number | string>().as("requests"),
      sql<number | string>`sum(case when status = 'failure' then 1 else 0 end)`.as("failures"),
      eb.fn.sum<number | string>("total_tokens").as("tokens"),
      eb.fn.sum<number | string>("spend").as("spend"),
    ])
    .groupBy([model, bucket])
    .execute();
  const keys = bucketKeys(range, interval);
  const models = new Map<string, ModelActivity>();
  for (const row of rows) {
    let entry = models.get(row.model);
    if (!entry) {
      entry = {
        model: row.model,
        daily_data: keys.map((key) => ({ date: bucketLabel(interval, key), api_requests: 0, failed_requests: 0, total_tokens: 0, spend: 0 })),
        sum_api_requests: 0,
        sum_total_tokens: 0,
        sum_failed_requests: 0,
        sum_spend: 0,
      };
      models.set(row.model, entry);
    }
    const day = entry.daily_data[keys.indexOf(row.bucket)];
    if (!day) continue;
    day.api_requests += toNumber(row.requests);
    day.failed_requests += toNumber(row.failures);
    day.total_tokens += toNumber(row.tokens);
    day.spend += toNumber(row.spend);
    entry.sum_api_requests += toNumber(row.requests);
    entry.sum_failed_requests += toNumber(row.failures);
    entry.sum_total_tokens += toNumber(row.tokens);
    entry.sum_spend += toNumber(row.spend);
  }
  return [...models.values()].sort((a, b) => b.sum_api_requests - a.sum_api_requests || (a.model < b.model ? -1 : 1)).slice(0, limit);
}

/** The `limit` keys that spent most in the range (the most requests first among equals), with their alias and name. */
export async function topKeys(database: Database, range: Required<TimeRange>, limit: number): Promise<KeyActivity[]> {
  const [start, end] = inRange(range);
  const rows = await database.db
    .selectFrom("xgate_spend_logs")
    .leftJoin("xgate_keys", "xgate_keys.token", "xgate_spend_logs.api_key")
    .where("xgate_spend_logs.startTime", ">=", start)
    .where("xgate_spend_logs.startTime", "<", end)
    .select((eb) => [
      "xgate_spend_logs.api_key",
      "xgate_keys.key_alias",
      "xgate_keys.key_name",
      eb.fn.sum<number | string>("xgate_spend_logs.spend").as("total_spend"),
      eb.fn.countAll<number | string>().as("api_requests"),
    ])
    .groupBy(["xgate_spend_logs.api_key", "xgate_keys.key_alias", "xgate_keys.key_name"])
    .orderBy("total_spend", "desc")
    .orderBy("api_requests", "desc")
    .orderBy("xgate_spend_logs.api_key")
    .limit(limit)
    .execute();
  return rows.map((row) => ({
    api_key: row.api_key,
    key_alias: row.key_alias ?? null,
    key_name: row.key_name ?? null,
    total_spend: toNumber(row.total_spend),
    api_requests: toNumber(row.api_requests),
  }));
}

/** The `limit` model groups that cost most in the range. */
export async function topModels(database: Database, range: Required<TimeRange>, limit: number): Promise<ModelSpend[]> {
  const model = sql<string>`coalesce(model_group, model)`;
  const [start, end] = inRange(range);
  const rows = await database.db
    .selectFrom("xgate_spend_logs")
    .where("startTime", ">=", start)
    .where("startTime", "<", end)
    .select((eb) => [model.as("model"), eb.fn.sum<number | string>("spend").as("total_spend"), eb.fn.countAll<number | string>().as("api_requests")])
    .groupBy(model)
    .orderBy("total_spend", "desc")
    .orderBy("api_requests", "desc")
    .orderBy(model)
    .limit(limit)
    .execute();
  return rows.map((row) => ({ model: row.model, total_spend: toNumber(row.total_spend), api_requests: toNumber(row.api_requests) }));
}
