// The "engine" side of an inference call: the request counts against the model's limit while it runs,
// takes the simulated compute time, and can be cancelled by its request_id (409) like a real model task.
import { cancelledError } from "./errors.js";
import type { ModelRegistry, RunningModel } from "./registry.js";

interface PendingWork {
  requestId: string | undefined;
  timer: NodeJS.Timeout;
  cancel: () => void;
}

export class Engine {
  private readonly pending = new Set<PendingWork>();

  constructor(
    private readonly registry: ModelRegistry,
    private readonly computeDelayMs: number,
  ) {}

  async run<T>(model: RunningModel, requestId: string | undefined, work: () => T | Promise<T>): Promise<T> {
    const release = this.registry.acquire(model);
    try {
      if (this.computeDelayMs > 0) await this.compute(requestId);
      return await work();
    } finally {
      release();
    }
  }

  /** Cancels the pending work of this request id; returns how many were cancelled. */
  cancel(requestId: string): number {
    let cancelled = 0;
    for (const work of this.pending) {
      if (work.requestId === requestId) {
        work.cancel();
        cancelled++;
      }
    }
    return cancelled;
  }

  /** Drops pending work without answering: the server destroys the sockets anyway. */
  close(): void {
    for (const work of this.pending) clearTimeout(work.timer);
    this.pending.clear();
  }

  private compute(requestId: string | undefined): Promise<void> {
    return new Promise((resolve, reject) => {
      const work: PendingWork = {
        requestId,
        timer: setTimeout(() => {
          this.pending.delete(work);
          resolve();
        }, this.computeDelayMs),
        cancel: () => {
          clearTimeout(work.timer);
          this.pending.delete(work);
          reject(cancelledError(requestId));
        },
      };
      this.pending.add(work);
    });
  }
}
