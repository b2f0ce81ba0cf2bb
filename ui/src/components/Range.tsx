/** The time range a page shows: the last 24 hours (by hour), 7 or 30 days (by day). */
import { dayOf } from "../format";

export type RangeName = "24h" | "7d" | "30d";

export interface RangeQuery {
  start_date: string;
  end_date: string;
  interval: "hour" | "day";
}

export function rangeQuery(name: RangeName, now = new Date()): RangeQuery {
  if (name === "24h") {
    // To the end of the current hour, so that the hour now under way is in the range.
    const end = new Date((Math.floor(now.getTime() / 3_600_000) + 1) * 3_600_000);
    return { start_date: new Date(end.getTime() - 24 * 3_600_000).toISOString(), end_date: end.toISOString(), interval: "hour" };
  }
  const days = name === "7d" ? 7 : 30;
  return { start_date: dayOf(new Date(now.getTime() - (days - 1) * 86_400_000)), end_date: dayOf(now), interval: "day" };
}

const NAMES: Record<RangeName, string> = { "24h": "24 hours", "7d": "7 days", "30d": "30 days" };

export function RangePicker({ value, onChange }: { value: RangeName; onChange: (next: RangeName) => void }) {
  return (
    <label className="field">
      <span>Range</span>
      <select value={value} onChange={(event) => onChange(event.target.value as RangeName)}>
        {(Object.keys(NAMES) as RangeName[]).map((name) => (
          <option key={name} value={name}>
            Last {NAMES[name]}
          </option>
        ))}
      </select>
    </label>
  );
}
