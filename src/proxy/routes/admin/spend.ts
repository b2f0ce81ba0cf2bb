/**
 * LiteLLM's spend routes: `/spend/logs` (the rows, or per-day totals over a date range, as LiteLLM answers
 * by default when both dates are given), `/global/spend` and `/global/spend/report`. Dates are UTC days
 * (`2025-03-01`, the whole day counted) or exact ISO 8601 times.
 */
import { BadRequestError } from "../../../errors.js";
import type { DaySpend, SpendLogFilter, TimeRange } from "../../store/index.js";
import { type AdminRoute, readQuery } from "./context.js";
import { tokenOf } from "./lookups.js";
import { noQuery, spendLogsQuery, spendReportQuery } from "./validation.js";

const DAY_MS = 86_400_000;
/** The longest range summed by day: one entry per day is answered, so the answer's size is bounded. */
const MAX_SUMMARY_DAYS = 3660;
const DAY_ONLY = /^\d{4}-\d{2}-\d{2}$/;

/** How many rows `/spend/logs` matched over all pages. */
export const TOTAL_COUNT_HEADER = "x-xgate-total-count";

function startOf(text: string): Date {
  return new Date(DAY_ONLY.test(text) ? `${text}T00:00:00.000Z` : text);
}

/** A day given as the end counts whole: the range ends when the next day starts. */
function endOf(text: string): Date {
  const at = startOf(text);
  return DAY_ONLY.test(text) ? new Date(at.getTime() + DAY_MS) : at;
}

export function closedRange(startDate: string, endDate: string): Required<TimeRange> {
  const start = startOf(startDate);
  const end = endOf(endDate);
  if (start >= end) {
    throw new BadRequestError(`end_date (${endDate}) is not after start_date (${startDate}): give a later end_date, or swap them.`, {
      code: "invalid_date_range",
      param: "end_date",
    });
  }
  return { start, end };
}

/** Either bound may be left out. */
function rangeOf(startDate: string | undefined, endDate: string | undefined): TimeRange {
  if (startDate !== undefined && endDate !== undefined) return closedRange(startDate, endDate);
  return { ...(startDate !== undefined && { start: startOf(startDate) }), ...(endDate !== undefined && { end: endOf(endDate) }) };
}

/** LiteLLM's per-day entry: the day as `startTime`, totals by user and model, and each key's hash as a field of its own. */
function litellmDay(day: DaySpend): Record<string, unknown> {
  return { ...day.api_keys, startTime: day.day, spend: day.spend, users: day.users, models: day.models };
}

const logs: AdminRoute = {
  method: "GET",
  url: "/spend/logs",
  access: "master",
  async handle(ctx, request, reply) {
    const query = readQuery(request, spendLogsQuery);
    const { start, end } = rangeOf(query.start_date, query.end_date);
    const filter: SpendLogFilter = {
      ...(start && { start }),
      ...(end && { end }),
      ...(query.api_key !== undefined && { api_key: tokenOf(query.api_key) }),
      ...(query.request_id !== undefined && { request_id: query.request_id }),
      ...(query.model !== undefined && { model: query.model }),
    };
    if (query.summarize && start && end) {
      if (end.getTime() - start.getTime() > MAX_SUMMARY_DAYS * DAY_MS) {
        throw new BadRequestError(
          `A per-day summary covers at most ${MAX_SUMMARY_DAYS} days: narrow start_date..end_date, or ask for the rows with summarize=false.`,
          { code: "invalid_date_range", param: "end_date" },
        );
      }
      return (await ctx.store.spendLogs.daily({ ...filter, start, end })).map(litellmDay);
    }
    const { items, total } = await ctx.store.spendLogs.list(filter, { page: query.page, size: query.size });
    reply.header(TOTAL_COUNT_HEADER, String(total));
    return items;
  },
};

const total: AdminRoute = {
  method: "GET",
  url: "/global/spend",
  access: "master",
  async handle(ctx, request) {
    readQuery(request, noQuery);
    // Every logged request's spend; xgate has no proxy-wide budget, so max_budget is null.
    return { spend: await ctx.store.spendLogs.total(), max_budget: null };
  },
};

const report: AdminRoute = {
  method: "GET",
  url: "/global/spend/report",
  access: "master",
  async handle(ctx, request) {
    const query = readQuery(request, spendReportQuery);
    return ctx.store.spendLogs.report(query.group_by, closedRange(query.start_date, query.end_date));
  },
};

export const SPEND_ROUTES: readonly AdminRoute[] = [logs, total, report];
