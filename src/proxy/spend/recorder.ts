/**
 * Where spend rows go from the request path: appended to this instance's journal (spend/journal.ts) before the
 * response's last byte, and from there to the store in batches. A batch that reached the database is told to
 * whoever counts live spend (budgets), so that what they added themselves is not counted twice once the
 * store's rows include it. Old rows are trimmed by the retention job, off the request path.
 */
import type { Duration } from "../duration.js";
import { addDuration } from "../duration.js";
import type { Clock } from "../router/clock.js";
import type { SpendCharge, SpendLogRow, Store } from "../store/index.js";
import { SpendJournal } from "./journal.js";

/** What the rows of a batch that were new to the database charged (replayed rows charge nothing twice). */
export type CommittedRows = (charges: readonly SpendCharge[]) => void;

export interface SpendRecorderOptions {
  store: Store;
  /** The data directory, where the journals live. */
  dir: string;
  /** This process's name among those sharing the directory (the worker index). */
  instance: string;
  /**
   * Every live process's name, when this one is to replay the journals of the others (those no live process
   * owns); undefined: it replays only its own.
   */
  live?: ReadonlySet<string>;
  flushIntervalMs: number;
  /** Rows older than this are deleted; undefined: kept. */
  retention: Duration | undefined;
  clock: Clock;
  onCommitted?: CommittedRows;
  /** A batch that failed (its rows stay in the journal), torn lines, a failed trim: for the log. */
  onError(error: Error): void;
}

/** How often old rows are trimmed: the retention periods are days, not minutes. */
const RETENTION_INTERVAL_MS = 60 * 60 * 1000;
/** The first trim waits a little, so that starting up is not slowed by it. */
const FIRST_RETENTION_DELAY_MS = 60 * 1000;

export class SpendRecorder {
  private cancelRetention: (() => void) | undefined;
  private closed = false;

  private constructor(
    private readonly journal: SpendJournal,
    private readonly options: SpendRecorderOptions,
  ) {}

  /** Opens this instance's journal (replaying what it holds), and the journals no live process owns. */
  static async open(options: SpendRecorderOptions): Promise<SpendRecorder> {
    const { store, onCommitted } = options;
    const sink = {
      async insertBatch(rows: readonly SpendLogRow[]): Promise<number> {
        const charges = await store.spendLogs.insertNew(rows);
        onCommitted?.(charges);
        return charges.length;
      },
    };
    if (options.live !== undefined) {
      const owned = new Set([...options.live, options.instance]);
      const left = await SpendJournal.replayUnowned({ dir: options.dir, sink, owned, onError: options.onError });
      if (left.length > 0) options.onError(new Error(`the spend journals of ${left.join(", ")} could not all reach the database; kept for the next start`));
    }
    const journal = await SpendJournal.open({
      dir: options.dir,
      instance: options.instance,
      sink,
      flushIntervalMs: options.flushIntervalMs,
      clock: options.clock,
      onError: options.onError,
    });
    const recorder = new SpendRecorder(journal, options);
    if (options.retention !== undefined) recorder.scheduleRetention(options.retention);
    return recorder;
  }

  /** Journals the row: synchronous, so that it is on file before the caller sends its answer's last byte. */
  record(row: SpendLogRow): void {
    this.journal.append(row);
  }

  /** Sends what the journal holds to the database now (tests; a graceful stop does it in close). */
  flush(): Promise<void> {
    return this.journal.flush();
  }

  async close(): Promise<void> {
    this.closed = true;
    this.cancelRetention?.();
    await this.journal.close();
  }

  private scheduleRetention(retention: Duration): void {
    const { clock, store } = this.options;
    const trim = (): void => {
      const cutoff = addDuration(new Date(clock.now()), retention, -1);
      store.spendLogs
        .deleteOlderThan(cutoff)
        .catch((error: unknown) => this.options.onError(error instanceof Error ? error : new Error(String(error))))
        .finally(() => {
          if (!this.closed) this.cancelRetention = clock.setTimer(RETENTION_INTERVAL_MS, trim, { unref: true });
        });
    };
    this.cancelRetention = clock.setTimer(FIRST_RETENTION_DELAY_MS, trim, { unref: true });
  }
}
