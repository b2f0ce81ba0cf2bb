/** The slice of a pino logger the router and health checks use; pino's Logger satisfies it. */
export interface RouterLogger {
  info(fields: object, message?: string): void;
  warn(fields: object, message?: string): void;
}

export const silentLogger: RouterLogger = {
  info: () => undefined,
  warn: () => undefined,
};

/**
 * Logs a recurring problem (Redis down, say) when it starts and then at most once per interval, so that a
 * failing dependency does not write one line per request.
 */
export function throttledWarn(logger: RouterLogger, now: () => number, intervalMs = 30_000): (fields: object, message: string) => void {
  let last = Number.NEGATIVE_INFINITY;
  let suppressed = 0;
  return (fields, message) => {
    const at = now();
    if (at - last < intervalMs) {
      suppressed++;
      return;
    }
    logger.warn(suppressed > 0 ? { ...fields, suppressed } : fields, message);
    last = at;
    suppressed = 0;
  };
}
