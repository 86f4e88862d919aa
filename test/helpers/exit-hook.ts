/** Clean-up that runs when the test process exits, so that no child process or temporary directory outlives it. */
import type { ChildProcess } from 'node:child_process';

const cleanups = new Set<() => void>();
let installed = false;

/** Runs `cleanup` (synchronous work only) at process exit unless the returned function is called first. */
export function atExit(cleanup: () => void): () => void {
  if (!installed) {
    installed = true;
    process.on('exit', () => {
      for (const run of cleanups) {
        try {
          run();
        } catch {
          // the next clean-up still runs
        }
      }
    });
  }
  cleanups.add(cleanup);
  return () => cleanups.delete(cleanup);
}

/** SIGKILLs `child` at process exit if it still runs then. */
export function killAtExit(child: ChildProcess): void {
  const forget = atExit(() => child.kill('SIGKILL'));
  child.once('exit', forget);
}
