/**
 * LiteLLM's durations: a whole number and a unit — `30s`, `5m`, `1h`, `7d`, `2w`, `1mo` — as `budget_duration`,
 * a key's `duration` and `maximum_spend_logs_retention_period` take them. A bare number, a fraction or any
 * other unit (`1y`) is an error that names the value and the units, as LiteLLM's `duration_in_seconds` refuses
 * them. Months are calendar months (Jan 31 + 1mo = Feb 28/29), the way LiteLLM counts them.
 */

export const DURATION_UNITS = ["s", "m", "h", "d", "w", "mo"] as const;
export type DurationUnit = (typeof DURATION_UNITS)[number];

export interface Duration {
  count: number;
  unit: DurationUnit;
  /** As written, e.g. `30d`. */
  text: string;
}

const SECONDS: Readonly<Record<Exclude<DurationUnit, "mo">, number>> = { s: 1, m: 60, h: 3600, d: 86_400, w: 604_800 };
const PATTERN = /^(\d+)(mo|[smhdw])$/;

export const DURATION_HELP = "a whole number and a unit: s (seconds), m (minutes), h (hours), d (days), w (weeks) or mo (months), such as 30s, 1h, 7d or 1mo";

export class DurationError extends Error {
  override readonly name = "DurationError";
}

/**
 * @example
 * parseDuration("7d") // { count: 7, unit: "d", text: "7d" }
 */
export function parseDuration(text: string): Duration {
  const match = PATTERN.exec(text.trim());
  if (!match) throw new DurationError(`'${text}' is not a duration: use ${DURATION_HELP}`);
  const count = Number(match[1]);
  if (!Number.isSafeInteger(count) || count === 0) throw new DurationError(`'${text}' is not a duration: the number must be at least 1 (${DURATION_HELP})`);
  return { count, unit: match[2] as DurationUnit, text: text.trim() };
}

/** `at` moved by `times` durations (negative: back); months keep the day of the month, clamped to the month's last. */
export function addDuration(at: Date, duration: Duration, times = 1): Date {
  if (duration.unit !== "mo") return new Date(at.getTime() + times * duration.count * SECONDS[duration.unit] * 1000);
  const months = at.getUTCMonth() + times * duration.count;
  const target = new Date(Date.UTC(at.getUTCFullYear(), months, 1));
  const lastDay = new Date(Date.UTC(target.getUTCFullYear(), target.getUTCMonth() + 1, 0)).getUTCDate();
  target.setUTCDate(Math.min(at.getUTCDate(), lastDay));
  target.setUTCHours(at.getUTCHours(), at.getUTCMinutes(), at.getUTCSeconds(), at.getUTCMilliseconds());
  return target;
}

/**
 * The first of `start + k·duration` (k ≥ 1) that is after `now`: when a budget period that began at `start`
 * (its previous reset) next resets. Periods keep their cadence however long nothing was spent.
 */
export function nextPeriodEnd(start: Date, duration: Duration, now: Date): Date {
  if (duration.unit !== "mo") {
    const step = duration.count * SECONDS[duration.unit] * 1000;
    const elapsed = now.getTime() - start.getTime();
    const periods = elapsed < 0 ? 1 : Math.floor(elapsed / step) + 1;
    return new Date(start.getTime() + periods * step);
  }
  const monthsApart = (now.getUTCFullYear() - start.getUTCFullYear()) * 12 + now.getUTCMonth() - start.getUTCMonth();
  let periods = Math.max(1, Math.floor(monthsApart / duration.count));
  while (addDuration(start, duration, periods) <= now) periods++;
  return addDuration(start, duration, periods);
}
