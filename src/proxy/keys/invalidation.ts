/**
 * The KeyChangeNotifier the admin routes call after each write: it drops the named keys from this
 * instance's cache at once, and tells every other instance through a Redis channel, so that a key created,
 * updated, blocked or deleted on one is seen by all within about a second — not after a cache TTL.
 *
 * Publishing is fire-and-forget: a Redis that is slow or away never holds up or fails an admin write (the
 * publisher's commands fail at once while disconnected, see kv/redis.ts). Each instance subscribes on a
 * connection of its own (a subscribed connection can do nothing else). While the subscription is live, the
 * cache uses its long, safety-net timing; when it is lost — the connection closed, or a heartbeat PING went
 * unanswered (a frozen Redis keeps its sockets open) — the cache goes back to its ~1 s timing, and when the
 * subscription is back, every entry is re-read: messages sent meanwhile were missed.
 *
 * Without Redis, changes reach only this instance's cache; other workers on the same database see them
 * within their ~1 s timing.
 */
import { randomUUID } from "node:crypto";
import { EventEmitter } from "node:events";
import type { Redis } from "ioredis";
import { connectionOutcome, connectRedis, type RedisConnection } from "../kv/redis.js";
import { type Clock, systemClock } from "../router/clock.js";
import { type RouterLogger, silentLogger, throttledWarn } from "../router/logger.js";
import type { KeyCache } from "./cache.js";
import type { KeyChangeNotifier } from "./events.js";

export const DEFAULT_KEY_CHANGES_NAMESPACE = "xgate:keys:";
/** Publish and PING time out after this: past it Redis counts as away. */
const COMMAND_TIMEOUT_MS = 500;

/** A change as it travels between instances. */
export type KeyChange = { tokens: string[] } | { team: string };

interface Message {
  /** The instance that sent it: it applied the change already. */
  from: string;
  tokens?: unknown;
  team?: unknown;
}

/** The notifier, and the life of what it holds. */
export interface KeyChanges extends KeyChangeNotifier {
  /** Resolves once the subscription is live, or after a bound without it (the proxy then serves alone). Never rejects. */
  ready(): Promise<void>;
  /** Whether other instances' changes arrive as they happen: for `/health/readiness`. */
  notified(): boolean;
  close(): Promise<void>;
}

/** Without Redis: this instance's cache only. */
export function localKeyChanges(cache: KeyCache): KeyChanges {
  return {
    keysChanged: (tokens) => cache.forget(tokens),
    teamChanged: (teamId) => cache.forgetTeam(teamId),
    ready: () => Promise.resolve(),
    notified: () => false,
    close: () => Promise.resolve(),
  };
}

export interface RedisKeyChangesOptions {
  /** Prefix of the channel, `<namespace>changes`. */
  namespace?: string;
  clock?: Clock;
  logger?: RouterLogger;
  /** How often the subscribed connection is PINGed (default 1 s). */
  heartbeatMs?: number;
  /** How long `ready()` waits for the first subscription (default 2 s). */
  readyTimeoutMs?: number;
  /** Close both connections on `close()`: true when this opened them. */
  ownsConnections?: boolean;
}

export interface RedisKeyChangesEvents {
  /** The subscription is live (again); the cache was told to re-read everything. */
  subscribed: [];
  /** The subscription was lost; the cache is back on its short timing. */
  lost: [reason: string];
  /** Another instance's change, applied to the cache. */
  change: [change: KeyChange];
}

function tokensOf(value: unknown): string[] | undefined {
  return Array.isArray(value) && value.every((item) => typeof item === "string") ? (value as string[]) : undefined;
}

export class RedisKeyChanges extends EventEmitter<RedisKeyChangesEvents> implements KeyChanges {
  readonly instanceId = randomUUID();
  private readonly channel: string;
  private readonly clock: Clock;
  private readonly logger: RouterLogger;
  private readonly warnPublish: (fields: object, message: string) => void;
  private readonly heartbeatMs: number;
  private live = false;
  /** The subscribe on the current connection succeeded (a reconnect clears it). */
  private subscribedHere = false;
  private closed = false;
  private cancelHeartbeat: (() => void) | undefined;
  private readonly firstSubscription: Promise<void>;
  private resolveFirst: () => void = () => undefined;

  constructor(
    private readonly cache: KeyCache,
    private readonly publisher: Redis,
    private readonly subscriber: Redis,
    private readonly options: RedisKeyChangesOptions = {},
  ) {
    super();
    this.channel = `${options.namespace ?? DEFAULT_KEY_CHANGES_NAMESPACE}changes`;
    this.clock = options.clock ?? systemClock;
    this.logger = options.logger ?? silentLogger;
    this.warnPublish = throttledWarn(this.logger, () => this.clock.now());
    this.heartbeatMs = options.heartbeatMs ?? 1000;
    this.firstSubscription = new Promise((resolve) => (this.resolveFirst = resolve));
    cache.setNotified(false);
    subscriber.on("message", this.onMessage);
    subscriber.on("ready", this.subscribe);
    subscriber.on("close", this.onClose);
    if (subscriber.status === "ready") this.subscribe();
    this.scheduleHeartbeat();
  }

  keysChanged(tokens: readonly string[]): void {
    if (tokens.length === 0) return;
    this.cache.forget(tokens);
    this.publish({ from: this.instanceId, tokens: [...tokens] });
  }

  teamChanged(teamId: string): void {
    this.cache.forgetTeam(teamId);
    this.publish({ from: this.instanceId, team: teamId });
  }

  ready(): Promise<void> {
    // The publisher too: it queues nothing while it connects, so a change made before it is up would be lost.
    const publisherUp = this.publisher.status === "ready" ? Promise.resolve(undefined) : connectionOutcome(this.publisher);
    return new Promise((resolve) => {
      const cancel = this.clock.setTimer(this.options.readyTimeoutMs ?? 2000, resolve, { unref: true });
      void Promise.all([this.firstSubscription, publisherUp]).then(() => {
        cancel();
        resolve();
      });
    });
  }

  notified(): boolean {
    return this.live;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.cancelHeartbeat?.();
    this.subscriber.off("message", this.onMessage);
    this.subscriber.off("ready", this.subscribe);
    this.subscriber.off("close", this.onClose);
    this.resolveFirst();
    this.cache.setNotified(false);
    if (this.options.ownsConnections) {
      await Promise.all([this.publisher, this.subscriber].map((redis) => redis.quit().then(() => undefined, () => redis.disconnect())));
    }
  }

  private publish(message: Message): void {
    if (this.closed) return;
    this.publisher.publish(this.channel, JSON.stringify(message)).catch((error: unknown) => {
      this.warnPublish({ err: messageOf(error) }, "a key change could not be published to Redis; other instances see it within ~1 s of losing their subscription, or at their next re-read");
    });
  }

  private readonly subscribe = (): void => {
    if (this.closed) return;
    this.subscriber.subscribe(this.channel).then(
      () => {
        this.subscribedHere = true;
        this.goLive();
      },
      (error: unknown) => this.lose(`subscribe failed: ${messageOf(error)}`),
    );
  };

  private readonly onClose = (): void => {
    this.subscribedHere = false;
    this.lose("the connection closed");
  };

  private readonly onMessage = (channel: string, text: string): void => {
    if (channel !== this.channel) return;
    let message: Message;
    try {
      message = JSON.parse(text) as Message;
    } catch {
      return;
    }
    if (message === null || typeof message !== "object" || message.from === this.instanceId) return;
    const tokens = tokensOf(message.tokens);
    if (tokens !== undefined) {
      this.cache.forget(tokens);
      this.emit("change", { tokens });
    } else if (typeof message.team === "string") {
      this.cache.forgetTeam(message.team);
      this.emit("change", { team: message.team });
    }
  };

  private goLive(): void {
    if (this.live || this.closed) return;
    this.live = true;
    // Whatever was published while this instance was not listening is lost: everything is read again.
    this.cache.forgetAll();
    this.cache.setNotified(true);
    this.resolveFirst();
    this.logger.info({ channel: this.channel }, "key changes: subscribed; other instances' key changes are seen as they happen");
    this.emit("subscribed");
  }

  private lose(reason: string): void {
    if (!this.live || this.closed) return;
    this.live = false;
    this.cache.setNotified(false);
    this.logger.warn({ reason }, "key changes: subscription lost; keys are re-read every second until it is back");
    this.emit("lost", reason);
  }

  private scheduleHeartbeat(): void {
    if (this.closed) return;
    this.cancelHeartbeat = this.clock.setTimer(this.heartbeatMs, () => this.beat(), { unref: true });
  }

  private beat(): void {
    if (this.closed) return;
    if (this.subscribedHere && this.subscriber.status === "ready") {
      this.subscriber.ping().then(
        () => this.goLive(),
        (error: unknown) => this.lose(`heartbeat unanswered: ${messageOf(error)}`),
      );
    }
    this.scheduleHeartbeat();
  }
}

/** The notifier the settings call for: through Redis when they name one, else this instance's alone. */
export function createKeyChanges(cache: KeyCache, connection: RedisConnection | undefined, options: Omit<RedisKeyChangesOptions, "ownsConnections"> = {}): KeyChanges {
  if (connection === undefined) return localKeyChanges(cache);
  const publisher = connectRedis(connection, { commandTimeoutMs: COMMAND_TIMEOUT_MS });
  const subscriber = connectRedis(connection, { commandTimeoutMs: COMMAND_TIMEOUT_MS });
  return new RedisKeyChanges(cache, publisher, subscriber, { ...options, ownsConnections: true });
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
