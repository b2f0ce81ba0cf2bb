/** Redis for the limiter's tests: connections to the machine's Redis, a namespace per test, all removed afterwards. */
import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";

export const REDIS_URL = "redis://127.0.0.1:6379";

export async function keysUnder(redis: Redis, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  let cursor = "0";
  do {
    const [next, batch] = await redis.scan(cursor, "MATCH", `${prefix}*`, "COUNT", 1000);
    cursor = next;
    keys.push(...batch);
  } while (cursor !== "0");
  return keys;
}

export class LimitRedis {
  private readonly connections: Redis[] = [];
  private readonly namespaces: string[] = [];

  connection(): Redis {
    const redis = new Redis(REDIS_URL);
    this.connections.push(redis);
    return redis;
  }

  namespace(): string {
    const ns = `xgate-test:limits:${randomUUID()}:`;
    this.namespaces.push(ns);
    return ns;
  }

  async cleanUp(): Promise<void> {
    if (this.namespaces.length > 0) {
      const cleaner = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
      cleaner.on("error", () => undefined);
      try {
        await cleaner.connect();
        for (const ns of this.namespaces) {
          const keys = await keysUnder(cleaner, ns);
          if (keys.length > 0) await cleaner.del(...keys);
        }
      } catch {
        // No Redis: nothing was written.
      } finally {
        cleaner.disconnect();
      }
    }
    await Promise.all(this.connections.map((c) => c.quit().catch(() => c.disconnect())));
  }
}
