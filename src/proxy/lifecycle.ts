/**
 * How the CLI's process ends: what it says while it drains, and noticing that the process that started it
 * is gone. `npx xgate` runs xgate under npm; a SIGTERM to npm ends npm alone, and xgate, adopted by init
 * (or a subreaper), would hold the port for ever. The parent's pid changing is the only sign of that.
 */

/** `draining 2 in-flight requests, up to 30 s`. */
export function drainingText(inFlight: number, graceSeconds: number): string {
  return `draining ${inFlight} in-flight request${inFlight === 1 ? "" : "s"}, up to ${graceSeconds} s`;
}

/**
 * A check that answers the pid of the parent the process started under once that parent is gone (the
 * process then has another parent: init, or a subreaper), and undefined until then. A process started
 * by init itself has nothing to watch.
 */
export function parentCheck(ppid: () => number = () => process.ppid): () => number | undefined {
  const parent = ppid();
  return () => (ppid() === parent ? undefined : parent);
}

/** Calls `onGone` once, within about a second of the parent's end; never keeps the process alive. */
export function watchParent(onGone: (parent: number) => void, intervalMs = 1000): void {
  const gone = parentCheck();
  const timer = setInterval(() => {
    const parent = gone();
    if (parent === undefined) return;
    clearInterval(timer);
    onGone(parent);
  }, intervalMs);
  timer.unref();
}
