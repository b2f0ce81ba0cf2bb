/** What the repositories throw that a caller can act on: anything else is the database failing. */

/** A value that must be unique is taken: a key's token or alias, a team's id. */
export class StoreConflictError extends Error {
  override readonly name = "StoreConflictError";
  constructor(readonly field: "token" | "key_alias" | "team_id") {
    super(`another row already has this ${field}`);
  }
}

/** A unique constraint refused the write (Postgres 23505; SQLite SQLITE_CONSTRAINT_UNIQUE / _PRIMARYKEY). */
export function isUniqueViolation(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === "23505" || code === "SQLITE_CONSTRAINT_UNIQUE" || code === "SQLITE_CONSTRAINT_PRIMARYKEY";
}
