/**
 * The virtual keys this instance knows, so that checking a key on the request path is a Map lookup and not
 * a database query.
 *
 * - A miss reads the key (and its team) from the store; concurrent misses for one token share one read, and
 *   the wait is bounded (`loadTimeoutMs`): past it, or when the database fails, the lookup fails with a 503
 *   (`key_store_unavailable`) instead of hanging.
 * - An entry older than `refreshAfterMs` is answered as it is while it is re-read in the background
 *   (stale-while-revalidate); one older than `maxAgeMs`, or one an invalidation named, is re-read before it
 *   is answered — again bounded — so that no instance serves a change later than that. A re-read that fails
 *   or times out keeps the entry (and tries again after `refreshAfterMs`): keys already known keep working
 *   while the database is away.
 * - Timing depends on whether changes are notified (see invalidation.ts): alone, entries live ~1 s, so that
 *   workers sharing one SQLite file see each other's changes within a second; with a live pub/sub
 *   subscription, invalidations arrive as they happen and re-reads are only a safety net.
 * - Tokens found nowhere are answered as unknown for `absentMs`, from a bounded map (oldest out first), so
 *   that a client retrying a bad key makes no query each time; reads at the database at once are bounded
 *   (read-slots.ts), so that a flood of made-up keys cannot take the whole connection pool.
 * - A team's row is shared by its keys (read once per `refreshAfterMs`); a team change re-reads the team and
 *   its keys.
 * - What changes by the clock alone is judged at lookup: a previous token's grace ending, a budget period
 *   ending (the entry is then answered with that spend back at 0 while the store's reset is re-read).
 *   Expiry is the authenticate stage's check (auth/virtual-key.ts), also against the clock.
 */
import { ServiceUnavailableError } from "../../errors.js";
import type { VirtualKey } from "../auth/principal.js";
import { type Clock, systemClock, within } from "../router/clock.js";
import { type RouterLogger, silentLogger, throttledWarn } from "../router/logger.js";
import { resetDue } from "../store/budget.js";
import type { KeyRecord, TeamRecord } from "../store/index.js";
import type { KeyRepository } from "../store/keys.js";
import type { TeamRepository } from "../store/teams.js";
import { ReadSlots, ReadSlotsBusyError } from "./read-slots.js";

/** What the cache reads: the store's repositories (a Store satisfies it). */
export interface KeySource {
  keys: Pick<KeyRepository, "findByToken">;
  teams: Pick<TeamRepository, "get">;
}

export interface CacheTiming {
  /** Age after which a lookup answers the entry and re-reads it in the background. */
  refreshAfterMs: number;
  /** Age after which a lookup re-reads the entry before answering: the longest a change can go unseen. */
  maxAgeMs: number;
  /** How long a token found nowhere is answered as unknown without a query. */
  absentMs: number;
}

/** Without notifications (no Redis, or its subscription down): others' changes are seen within ~1 s. */
export const LOCAL_TIMING: CacheTiming = { refreshAfterMs: 500, maxAgeMs: 1000, absentMs: 1000 };
/** With a live subscription: changes arrive by pub/sub, re-reads only catch a lost message. */
export const NOTIFIED_TIMING: CacheTiming = { refreshAfterMs: 30_000, maxAgeMs: 60_000, absentMs: 30_000 };

export interface KeyCacheOptions {
  clock?: Clock;
  /** Failed reads, throttled. */
  logger?: RouterLogger;
  /** The longest a lookup waits for the database (default 2 s). */
  loadTimeoutMs?: number;
  /** Key reads at the database at once (default 8); more wait in line. */
  maxConcurrentReads?: number;
  /** Reads waiting in line (default 1024); more fail at once. */
  maxWaitingReads?: number;
  /** Keys held (default 100,000); past it the longest-held goes (and is read again when next used). */
  maxKeys?: number;
  /** Unknown tokens remembered (default 10,000). */
  maxAbsent?: number;
  local?: CacheTiming;
  notified?: CacheTiming;
}

export const KEY_STORE_UNAVAILABLE = "key_store_unavailable";

/** After a failed re-read, how soon the next is tried (at most: sooner when entries live less). */
const RETRY_AFTER_FAILURE_MS = 1000;

interface Entry {
  key: VirtualKey;
  /** When the cache last confirmed the entry: read it, or failed to and chose to keep it. -Infinity: re-read it. */
  checkedAt: number;
  /** When the entry's view changes by the clock alone (a grace or a budget period ends); Infinity: never. */
  changesAt: number;
  /** For a previous token, when its grace ends; Infinity for a key's own token. */
  graceEnds: number;
}

interface TeamRead {
  record: TeamRecord | undefined;
  readAt: number;
}

function resetTime(row: Pick<KeyRecord, "budget_duration" | "budget_reset_at"> | undefined): number {
  return row?.budget_duration && row.budget_reset_at ? row.budget_reset_at.getTime() : Number.POSITIVE_INFINITY;
}

function unavailable(error: unknown, timeoutMs: number): ServiceUnavailableError {
  const why =
    error instanceof KeyReadTimeout
      ? `the key store (database) did not answer within ${timeoutMs} ms`
      : error instanceof ReadSlotsBusyError
        ? "too many keys are being read from the key store (database) at once"
        : "the key store (database) failed";
  return new ServiceUnavailableError(
    `This key could not be checked: ${why}. Retry shortly; keys this proxy has already seen keep working meanwhile.`,
    { code: KEY_STORE_UNAVAILABLE, retryAfterMs: 1000, cause: error },
  );
}

class KeyReadTimeout extends Error {
  override readonly name = "KeyReadTimeout";
}

export class KeyCache {
  readonly clock: Clock;
  private timing: CacheTiming;
  private readonly localTiming: CacheTiming;
  private readonly notifiedTiming: CacheTiming;
  private readonly loadTimeoutMs: number;
  private readonly maxKeys: number;
  private readonly maxAbsent: number;
  private readonly warn: (fields: object, message: string) => void;
  private readonly slots: ReadSlots;
  private readonly entries = new Map<string, Entry>();
  /** Unknown tokens, until when; in insertion order, so the first is the oldest. */
  private readonly absent = new Map<string, number>();
  /** Reads in flight, by token: what concurrent lookups share. An invalidation removes them (their answer is then not kept). */
  private readonly reads = new Map<string, Promise<Entry | null>>();
  private readonly teams = new Map<string, TeamRead>();
  private readonly teamReads = new Map<string, Promise<TeamRead>>();

  constructor(
    private readonly source: KeySource,
    options: KeyCacheOptions = {},
  ) {
    this.clock = options.clock ?? systemClock;
    this.localTiming = options.local ?? LOCAL_TIMING;
    this.notifiedTiming = options.notified ?? NOTIFIED_TIMING;
    this.timing = this.localTiming;
    this.loadTimeoutMs = options.loadTimeoutMs ?? 2000;
    this.maxKeys = options.maxKeys ?? 100_000;
    this.maxAbsent = options.maxAbsent ?? 10_000;
    this.warn = throttledWarn(options.logger ?? silentLogger, () => this.clock.now());
    this.slots = new ReadSlots({
      limit: options.maxConcurrentReads ?? 8,
      maxWaiting: options.maxWaitingReads ?? 1024,
      waitMs: this.loadTimeoutMs,
      clock: this.clock,
    });
  }

  /**
   * The key whose token (or previous token, within its grace) this is, or null when there is none. Answers
   * at once, without a promise, whenever the cache can: only a miss or an entry past its age waits. A
   * promise rejects with the 503 `key_store_unavailable` when the database fails or does not answer in time.
   */
  lookup(token: string): VirtualKey | null | Promise<VirtualKey | null> {
    const now = this.clock.now();
    const entry = this.entries.get(token);
    if (entry !== undefined && now - entry.checkedAt < this.timing.refreshAfterMs && now < entry.changesAt) return entry.key;
    return entry === undefined ? this.miss(token, now) : this.aged(token, entry, now);
  }

  /** These tokens changed (a key created, updated, blocked, regenerated, deleted): re-read when next used. */
  forget(tokens: readonly string[]): void {
    for (const token of tokens) {
      this.absent.delete(token);
      this.reads.delete(token);
      const entry = this.entries.get(token);
      if (entry !== undefined) entry.checkedAt = Number.NEGATIVE_INFINITY;
    }
  }

  /** The team changed: its row and all its keys are re-read when next used. */
  forgetTeam(teamId: string): void {
    this.teams.delete(teamId);
    this.teamReads.delete(teamId);
    // A read in flight may be of one of its keys, and which is not known until it lands.
    this.reads.clear();
    for (const entry of this.entries.values()) {
      if (entry.key.record.team_id === teamId) entry.checkedAt = Number.NEGATIVE_INFINITY;
    }
  }

  /** Changes may have been missed (a subscription came back): everything is re-read when next used. */
  forgetAll(): void {
    this.teams.clear();
    this.teamReads.clear();
    this.reads.clear();
    this.absent.clear();
    for (const entry of this.entries.values()) entry.checkedAt = Number.NEGATIVE_INFINITY;
  }

  /** Whether changes reach this cache as they happen (a live subscription): picks the timing. */
  setNotified(notified: boolean): void {
    this.timing = notified ? this.notifiedTiming : this.localTiming;
    // Unknown tokens were remembered for the other timing's length: forgetting them is cheap, and exact.
    this.absent.clear();
  }

  /** Keys and unknown tokens held: for tests and metrics. */
  size(): { keys: number; absent: number } {
    return { keys: this.entries.size, absent: this.absent.size };
  }

  private miss(token: string, now: number): null | Promise<VirtualKey | null> {
    const absentUntil = this.absent.get(token);
    if (absentUntil !== undefined) {
      if (now < absentUntil) return null;
      this.absent.delete(token);
    }
    return this.within(this.read(token)).then(
      (entry) => entry?.key ?? null,
      (error: unknown) => {
        this.warn({ err: messageOf(error) }, "a key could not be read from the store");
        throw unavailable(error, this.loadTimeoutMs);
      },
    );
  }

  private aged(token: string, entry: Entry, now: number): VirtualKey | null | Promise<VirtualKey | null> {
    if (now >= entry.graceEnds) {
      this.entries.delete(token);
      this.markAbsent(token, now);
      return null;
    }
    let periodEnded = false;
    if (now >= entry.changesAt) {
      this.startNewPeriods(entry, now);
      periodEnded = true;
    }
    const age = now - entry.checkedAt;
    if (age >= this.timing.maxAgeMs) return this.revalidate(token, entry);
    if ((periodEnded || age >= this.timing.refreshAfterMs) && !this.reads.has(token)) {
      this.read(token).catch((error: unknown) => this.keep(token, entry, error));
    }
    return entry.key;
  }

  /** Re-reads an entry before answering; keeps it if the database fails or is slow. */
  private revalidate(token: string, entry: Entry): Promise<VirtualKey | null> {
    return this.within(this.read(token)).then(
      (fresh) => fresh?.key ?? null,
      (error: unknown) => {
        this.keep(token, entry, error);
        return entry.key;
      },
    );
  }

  /** A re-read failed or was too slow: the entry stays, served as it is, and is re-read again in about a second. */
  private keep(token: string, entry: Entry, error: unknown): void {
    this.warn({ err: messageOf(error) }, "a known key could not be re-read from the store; it is served as last read");
    if (this.entries.get(token) !== entry) return;
    entry.checkedAt = this.clock.now() - Math.max(0, this.timing.refreshAfterMs - RETRY_AFTER_FAILURE_MS);
  }

  /** The read in flight for this token, or a new one; what it finds is kept unless an invalidation came meanwhile. */
  private read(token: string): Promise<Entry | null> {
    const pending = this.reads.get(token);
    if (pending !== undefined) return pending;
    // Bounded inside its slot too: a query that hangs gives its slot back (the driver's own bounds end the query).
    const attempt: Promise<Entry | null> = this.slots.run(() => this.within(this.fetch(token))).then(
      (entry) => {
        if (this.reads.get(token) === attempt) {
          this.reads.delete(token);
          this.keepRead(token, entry);
        }
        return entry;
      },
      (error: unknown) => {
        if (this.reads.get(token) === attempt) this.reads.delete(token);
        throw error;
      },
    );
    this.reads.set(token, attempt);
    return attempt;
  }

  private async fetch(token: string): Promise<Entry | null> {
    const startedAt = this.clock.now();
    const record = await this.source.keys.findByToken(token);
    if (record === undefined) return null;
    const team = record.team_id === null ? undefined : await this.team(record.team_id);
    const key: VirtualKey = { record, team: team?.record, readAt: Math.min(startedAt, team?.readAt ?? startedAt) };
    const graceEnds = token === record.token ? Number.POSITIVE_INFINITY : (record.previous_token_expires?.getTime() ?? Number.NEGATIVE_INFINITY);
    return { key, checkedAt: startedAt, graceEnds, changesAt: Math.min(graceEnds, resetTime(record), resetTime(key.team)) };
  }

  /** The team's row: the one its keys share while it is fresh, else one read for all of them. */
  private team(teamId: string): Promise<TeamRead> {
    const now = this.clock.now();
    const cached = this.teams.get(teamId);
    if (cached !== undefined && now - cached.readAt < this.timing.refreshAfterMs && now < resetTime(cached.record)) return Promise.resolve(cached);
    const pending = this.teamReads.get(teamId);
    if (pending !== undefined) return pending;
    const attempt: Promise<TeamRead> = this.source.teams.get(teamId).then(
      (record) => {
        const read = { record, readAt: now };
        if (this.teamReads.get(teamId) === attempt) {
          this.teamReads.delete(teamId);
          this.teams.set(teamId, read);
        }
        return read;
      },
      (error: unknown) => {
        if (this.teamReads.get(teamId) === attempt) this.teamReads.delete(teamId);
        throw error;
      },
    );
    this.teamReads.set(teamId, attempt);
    return attempt;
  }

  private keepRead(token: string, entry: Entry | null): void {
    if (entry === null) {
      this.entries.delete(token);
      this.markAbsent(token, this.clock.now());
      return;
    }
    if (!this.entries.has(token) && this.entries.size >= this.maxKeys) this.dropOldest(this.entries);
    this.entries.set(token, entry);
  }

  private markAbsent(token: string, now: number): void {
    this.absent.delete(token);
    if (this.absent.size >= this.maxAbsent) this.dropOldest(this.absent);
    this.absent.set(token, now + this.timing.absentMs);
  }

  private dropOldest(map: Map<string, unknown>): void {
    const oldest = map.keys().next();
    if (!oldest.done) map.delete(oldest.value);
  }

  /**
   * A budget period of the key or its team ended since the entry was read: its spend is 0 from the period's
   * end (which becomes `readAt`: spend settled since then is not in it), until the re-read brings the
   * store's own reset.
   */
  private startNewPeriods(entry: Entry, now: number): void {
    const at = new Date(now);
    let { record, team, readAt } = entry.key;
    const keyNext = resetDue(record.budget_duration, record.budget_reset_at, at);
    if (keyNext !== undefined) {
      readAt = Math.max(readAt, resetTime(record));
      record = { ...record, spend: 0, budget_reset_at: keyNext };
    }
    const teamNext = team === undefined ? undefined : resetDue(team.budget_duration, team.budget_reset_at, at);
    if (team !== undefined && teamNext !== undefined) {
      readAt = Math.max(readAt, resetTime(team));
      team = { ...team, spend: 0, budget_reset_at: teamNext };
    }
    entry.key = { record, team, readAt };
    entry.changesAt = Math.min(entry.graceEnds, resetTime(record), resetTime(team));
  }

  /** The promise's answer, or a KeyReadTimeout after `loadTimeoutMs` (the promise's work goes on, unwaited for). */
  private within<T>(promise: Promise<T>): Promise<T> {
    return within(this.clock, promise, this.loadTimeoutMs, () => new KeyReadTimeout(`the key store did not answer within ${this.loadTimeoutMs} ms`));
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
