/**
 * A CommonJS dependency loaded the first time it is asked for, not at start: for a library only some settings
 * use (ioredis with Redis, pg with Postgres), which a proxy without them should not hold in memory. Synchronous,
 * unlike `import()`, because connections are opened from synchronous code.
 */
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);

export function loadOnUse<T>(name: string): () => T {
  let loaded: T | undefined;
  return () => (loaded ??= require(name) as T);
}
