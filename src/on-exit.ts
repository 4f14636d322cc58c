/**
 * What must not outlive the process (temporary folders, the programs it started) is undone on every
 * way out: an exit, and SIGINT, SIGTERM or SIGHUP. The cleanups are synchronous, because nothing
 * else runs then.
 */
const cleanups = new Set<() => void>();
const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
let watching = false;

/** Runs `cleanup` on the way out; registering the same function again changes nothing. */
export function onExit(cleanup: () => void): void {
  cleanups.add(cleanup);
  if (watching) return;
  watching = true;
  const runAll = () => {
    for (const run of cleanups) run();
  };
  process.on('exit', runAll);
  for (const signal of SIGNALS) {
    process.on(signal, function onSignal() {
      runAll();
      // Alone, this listener has replaced the default action: restore it and die of the signal.
      // Another listener (the language server's) decides for itself.
      if (process.listenerCount(signal) === 1) {
        process.removeListener(signal, onSignal);
        process.kill(process.pid, signal);
      }
    });
  }
}
