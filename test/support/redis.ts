/** The machine's Redis, for tests that share router state through it. */
import { Redis, type RedisOptions } from "ioredis";

/**
 * Whether Redis answers. On CI a missing Redis is a failure, never a silent skip: CI must start it
 * (see .ci/run), so this throws there; elsewhere the caller skips, with the warning printed here.
 */
export async function redisReachable(target: string | RedisOptions, testFile: string): Promise<boolean> {
  const options: RedisOptions = { lazyConnect: true, maxRetriesPerRequest: 0, connectTimeout: 1000, retryStrategy: () => null };
  const probe = typeof target === "string" ? new Redis(target, options) : new Redis({ ...target, ...options });
  probe.on("error", () => undefined);
  let reachable: boolean;
  try {
    await probe.connect();
    reachable = (await probe.ping()) === "PONG";
  } catch {
    reachable = false;
  } finally {
    probe.disconnect();
  }
  const where = typeof target === "string" ? target : `${target.host}:${target.port}`;
  if (!reachable && process.env.CI) {
    throw new Error(`Redis is not reachable at ${where}; CI must start it (see .ci/run), so ${testFile} may not be skipped there.`);
  }
  if (!reachable) console.warn(`${testFile}: Redis is not reachable at ${where}; skipping its Redis tests (they run on CI).`);
  return reachable;
}
