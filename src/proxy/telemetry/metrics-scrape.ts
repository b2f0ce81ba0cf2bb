/**
 * A scrape of `/metrics`: this process's registries as Prometheus text — or, in a worker of `--num_workers`,
 * the whole process group's, so that whichever worker a scrape lands on, it reads the group's totals.
 *
 * Across workers, over cluster IPC: the worker answering the scrape asks the primary; the primary asks every
 * worker (the asking one included) for its metrics as JSON, waits at most `CLUSTER_WAIT_MS` for them, adds
 * up those that came with prom-client's `AggregatorRegistry`, and sends the text back. A worker that does not
 * answer in time is left out rather than holding the scrape: `xgate_workers_reporting` says how many are in.
 */
import cluster, { type Worker } from "node:cluster";
import { AggregatorRegistry, type MetricObjectWithValues, type MetricValue, Registry } from "prom-client";
import { ServiceUnavailableError } from "../../errors.js";
import { systemClock, within } from "../router/clock.js";

/** How long the primary waits for the workers' metrics. */
export const CLUSTER_WAIT_MS = 2_000;
/** How long a worker waits for the primary's answer: its wait, and time to add up and send. */
const WORKER_WAIT_MS = CLUSTER_WAIT_MS + 1_000;

const SCRAPE = "xgate:metrics:scrape";
const SCRAPED = "xgate:metrics:scraped";
const COLLECT = "xgate:metrics:collect";
const COLLECTED = "xgate:metrics:collected";

type WorkerMetrics = MetricObjectWithValues<MetricValue<string>>[];

interface Message {
  type?: unknown;
  id?: unknown;
  text?: unknown;
  metrics?: unknown;
}

function isMessage(value: unknown): value is Message {
  return typeof value === "object" && value !== null;
}

export interface MetricsScrape {
  readonly contentType: string;
  /** The metrics as Prometheus text; rejects with a 503 when the primary does not answer in time. */
  scrape(): Promise<string>;
  /** Scrapes in progress in this process, which the in-flight gauge leaves out. */
  inProgress(): number;
  /** Stops answering the primary's requests. */
  close(): void;
}

async function asJson(registries: readonly Registry[]): Promise<WorkerMetrics> {
  return (await Promise.all(registries.map((registry) => registry.getMetricsAsJSON()))).flat() as WorkerMetrics;
}

/** This process's scrape: the registries alone, or, in a cluster worker, the process group's through the primary. */
export function metricsScrape(registries: readonly Registry[]): MetricsScrape {
  let scraping = 0;
  const counted = async (work: () => Promise<string>): Promise<string> => {
    scraping++;
    try {
      return await work();
    } finally {
      scraping--;
    }
  };
  const base = { contentType: Registry.PROMETHEUS_CONTENT_TYPE, inProgress: () => scraping };
  if (!cluster.isWorker || process.send === undefined) {
    return { ...base, scrape: () => counted(() => Registry.merge([...registries]).metrics()), close: () => undefined };
  }

  let nextId = 0;
  const waiting = new Map<number, (text: string | undefined) => void>();
  const onMessage = (message: unknown): void => {
    if (!isMessage(message)) return;
    if (message.type === COLLECT) {
      void asJson(registries).then((metrics) => process.send?.({ type: COLLECTED, id: message.id, metrics }));
    } else if (message.type === SCRAPED && typeof message.id === "number") {
      // No text: the primary could not add the metrics up; the scrape fails at once rather than after the wait.
      waiting.get(message.id)?.(typeof message.text === "string" ? message.text : undefined);
      waiting.delete(message.id);
    }
  };
  process.on("message", onMessage);
  const fromPrimary = async (): Promise<string> => {
    const id = nextId++;
    const answer = new Promise<string | undefined>((resolve) => waiting.set(id, resolve));
    process.send?.({ type: SCRAPE, id });
    const unavailable = (): ServiceUnavailableError =>
      new ServiceUnavailableError(`GET /metrics: the primary process did not add up the workers' metrics (within ${WORKER_WAIT_MS / 1000} s); try again.`, {
        code: "metrics_unavailable",
      });
    try {
      const text = await within(systemClock, answer, WORKER_WAIT_MS, unavailable);
      if (text === undefined) throw unavailable();
      return text;
    } finally {
      waiting.delete(id);
    }
  };
  return { ...base, scrape: () => counted(fromPrimary), close: () => process.off("message", onMessage) };
}

/** In the primary of `--num_workers`: answers each worker's scrape with the metrics of every worker that answers within `waitMs`. */
export function serveClusterMetrics(waitMs = CLUSTER_WAIT_MS): void {
  let nextId = 0;
  const collecting = new Map<number, (metrics: WorkerMetrics) => void>();

  const collect = async (): Promise<WorkerMetrics[]> => {
    const workers = Object.values(cluster.workers ?? {}).filter((worker): worker is Worker => worker?.isConnected() === true);
    const id = nextId++;
    const answers: WorkerMetrics[] = [];
    const all = new Promise<void>((resolve) => {
      collecting.set(id, (metrics) => {
        answers.push(metrics);
        if (answers.length === workers.length) resolve();
      });
      if (workers.length === 0) resolve();
    });
    for (const worker of workers) worker.send({ type: COLLECT, id });
    // A worker that does not answer in time is left out: the answers that came are what is added up.
    await within(systemClock, all, waitMs, () => new Error("not every worker answered")).catch(() => undefined);
    collecting.delete(id);
    return answers;
  };

  cluster.on("message", (worker, message: unknown) => {
    if (!isMessage(message)) return;
    if (message.type === COLLECTED && typeof message.id === "number" && Array.isArray(message.metrics)) {
      collecting.get(message.id)?.(message.metrics as WorkerMetrics);
    } else if (message.type === SCRAPE) {
      void collect()
        .then((answers) => AggregatorRegistry.aggregate(answers).metrics())
        .then(
          (text) => text,
          () => undefined,
        )
        .then((text) => {
          if (worker.isConnected()) worker.send({ type: SCRAPED, id: message.id, text });
        });
    }
  });
}
