/**
 * Traffic over time, from the spend log, under LiteLLM's names and shapes where it has them:
 * `/global/activity` (requests and tokens per day, to which xgate adds failures, spend, latency p50/p99, and
 * `interval=hour`), `/global/activity/model` (the same per model group, the top `limit`), and the top keys and
 * models by spend, `/global/spend/keys` and `/global/spend/models` (the last 30 days unless dates are given).
 * An hour's or day's `date` is its start, in UTC.
 */
import { BadRequestError } from "../../../errors.js";
import type { ActivityInterval, TimeRange } from "../../store/index.js";
import { type AdminRoute, readQuery } from "./context.js";
import { closedRange } from "./spend.js";
import { activityQuery, modelActivityQuery, topSpendQuery } from "./validation.js";

const DAY_MS = 86_400_000;
/** The longest range per interval: one entry per hour or day is answered, so the answer's size is bounded. */
const MAX_RANGE_MS: Readonly<Record<ActivityInterval, number>> = { hour: 31 * DAY_MS, day: 3660 * DAY_MS };
const TOP_DEFAULT_DAYS = 30;

function boundedRange(startDate: string, endDate: string, interval: ActivityInterval): Required<TimeRange> {
  const range = closedRange(startDate, endDate);
  if (range.end.getTime() - range.start.getTime() > MAX_RANGE_MS[interval]) {
    const most = interval === "hour" ? "31 days by hour" : "3660 days by day";
    throw new BadRequestError(`/global/activity covers at most ${most}: narrow start_date..end_date${interval === "hour" ? ", or ask for interval=day" : ""}.`, {
      code: "invalid_date_range",
      param: "end_date",
    });
  }
  return range;
}

/** The dates given, or the 30 days up to now. */
function topRange(now: Date, startDate: string | undefined, endDate: string | undefined): Required<TimeRange> {
  if (startDate !== undefined && endDate !== undefined) return closedRange(startDate, endDate);
  if (startDate !== undefined || endDate !== undefined) {
    throw new BadRequestError("Give both start_date and end_date, or neither (the last 30 days).", { code: "invalid_date_range", param: startDate === undefined ? "start_date" : "end_date" });
  }
  return { start: new Date(now.getTime() - TOP_DEFAULT_DAYS * DAY_MS), end: now };
}

const globalActivity: AdminRoute = {
  method: "GET",
  url: "/global/activity",
  access: "master",
  async handle(ctx, request) {
    const query = readQuery(request, activityQuery);
    const daily = await ctx.store.spendLogs.activity(boundedRange(query.start_date, query.end_date, query.interval), query.interval);
    let requests = 0;
    let tokens = 0;
    let failures = 0;
    let spend = 0;
    for (const entry of daily) {
      requests += entry.api_requests;
      tokens += entry.total_tokens;
      failures += entry.failed_requests;
      spend += entry.spend;
    }
    return { daily_data: daily, sum_api_requests: requests, sum_total_tokens: tokens, sum_failed_requests: failures, sum_spend: spend };
  },
};

const modelActivity: AdminRoute = {
  method: "GET",
  url: "/global/activity/model",
  access: "master",
  async handle(ctx, request) {
    const query = readQuery(request, modelActivityQuery);
    return ctx.store.spendLogs.modelActivity(boundedRange(query.start_date, query.end_date, query.interval), query.interval, query.limit);
  },
};

const topKeys: AdminRoute = {
  method: "GET",
  url: "/global/spend/keys",
  access: "master",
  async handle(ctx, request) {
    const query = readQuery(request, topSpendQuery);
    return ctx.store.spendLogs.topKeys(topRange(ctx.now(), query.start_date, query.end_date), query.limit);
  },
};

const topModels: AdminRoute = {
  method: "GET",
  url: "/global/spend/models",
  access: "master",
  async handle(ctx, request) {
    const query = readQuery(request, topSpendQuery);
    return ctx.store.spendLogs.topModels(topRange(ctx.now(), query.start_date, query.end_date), query.limit);
  },
};

export const ACTIVITY_ROUTES: readonly AdminRoute[] = [globalActivity, modelActivity, topKeys, topModels];
