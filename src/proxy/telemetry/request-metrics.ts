/**
 * What each request adds to the metrics, once it is done (see pipeline/record.ts's `RequestDone`), and what
 * each upstream attempt and cooldown adds. On the request path: label children are made once per label set
 * and kept in Maps keyed by the label values themselves (no string is built per request), and an attempt's
 * watch is one object per deployment, made once.
 */
import type { FastifyRequest } from "fastify";
import type { Counter, Histogram } from "prom-client";
import { BUDGET_EXCEEDED } from "../budgets/errors.js";
import { LIMIT_CODES } from "../limits/index.js";
import type { AttemptObserver, AttemptWatch, RequestTrace } from "../pipeline/index.js";
import type { Deployment } from "../router/index.js";
import { NO_MODEL, NO_TEAM, type ProxyMetrics, UNKNOWN_MODEL, UNMATCHED_ROUTE } from "./metrics.js";

const RATE_LIMIT_CODES: ReadonlySet<string> = new Set(Object.values(LIMIT_CODES));

/** `1xx`…`5xx` by the status's first digit. */
const STATUS_CLASSES = ["1xx", "1xx", "2xx", "3xx", "4xx", "5xx"] as const;

type CounterChild = ReturnType<Counter<string>["labels"]>;
type HistogramChild = ReturnType<Histogram<string>["labels"]>;

/**
 * A counter series' increments, summed here and handed to prom-client when a scrape collects: a prom-client
 * increment hashes its labels and looks them up in a dictionary every time, which on every request cost about
 * as much as the rest of the metrics together.
 */
class Tally {
  private pending = 0;

  constructor(private readonly child: CounterChild) {}

  add(amount = 1): void {
    this.pending += amount;
  }

  flush(): void {
    if (this.pending === 0) return;
    this.child.inc(this.pending);
    this.pending = 0;
  }
}

/** The children of one route and model group. */
interface RouteSeries {
  route: string;
  group: string;
  byStatus: (Tally | undefined)[];
  duration: HistogramChild;
}

/** The children of one model group. */
interface GroupSeries {
  group: string;
  inputTokens: Tally;
  outputTokens: Tally;
  images: Tally;
  cacheHits: Tally;
  cacheMisses: Tally;
  timeToFirstToken: HistogramChild;
  tokensPerSecond: HistogramChild;
  budgetRefusals: Tally;
  rateLimitRefusals: Map<string, Tally>;
  /** By team, then (with key labels) by key alias. */
  spend: Map<string, Map<string, Tally>>;
}

/** A request's model group label: the group that answered, else the one it was routed to. */
function groupLabel(trace: RequestTrace | null): string {
  if (trace === null) return NO_MODEL;
  const group = trace.group ?? trace.routedGroup;
  return group === undefined ? NO_MODEL : group === null ? UNKNOWN_MODEL : group;
}

/** The configured deployment an attempt went to: a wildcard's variant is named by the client's model, its deployment by the config. */
function configuredId(deployment: Deployment): string {
  return deployment.variantOf ?? deployment.id;
}

export class RequestMetrics {
  private readonly routes = new Map<string, Map<string, RouteSeries>>();
  private readonly groups = new Map<string, GroupSeries>();
  private readonly watches = new Map<string, AttemptWatch>();
  /** Every counter series the requests counted, to hand to prom-client when a scrape collects. */
  private readonly tallies: Tally[] = [];
  /** Told of every upstream attempt: its duration by deployment. */
  readonly attempts: AttemptObserver = { started: ({ deployment }) => this.watchOf(deployment) };

  constructor(private readonly metrics: ProxyMetrics) {
    metrics.beforeCollect(() => {
      for (const tally of this.tallies) tally.flush();
    });
  }

  /** Counts a finished request: it is a `RequestDone`. */
  readonly done = (request: FastifyRequest, status: number, elapsedMs: number): void => {
    const trace = request.trace;
    const group = groupLabel(trace);
    const series = this.routeSeries(request.routeOptions.url ?? UNMATCHED_ROUTE, group);
    const statusIndex = status >= 100 && status < 600 ? Math.floor(status / 100) : 5;
    (series.byStatus[statusIndex] ??= this.tally(this.metrics.requests.labels(series.route, group, STATUS_CLASSES[statusIndex]!))).add();
    series.duration.observe(elapsedMs / 1000);
    if (trace === null || group === NO_MODEL) return;
    this.account(trace, this.groupSeries(group), request, elapsedMs);
  };

  /** A deployment cooled down: a `Router`'s `onCooldown`. */
  readonly cooledDown = (deployment: Deployment): void => {
    this.metrics.cooldowns.labels(deployment.group, configuredId(deployment)).inc();
  };

  /** What an answered (or refused) request used, cost and was refused for. */
  private account(trace: RequestTrace, series: GroupSeries, request: FastifyRequest, elapsedMs: number): void {
    const code = trace.errorCode;
    if (code !== undefined) {
      if (code === BUDGET_EXCEEDED) series.budgetRefusals.add();
      else if (RATE_LIMIT_CODES.has(code)) this.rateLimitChild(series, code).add();
    }
    const cacheHits = trace.cacheHits;
    if (cacheHits !== undefined) {
      const slash = cacheHits.indexOf("/");
      const hits = Number(cacheHits.slice(0, slash));
      const misses = Number(cacheHits.slice(slash + 1)) - hits;
      if (hits > 0) series.cacheHits.add(hits);
      if (misses > 0) series.cacheMisses.add(misses);
    }
    // A stream's first chunk came, however it ended after.
    const firstChunkMs = trace.firstChunkMs;
    if (firstChunkMs !== undefined) series.timeToFirstToken.observe(firstChunkMs / 1000);
    const input = trace.inputTokens;
    if (input === undefined) return; // not answered: nothing was used
    const output = trace.outputTokens ?? 0;
    if (input > 0) series.inputTokens.add(input);
    if (output > 0) series.outputTokens.add(output);
    const images = trace.images;
    if (images !== undefined && images > 0) series.images.add(images);
    const cost = trace.cost;
    if (cost !== undefined && cost > 0) this.spendChild(series, request).add(cost);
    if (firstChunkMs !== undefined) {
      const streamedMs = elapsedMs - firstChunkMs;
      if (output > 0 && streamedMs > 0) series.tokensPerSecond.observe(output / (streamedMs / 1000));
    }
  }

  private tally(child: CounterChild): Tally {
    const tally = new Tally(child);
    this.tallies.push(tally);
    return tally;
  }

  private routeSeries(route: string, group: string): RouteSeries {
    let byGroup = this.routes.get(route);
    if (byGroup === undefined) this.routes.set(route, (byGroup = new Map()));
    let series = byGroup.get(group);
    if (series === undefined) {
      series = { route, group, byStatus: [], duration: this.metrics.requestDuration.labels(route, group) };
      byGroup.set(group, series);
    }
    return series;
  }

  private groupSeries(group: string): GroupSeries {
    let series = this.groups.get(group);
    if (series === undefined) {
      const m = this.metrics;
      series = {
        group,
        inputTokens: this.tally(m.tokens.labels(group, "input")),
        outputTokens: this.tally(m.tokens.labels(group, "output")),
        images: this.tally(m.images.labels(group)),
        cacheHits: this.tally(m.cacheHits.labels(group)),
        cacheMisses: this.tally(m.cacheMisses.labels(group)),
        timeToFirstToken: m.timeToFirstToken.labels(group),
        tokensPerSecond: m.tokensPerSecond.labels(group),
        budgetRefusals: this.tally(m.budgetRefusals.labels(group)),
        rateLimitRefusals: new Map(),
        spend: new Map(),
      };
      this.groups.set(group, series);
    }
    return series;
  }

  private rateLimitChild(series: GroupSeries, code: string): Tally {
    let child = series.rateLimitRefusals.get(code);
    if (child === undefined) series.rateLimitRefusals.set(code, (child = this.tally(this.metrics.rateLimitRefusals.labels(series.group, code))));
    return child;
  }

  private spendChild(series: GroupSeries, request: FastifyRequest): Tally {
    const principal = request.principal;
    const key = principal?.kind === "virtual" ? principal.key.record : undefined;
    const team = key?.team_id ?? NO_TEAM;
    const alias = this.metrics.keyLabels ? (key?.key_alias ?? "") : "";
    let byAlias = series.spend.get(team);
    if (byAlias === undefined) series.spend.set(team, (byAlias = new Map()));
    let child = byAlias.get(alias);
    if (child === undefined) {
      child = this.tally(this.metrics.keyLabels ? this.metrics.spend.labels(series.group, team, alias) : this.metrics.spend.labels(series.group, team));
      byAlias.set(alias, child);
    }
    return child;
  }

  private watchOf(deployment: Deployment): AttemptWatch {
    const id = configuredId(deployment);
    let watch = this.watches.get(id);
    if (watch === undefined) {
      const success = this.metrics.upstreamDuration.labels(deployment.group, id, "success");
      const failure = this.metrics.upstreamDuration.labels(deployment.group, id, "failure");
      watch = {
        failed: (_error, elapsedMs) => failure.observe(elapsedMs / 1000),
        ended: (elapsedMs, error) => (error === undefined ? success : failure).observe(elapsedMs / 1000),
      };
      this.watches.set(id, watch);
    }
    return watch;
  }
}
