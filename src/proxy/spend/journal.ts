/**
 * The spend journal: no completed request's spend row is lost, whatever happens to the process or the
 * database. The record stage appends each row here — one JSON line, written to the OS before the response's
 * last byte — and a batch writer sends what the journal holds to the database every `flushIntervalMs` (or
 * sooner, once `batchRows` rows wait), off the request path. The journal file is the queue: nothing waits in
 * memory, so a database that is down for hours costs disk, not memory, and the rows go in when it is back.
 *
 * Durability: an append is a write(2), not an fsync. Once write returns, the row is in the kernel's page
 * cache, which `kill -9`, a crash or an OOM kill of the process cannot take back; only a power cut or a
 * kernel panic can, and that risk is bounded by an fdatasync before each batch (at most the rows of one
 * flush interval). An fsync per row would cost a disk flush on every request for that last case only.
 *
 * Replay is idempotent: the database skips rows whose `request_id` it has (see store/spend-logs.ts), so a row
 * sent twice (a crash between the insert and the journal's truncation) is charged once. A line torn by a
 * crash mid-write (or a full disk) is skipped and reported, never fatal. Once the database has every row the
 * file is truncated; under steady load, when the rows it has outweigh the rest, the rest is copied to a new
 * file that atomically replaces the old, so the journal never grows past about twice its backlog.
 *
 * Ownership: one file per instance, `spend-<instance>.jsonl` in the data directory, and one live process per
 * instance name — the CLI's worker index gives that (a restarted worker takes over its predecessor's index,
 * and with it its file). Opening a journal replays what its file holds; `SpendJournal.replayUnowned` replays the files
 * no live process owns (say, of worker indices beyond the current --num_workers). A data directory belongs to
 * one xgate at a time.
 */
import { closeSync, fdatasync, fstatSync, fsyncSync, ftruncateSync, mkdirSync, openSync, readdirSync, readSync, renameSync, rmSync, unlinkSync, writeSync } from "node:fs";
import { dirname, join } from "node:path";
import { promisify } from "node:util";
import { z } from "zod";
import { type Clock, systemClock } from "../router/clock.js";
import type { SpendLogRow } from "../store/index.js";

/** Where spend rows go: the store's spend-log repository. */
export interface SpendSink {
  insertBatch(rows: readonly SpendLogRow[]): Promise<number>;
}

export interface JournalOptions {
  /** The data directory. */
  dir: string;
  /** This process's name among those sharing the directory: letters, digits, `.`, `_`, `-`. */
  instance: string;
  sink: SpendSink;
  /** Time between batches (`general_settings.proxy_batch_write_at`). */
  flushIntervalMs: number;
  /** Rows per batch; this many waiting starts a batch before the interval is up. */
  batchRows?: number;
  clock?: Clock;
  /** A batch that failed (rows stay in the journal) or torn lines skipped: for the log, never thrown. */
  onError?: (error: Error) => void;
}

const DEFAULT_BATCH_ROWS = 500;
/** The most read at once: many rows, yet a bounded buffer however large the backlog. */
const READ_BYTES = 1024 * 1024;
/** Below this the file is only ever truncated whole, never copied. */
const COMPACT_BYTES = 64 * 1024;
const INSTANCE = /^[A-Za-z0-9._-]{1,64}$/;
const FILE = /^spend-([A-Za-z0-9._-]{1,64})\.jsonl$/;

const datasync = promisify(fdatasync);

const rowSchema = z.object({
  request_id: z.string().min(1),
  call_type: z.string(),
  api_key: z.string(),
  spend: z.number(),
  prompt_tokens: z.number(),
  completion_tokens: z.number(),
  total_tokens: z.number(),
  model: z.string(),
  model_group: z.string().nullable(),
  model_id: z.string().nullable(),
  api_base: z.string().nullable(),
  user: z.string().nullable(),
  team_id: z.string().nullable(),
  status: z.enum(["success", "failure"]),
  startTime: z.coerce.date(),
  endTime: z.coerce.date(),
  metadata: z.record(z.string(), z.unknown()),
});

export function journalPath(dir: string, instance: string): string {
  if (!INSTANCE.test(instance)) throw new Error(`'${instance}' cannot name a spend journal: use letters, digits, '.', '_' or '-' (at most 64)`);
  return join(dir, `spend-${instance}.jsonl`);
}

/** The row a journal line holds; undefined for a torn or foreign line. */
function parseLine(line: string): SpendLogRow | undefined {
  try {
    const parsed = rowSchema.safeParse(JSON.parse(line));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

export class SpendJournal {
  private fd: number;
  /** Bytes in the file. */
  private size: number;
  /** Bytes at the start of the file that the database has. */
  private flushed = 0;
  /** The batch writer's current run; runs follow one another. */
  private running: Promise<void> = Promise.resolve();
  private appendedSinceBatch = 0;
  /** A batch started early (by `batchRows`) is under way. */
  private earlyBatch = false;
  /** A write failed midway (a full disk): the next row starts on a line of its own. */
  private tornTail = false;
  private cancelTimer: (() => void) | undefined;
  private closed = false;

  private constructor(
    private readonly path: string,
    private readonly sink: SpendSink,
    private readonly batchRows: number,
    private readonly onError: (error: Error) => void,
  ) {
    mkdirSync(dirname(path), { recursive: true });
    rmSync(`${path}.tmp`, { force: true }); // a compaction the previous owner did not finish; the file is whole
    this.fd = openSync(path, "a+");
    this.size = fstatSync(this.fd).size;
    // The previous owner died mid-line: end that line, so that it is skipped as torn and the next row is whole.
    if (this.size > 0 && !this.endsWithNewline()) this.size += writeSync(this.fd, "\n");
  }

  /** Opens the instance's journal and replays what it holds (a failure to reach the database is reported, not thrown). */
  static async open(options: JournalOptions): Promise<SpendJournal> {
    const journal = SpendJournal.at(journalPath(options.dir, options.instance), options);
    await journal.flush().catch(journal.onError);
    journal.schedule(options.clock ?? systemClock, options.flushIntervalMs);
    return journal;
  }

  private static at(path: string, options: Pick<JournalOptions, "sink" | "batchRows" | "onError">): SpendJournal {
    return new SpendJournal(path, options.sink, options.batchRows ?? DEFAULT_BATCH_ROWS, options.onError ?? (() => undefined));
  }

  /** Writes the row to the journal (to the OS, synchronously); the database gets it with a later batch. */
  append(row: SpendLogRow): void {
    if (this.closed) throw new Error("the spend journal is closed");
    const bytes = Buffer.from(`${this.tornTail ? "\n" : ""}${JSON.stringify(row)}\n`);
    let written = 0;
    try {
      while (written < bytes.length) written += writeSync(this.fd, bytes, written);
    } catch (error) {
      this.size += written;
      if (written > 0) this.tornTail = true;
      throw error;
    }
    this.size += written;
    this.tornTail = false;
    if (++this.appendedSinceBatch >= this.batchRows && !this.earlyBatch) {
      this.earlyBatch = true;
      this.flush()
        .catch(this.onError)
        .finally(() => (this.earlyBatch = false));
    }
  }

  /** Sends every row appended so far to the database; rejects, rows kept, when it cannot. */
  flush(): Promise<void> {
    const run = this.running.catch(() => undefined).then(() => this.drain());
    this.running = run;
    return run;
  }

  /** Bytes the database does not have yet. */
  get backlogBytes(): number {
    return this.size - this.flushed;
  }

  /** Stops the batch writer after one last batch; what the database could not take stays in the file. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.cancelTimer?.();
    await this.flush().catch(this.onError);
    closeSync(this.fd);
  }

  private schedule(clock: Clock, intervalMs: number): void {
    const tick = (): void => {
      this.flush()
        .catch(this.onError)
        .finally(() => {
          if (!this.closed) this.cancelTimer = clock.setTimer(intervalMs, tick, { unref: true });
        });
    };
    this.cancelTimer = clock.setTimer(intervalMs, tick, { unref: true });
  }

  /** Sends what the file held when it began (rows appended meanwhile wait for the next run). */
  private async drain(): Promise<void> {
    let toSend = this.size - this.flushed;
    if (toSend <= 0) return;
    this.appendedSinceBatch = 0;
    await datasync(this.fd);
    while (toSend > 0) {
      const batch = this.readBatch();
      if (batch.end === this.flushed) return; // only an unfinished line is left: it completes with the next row
      if (batch.torn > 0) this.onError(new Error(`skipped ${batch.torn} torn line(s) in ${this.path} (a write cut short by a crash)`));
      if (batch.rows.length > 0) await this.sink.insertBatch(batch.rows);
      toSend -= batch.end - this.flushed;
      this.flushed = batch.end;
      this.compact();
    }
  }

  /** Up to `batchRows` whole lines from where the database's rows end. */
  private readBatch(): { rows: SpendLogRow[]; torn: number; end: number } {
    const length = Math.min(READ_BYTES, this.size - this.flushed);
    const buffer = Buffer.alloc(length);
    const read = readSync(this.fd, buffer, 0, length, this.flushed);
    const rows: SpendLogRow[] = [];
    let torn = 0;
    let start = 0;
    while (rows.length < this.batchRows) {
      const newline = buffer.indexOf(0x0a, start);
      if (newline === -1 || newline >= read) break;
      const line = buffer.toString("utf8", start, newline);
      start = newline + 1;
      if (line.trim() === "") continue;
      const row = parseLine(line);
      if (row) rows.push(row);
      else torn++;
    }
    // A line longer than a whole read is no row of ours: skip what was read, the rest fails to parse.
    if (start === 0 && read === READ_BYTES) return { rows, torn: 1, end: this.flushed + read };
    return { rows, torn, end: this.flushed + start };
  }

  /** Drops what the database has: all of it when it has everything, else by copying the rest once it is the smaller part. */
  private compact(): void {
    if (this.flushed === this.size) {
      ftruncateSync(this.fd, 0);
      this.size = this.flushed = 0;
      return;
    }
    if (this.flushed < COMPACT_BYTES || this.flushed < this.size - this.flushed) return;
    const rest = Buffer.alloc(this.size - this.flushed);
    readSync(this.fd, rest, 0, rest.length, this.flushed);
    const tmp = `${this.path}.tmp`;
    const copy = openSync(tmp, "w");
    try {
      writeSync(copy, rest);
      fsyncSync(copy); // the copy must be on disk before it replaces the file that holds the same rows
    } finally {
      closeSync(copy);
    }
    renameSync(tmp, this.path);
    closeSync(this.fd);
    this.fd = openSync(this.path, "a+");
    this.size = rest.length;
    this.flushed = 0;
  }

  private endsWithNewline(): boolean {
    const last = Buffer.alloc(1);
    readSync(this.fd, last, 0, 1, this.size - 1);
    return last[0] === 0x0a;
  }

  /**
   * Replays the journals in `dir` that no live process owns — every instance but those in `owned` — and
   * removes each once the database has all its rows. Answers the instances whose rows could not all be sent
   * (kept for the next start).
   */
  static async replayUnowned(options: { dir: string; sink: SpendSink; owned: ReadonlySet<string>; onError?: (error: Error) => void }): Promise<string[]> {
    let names: string[];
    try {
      names = readdirSync(options.dir);
    } catch {
      return []; // no data directory yet: nothing to replay
    }
    const left: string[] = [];
    for (const name of names) {
      const instance = FILE.exec(name)?.[1];
      if (instance === undefined || options.owned.has(instance)) continue;
      const journal = SpendJournal.at(join(options.dir, name), options);
      await journal.close(); // one batch run, whose failure goes to onError
      if (journal.backlogBytes === 0) unlinkSync(join(options.dir, name));
      else left.push(instance);
    }
    return left;
  }
}
