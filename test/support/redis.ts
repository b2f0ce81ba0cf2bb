/** The machine's Redis, for tests that share state through it, and private redis-servers a test may kill. */
import { type ChildProcess, spawn } from "node:child_process";
import { createServer, type AddressInfo } from "node:net";
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

/** A redis-server of a test's own, on a free port, that the test may pause, kill and start again. */
export interface PrivateRedis {
  port: number;
  /** Stops it at once (SIGKILL), as a crash would. */
  kill(): Promise<void>;
  /** Starts it again on the same port (empty: it saves nothing). */
  restart(): Promise<void>;
  /** Freezes it (SIGSTOP): connections stay open, nothing answers. */
  pause(): void;
  resume(): void;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

function spawnRedis(port: number): Promise<ChildProcess> {
  const child = spawn("redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  return new Promise((resolve, reject) => {
    let output = "";
    child.once("error", reject);
    child.once("exit", (code) => reject(new Error(`redis-server exited with ${code}: ${output}`)));
    child.stdout!.on("data", (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes("Ready to accept connections")) resolve(child);
    });
  });
}

/**
 * Starts a private redis-server, or undefined (with a warning) where the binary is missing; on CI a missing
 * binary is a failure, as a missing Redis is.
 */
export async function startPrivateRedis(testFile: string): Promise<PrivateRedis | undefined> {
  const port = await freePort();
  let child: ChildProcess;
  try {
    child = await spawnRedis(port);
  } catch (error) {
    if (process.env.CI) throw error;
    console.warn(`${testFile}: cannot start redis-server (${(error as Error).message}); skipping the tests that need one.`);
    return undefined;
  }
  const stop = async (signal: NodeJS.Signals): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    child.kill(signal);
    await exited;
  };
  return {
    port,
    kill: () => stop("SIGKILL"),
    async restart() {
      await stop("SIGKILL");
      child = await spawnRedis(port);
    },
    pause: () => child.kill("SIGSTOP"),
    resume: () => child.kill("SIGCONT"),
  };
}
