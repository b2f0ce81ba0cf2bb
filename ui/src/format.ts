/** How numbers, money, times and keys are written across the console. */
const money = new Intl.NumberFormat("en-US", { style: "currency", currency: "USD", minimumFractionDigits: 2, maximumFractionDigits: 4 });
const count = new Intl.NumberFormat("en-US");
const compact = new Intl.NumberFormat("en-US", { notation: "compact", maximumFractionDigits: 1 });

export const formatMoney = (value: number): string => money.format(value);
export const formatCount = (value: number): string => count.format(value);
export const formatCompact = (value: number): string => compact.format(value);
export const formatPercent = (value: number): string => `${(value * 100).toFixed(value < 0.1 ? 1 : 0)}%`;

export function formatMs(value: number | null | undefined): string {
  if (value === null || value === undefined) return "—";
  return value >= 1000 ? `${(value / 1000).toFixed(value >= 10_000 ? 0 : 1)} s` : `${Math.round(value)} ms`;
}

export function formatTime(iso: string | null | undefined): string {
  if (!iso) return "—";
  return new Date(iso).toLocaleString("en-GB", { dateStyle: "medium", timeStyle: "short", timeZone: "UTC" }) + " UTC";
}

/** A chart's x label: the hour (`14:00`) or the day (`Mar 10`), in UTC like the data. */
export function bucketLabel(date: string): string {
  if (date.length === 10) return new Date(`${date}T00:00:00Z`).toLocaleDateString("en-US", { month: "short", day: "numeric", timeZone: "UTC" });
  return new Date(date).toLocaleTimeString("en-GB", { hour: "2-digit", minute: "2-digit", timeZone: "UTC" });
}

/** A key as people know it: its alias, else its shown name (sk-...abcd); the master key's rows have no key. */
export function keyLabel(key: { api_key?: string; key_alias: string | null; key_name: string | null }): string {
  if (key.api_key === "") return "master key";
  return key.key_alias ?? key.key_name ?? "unnamed key";
}

/** UTC day `YYYY-MM-DD` of a time. */
export const dayOf = (at: Date): string => at.toISOString().slice(0, 10);
