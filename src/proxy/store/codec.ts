/** Values to and from either database (see tables.ts for why they differ). */

export function iso(at: Date): string {
  return at.toISOString();
}

export function isoOrNull(at: Date | null | undefined): string | null {
  return at ? at.toISOString() : null;
}

export function toDate(value: Date | string): Date {
  return value instanceof Date ? value : new Date(value);
}

export function toDateOrNull(value: Date | string | null): Date | null {
  return value === null ? null : toDate(value);
}

/** Postgres returns jsonb parsed, SQLite the text that was written. */
export function fromJson<T>(value: unknown): T {
  return (typeof value === "string" ? JSON.parse(value) : value) as T;
}

/** bigint and aggregates come back from pg as text. */
export function toNumber(value: number | string | bigint | null | undefined): number {
  return value === null || value === undefined ? 0 : Number(value);
}

export function toNumberOrNull(value: number | string | null): number | null {
  return value === null ? null : Number(value);
}

export function flag(value: boolean): number {
  return value ? 1 : 0;
}
