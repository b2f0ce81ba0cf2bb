/**
 * Who a request is from, as the authenticate stage found out: nobody in particular on an open proxy, the
 * operator (the master key), or a virtual key with its team. Later stages read it — model access, limits,
 * budgets, spend — and the admin routes decide by it what a caller may see.
 */
import type { KeyRecord, TeamRecord } from "../store/index.js";

/** A virtual key as the key cache holds it: the key's row and its team's, read from the store at `readAt`. */
export interface VirtualKey {
  record: KeyRecord;
  /** Undefined when the key has no team (or its team is gone). */
  team: TeamRecord | undefined;
  /** When the rows were read (ms since the epoch): spend settled after it is not in `record.spend`. */
  readAt: number;
}

export type Principal = { kind: "open" } | { kind: "master" } | { kind: "virtual"; key: VirtualKey };

/** Anyone, on a proxy without a master key. */
export const OPEN: Principal = Object.freeze({ kind: "open" });
/** The operator. */
export const MASTER: Principal = Object.freeze({ kind: "master" });

declare module "fastify" {
  interface FastifyRequest {
    /** Set by the authenticate stage on every route that is not public; null before it runs. */
    principal: Principal | null;
  }
}
