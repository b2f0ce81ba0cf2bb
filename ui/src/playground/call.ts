/**
 * One playground call: the public API with the chosen key, timed, and the response headers that say where
 * it went and what it cost. `useCall` keeps the last call's state for a tab (busy, error, report) and can
 * abort the call under way.
 */
import { useCallback, useEffect, useRef, useState } from "react";
import { apiResponse } from "../api";
import { formatMoney } from "../format";

/** The headers shown under a result, by their label. */
const SHOWN_HEADERS: ReadonlyArray<[header: string, label: string]> = [
  ["x-xgate-model-group", "Model group"],
  ["x-xgate-deployment", "Deployment"],
  ["x-litellm-response-cost", "Cost"],
  ["x-xgate-attempts", "Attempts"],
  ["x-xgate-fallback", "Fallback"],
  ["x-xgate-cache-hits", "Cache hits"],
];

export interface CallFact {
  label: string;
  value: string;
}

export interface CallReport {
  status: number | null;
  /** From sending the request to the whole answer read (a stream: to its end or its stop). */
  latencyMs: number;
  /** Streams: when the first token arrived. */
  firstTokenMs?: number;
  facts: CallFact[];
}

/** Costs are often fractions of a cent: written with enough digits to be seen. */
export function formatCost(value: number): string {
  if (value > 0 && value < 0.01) return `$${value.toPrecision(2)}`;
  return formatMoney(value);
}

function factsOf(headers: Headers): CallFact[] {
  const facts: CallFact[] = [];
  for (const [header, label] of SHOWN_HEADERS) {
    const value = headers.get(header);
    if (value === null || value === "") continue;
    const cost = header === "x-litellm-response-cost" ? Number(value) : Number.NaN;
    facts.push({ label, value: Number.isFinite(cost) ? formatCost(cost) : value });
  }
  return facts;
}

export interface CallState {
  busy: boolean;
  error: unknown;
  report: CallReport | null;
}

/** What a tab does with the answer; `mark` notes the first token of a stream. */
export type ReadAnswer<T> = (response: Response, signal: AbortSignal, mark: { firstToken: () => void }) => Promise<T>;

export interface CallRequest {
  method?: "POST";
  key: string | undefined;
  body: unknown;
}

export function useCall() {
  const [state, setState] = useState<CallState>({ busy: false, error: null, report: null });
  const controller = useRef<AbortController | null>(null);

  // A call still under way when its tab goes away is not wanted any more.
  useEffect(() => () => controller.current?.abort(), []);

  const run = useCallback(async <T,>(path: string, request: CallRequest, read: ReadAnswer<T>): Promise<T | undefined> => {
    controller.current?.abort();
    const own = new AbortController();
    controller.current = own;
    setState({ busy: true, error: null, report: null });
    const started = performance.now();
    let firstTokenMs: number | undefined;
    const mark = { firstToken: () => void (firstTokenMs ??= performance.now() - started) };
    let response: Response | undefined;
    const finish = (error: unknown): void => {
      if (controller.current === own) controller.current = null;
      const report: CallReport = { status: response?.status ?? null, latencyMs: performance.now() - started, facts: response ? factsOf(response.headers) : [] };
      if (firstTokenMs !== undefined) report.firstTokenMs = firstTokenMs;
      setState({ busy: false, error, report });
    };
    try {
      response = await apiResponse(path, { method: "POST", key: request.key, body: request.body, signal: own.signal });
      const value = await read(response, own.signal, mark);
      finish(null);
      return value;
    } catch (error) {
      // A stop is the operator's choice, not a failure.
      finish(error instanceof DOMException && error.name === "AbortError" ? null : error);
      return undefined;
    }
  }, []);

  const stop = useCallback(() => controller.current?.abort(), []);
  return { ...state, run, stop };
}
