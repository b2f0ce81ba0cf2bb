/**
 * Virtual keys, by the SHA-256 hex of the key (`token`). A key that was regenerated keeps its old hash as
 * `previous_token`: lookups accept it until `previous_token_expires` (the grace period; none: never), and
 * spend recorded under it still reaches the key — requests in flight at the regenerate are charged.
 * A token is refused when it is any key's token or previous token, so that a hash names one key.
 */
import { type Kysely, type Selectable, sql } from "kysely";
import { addSpend, firstResetAt, periodWasOver } from "./budget.js";
import { flag, fromJson, iso, isoOrNull, toDate, toDateOrNull, toNumber, toNumberOrNull } from "./codec.js";
import { type Database, writeTransaction } from "./database.js";
import { isUniqueViolation, StoreConflictError } from "./errors.js";
import type { KeyChanges, KeyRecord, NewKey, Page, PageRequest } from "./records.js";
import type { KeysTable, Tables } from "./tables.js";

export interface KeyFilter {
  key_alias?: string;
  team_id?: string;
  /** Text found, whatever its case, in the key's alias, its name (`sk-...abcd`) or its team's id. */
  search?: string;
}

/** `text` as a LIKE pattern that matches it anywhere, its own `%`, `_` and `\\` taken literally. */
function containing(text: string): string {
  return `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

export interface Regeneration {
  /** The new key's hash. */
  token: string;
  key_name: string | null;
  /** Until when the old key keeps working; undefined: it stops now. */
  graceUntil?: Date;
  /** Fields to change at the same time, as `/key/regenerate` allows. */
  changes?: KeyChanges;
}

function toKey(row: Selectable<KeysTable>): KeyRecord {
  return {
    token: row.token,
    key_name: row.key_name,
    key_alias: row.key_alias,
    models: fromJson<string[]>(row.models),
    aliases: fromJson<Record<string, string>>(row.aliases),
    metadata: fromJson<Record<string, unknown>>(row.metadata),
    max_budget: row.max_budget,
    soft_budget: row.soft_budget,
    spend: toNumber(row.spend),
    budget_duration: row.budget_duration,
    budget_reset_at: toDateOrNull(row.budget_reset_at),
    rpm_limit: toNumberOrNull(row.rpm_limit),
    tpm_limit: toNumberOrNull(row.tpm_limit),
    max_parallel_requests: toNumberOrNull(row.max_parallel_requests),
    expires: toDateOrNull(row.expires),
    blocked: Boolean(row.blocked),
    team_id: row.team_id,
    previous_token: row.previous_token,
    previous_token_expires: toDateOrNull(row.previous_token_expires),
    allowed_cache_controls: fromJson<string[]>(row.allowed_cache_controls),
    created_at: toDate(row.created_at),
    updated_at: toDate(row.updated_at),
  };
}

/** The columns a change writes; fields left undefined are not touched. */
function columnsOf(changes: KeyChanges) {
  return {
    ...(changes.key_name !== undefined && { key_name: changes.key_name }),
    ...(changes.key_alias !== undefined && { key_alias: changes.key_alias }),
    ...(changes.models !== undefined && { models: JSON.stringify(changes.models) }),
    ...(changes.aliases !== undefined && { aliases: JSON.stringify(changes.aliases) }),
    ...(changes.metadata !== undefined && { metadata: JSON.stringify(changes.metadata) }),
    ...(changes.max_budget !== undefined && { max_budget: changes.max_budget }),
    ...(changes.soft_budget !== undefined && { soft_budget: changes.soft_budget }),
    ...(changes.spend !== undefined && { spend: changes.spend }),
    ...(changes.budget_duration !== undefined && { budget_duration: changes.budget_duration }),
    ...(changes.rpm_limit !== undefined && { rpm_limit: changes.rpm_limit }),
    ...(changes.tpm_limit !== undefined && { tpm_limit: changes.tpm_limit }),
    ...(changes.max_parallel_requests !== undefined && { max_parallel_requests: changes.max_parallel_requests }),
    ...(changes.expires !== undefined && { expires: isoOrNull(changes.expires) }),
    ...(changes.blocked !== undefined && { blocked: flag(changes.blocked) }),
    ...(changes.team_id !== undefined && { team_id: changes.team_id }),
    ...(changes.allowed_cache_controls !== undefined && { allowed_cache_controls: JSON.stringify(changes.allowed_cache_controls) }),
  };
}

/** Why a token or alias cannot be used, looked up with `db` (the transaction, or after it failed). */
async function conflictOf(db: Kysely<Tables>, token: string | undefined, alias: string | null | undefined): Promise<StoreConflictError | undefined> {
  if (token !== undefined) {
    const taken = await db
      .selectFrom("xgate_keys")
      .select("token")
      .where((eb) => eb.or([eb("token", "=", token), eb("previous_token", "=", token)]))
      .executeTakeFirst();
    if (taken) return new StoreConflictError("token");
  }
  if (alias) {
    const taken = await db.selectFrom("xgate_keys").select("token").where("key_alias", "=", alias).executeTakeFirst();
    if (taken) return new StoreConflictError("key_alias");
  }
  return undefined;
}

/** Adds spend to the key whose token or previous token `token` is (see the module's note); none: nothing. */
export async function addKeySpend(tx: Kysely<Tables>, token: string, amount: number, now: Date): Promise<void> {
  const row = await tx
    .selectFrom("xgate_keys")
    .select(["token", "budget_duration", "budget_reset_at"])
    .where((eb) => eb.or([eb("token", "=", token), eb("previous_token", "=", token)]))
    .executeTakeFirst();
  if (row) await addSpend(tx, "xgate_keys", { id: row.token, ...row }, amount, now);
}

export class KeyRepository {
  constructor(
    private readonly database: Database,
    private readonly now: () => Date,
  ) {}

  /** Throws StoreConflictError when the token or the alias is taken. */
  async create(key: NewKey): Promise<KeyRecord> {
    const now = this.now();
    return this.refusingDuplicates(key.token, key.key_alias, () =>
      writeTransaction(this.database, async (tx) => {
        const conflict = await conflictOf(tx, key.token, key.key_alias);
        if (conflict) throw conflict;
        const row = await tx
          .insertInto("xgate_keys")
          .values({
            token: key.token,
            models: "[]",
            aliases: "{}",
            metadata: "{}",
            blocked: 0,
            ...columnsOf(key),
            budget_reset_at: isoOrNull(firstResetAt(key.budget_duration, now)),
            created_at: iso(now),
            updated_at: iso(now),
          })
          .returningAll()
          .executeTakeFirstOrThrow();
        return toKey(row);
      }),
    );
  }

  /**
   * The key `token` names — its token, or its previous token within the grace period — with its budget
   * reset if the period is over. Expired and blocked keys are answered too: the caller says why it refuses.
   */
  async findByToken(token: string): Promise<KeyRecord | undefined> {
    const now = this.now();
    const row = await this.database.db
      .selectFrom("xgate_keys")
      .selectAll()
      .where((eb) =>
        eb.or([eb("token", "=", token), eb.and([eb("previous_token", "=", token), eb("previous_token_expires", ">", iso(now))])]),
      )
      .executeTakeFirst();
    return row && this.withCurrentBudget(toKey(row), now);
  }

  /** Answers undefined when no key has this token; throws StoreConflictError when the new alias is taken. */
  async update(token: string, changes: KeyChanges): Promise<KeyRecord | undefined> {
    const now = this.now();
    return this.refusingDuplicates(undefined, changes.key_alias, () =>
      writeTransaction(this.database, async (tx) => {
        const current = await tx.selectFrom("xgate_keys").select(["key_alias", "budget_duration"]).where("token", "=", token).executeTakeFirst();
        if (!current) return undefined;
        if (changes.key_alias && changes.key_alias !== current.key_alias) {
          const conflict = await conflictOf(tx, undefined, changes.key_alias);
          if (conflict) throw conflict;
        }
        const row = await tx
          .updateTable("xgate_keys")
          .set({ ...columnsOf(changes), ...this.periodChange(changes, current.budget_duration, now), updated_at: iso(now) })
          .where("token", "=", token)
          .returningAll()
          .executeTakeFirstOrThrow();
        return toKey(row);
      }),
    );
  }

  /**
   * A new token for the key, limits and spend kept; the old one works until `graceUntil`. Answers undefined
   * when no key has `token`; throws StoreConflictError when the new token (or a changed alias) is taken.
   */
  async regenerate(token: string, regeneration: Regeneration): Promise<KeyRecord | undefined> {
    const now = this.now();
    const changes = regeneration.changes ?? {};
    return this.refusingDuplicates(regeneration.token, changes.key_alias, () =>
      writeTransaction(this.database, async (tx) => {
        const current = await tx.selectFrom("xgate_keys").select(["key_alias", "budget_duration"]).where("token", "=", token).executeTakeFirst();
        if (!current) return undefined;
        const alias = changes.key_alias && changes.key_alias !== current.key_alias ? changes.key_alias : undefined;
        const conflict = await conflictOf(tx, regeneration.token, alias);
        if (conflict) throw conflict;
        const row = await tx
          .updateTable("xgate_keys")
          .set({
            ...columnsOf(changes),
            ...this.periodChange(changes, current.budget_duration, now),
            token: regeneration.token,
            key_name: regeneration.key_name,
            previous_token: token,
            previous_token_expires: iso(regeneration.graceUntil ?? now),
            updated_at: iso(now),
          })
          .where("token", "=", token)
          .returningAll()
          .executeTakeFirstOrThrow();
        return toKey(row);
      }),
    );
  }

  /** Deletes the keys with these tokens or aliases; answers the ones deleted. */
  async delete(which: { tokens?: readonly string[]; aliases?: readonly string[] }): Promise<Array<Pick<KeyRecord, "token" | "key_alias">>> {
    const tokens = which.tokens ?? [];
    const aliases = which.aliases ?? [];
    if (tokens.length === 0 && aliases.length === 0) return [];
    return this.database.db
      .deleteFrom("xgate_keys")
      .where((eb) =>
        eb.or([...(tokens.length > 0 ? [eb("token", "in", tokens)] : []), ...(aliases.length > 0 ? [eb("key_alias", "in", aliases)] : [])]),
      )
      .returning(["token", "key_alias"])
      .execute();
  }

  /** Oldest first, so that pages stay put while keys are added. */
  async list(page: PageRequest, filter: KeyFilter = {}): Promise<Page<KeyRecord>> {
    let query = this.database.db.selectFrom("xgate_keys");
    if (filter.key_alias !== undefined) query = query.where("key_alias", "=", filter.key_alias);
    if (filter.team_id !== undefined) query = query.where("team_id", "=", filter.team_id);
    const search = filter.search;
    if (search !== undefined && search !== "") {
      // Postgres's LIKE minds case and SQLite's does not (for ASCII): lower() on both sides makes them agree.
      const pattern = containing(search.toLowerCase());
      query = query.where((eb) =>
        eb.or(
          (["key_alias", "key_name", "team_id"] as const).map((column) => eb(eb.fn("lower", [eb.ref(column)]), "like", sql<string>`${pattern} escape '\\'`)),
        ),
      );
    }
    const [count, rows] = await Promise.all([
      query.select((eb) => eb.fn.countAll().as("total")).executeTakeFirstOrThrow(),
      query
        .selectAll()
        .orderBy("created_at")
        .orderBy("token")
        .limit(page.size)
        .offset((page.page - 1) * page.size)
        .execute(),
    ]);
    const now = this.now();
    const items = await Promise.all(rows.map((row) => this.withCurrentBudget(toKey(row), now)));
    return { items, total: toNumber(count.total) };
  }

  /** Adds spend to the key (or the key that `token` was before a regenerate), resetting a period that is over. */
  async addSpend(token: string, amount: number): Promise<void> {
    const now = this.now();
    await writeTransaction(this.database, (tx) => addKeySpend(tx, token, amount, now));
  }

  /** A new `budget_duration` starts a new period now. */
  private periodChange(changes: KeyChanges, duration: string | null, now: Date): { budget_reset_at?: string | null } {
    if (changes.budget_duration === undefined || changes.budget_duration === duration) return {};
    return { budget_reset_at: isoOrNull(firstResetAt(changes.budget_duration, now)) };
  }

  private async withCurrentBudget(key: KeyRecord, now: Date): Promise<KeyRecord> {
    if (!(await periodWasOver(this.database.db, "xgate_keys", { id: key.token, ...key }, now))) return key;
    const row = await this.database.db.selectFrom("xgate_keys").selectAll().where("token", "=", key.token).executeTakeFirst();
    return row ? toKey(row) : key;
  }

  /** A unique constraint that fired between our check and our write (another instance won): the same error. */
  private async refusingDuplicates<T>(token: string | undefined, alias: string | null | undefined, write: () => Promise<T>): Promise<T> {
    try {
      return await write();
    } catch (error) {
      if (!isUniqueViolation(error)) throw error;
      throw (await conflictOf(this.database.db, token, alias)) ?? error;
    }
  }
}
