/**
 * Kills the process groups of running jobs when the agent dies without a chance to do it itself
 * (SIGKILL, OOM kill, crash). Job groups are detached, so nothing else ties them to the agent;
 * left alive, a `forbid` job's orphan would run beside the next run once the lock expires.
 *
 * One small bash process per agent watches a pipe from the agent: `+<pgid>` when a run starts,
 * `-<pgid>` when it ends. When the pipe closes with groups still listed, the agent is gone and
 * the guard SIGKILLs them. It runs in a group of its own so a signal to the agent's group does
 * not reach it first. Under systemd (install.sh's unit) the cgroup kill covers this too; the
 * guard makes it hold everywhere.
 */
import { spawn, type ChildProcess } from 'node:child_process';

const GUARD_SCRIPT = `
declare -A groups
while IFS= read -r line; do
  case "$line" in
    +*) groups["\${line#+}"]=1 ;;
    -*) unset "groups[\${line#-}]" ;;
  esac
done
for pgid in "\${!groups[@]}"; do kill -KILL -- "-$pgid" 2>/dev/null; done
`;

export interface OrphanGuard {
  track(pgid: number): void;
  untrack(pgid: number): void;
  /** Ends the guard after a clean shutdown (no groups left to kill). */
  close(): void;
}

export function startOrphanGuard(
  bashPath = '/bin/bash',
  onEvent?: (event: string, detail: Record<string, unknown>) => void,
): OrphanGuard {
  let guard: ChildProcess | null = spawn(bashPath, ['-c', GUARD_SCRIPT], {
    detached: true,
    stdio: ['pipe', 'ignore', 'ignore'],
  });
  guard.on('error', (error) => {
    onEvent?.('guard:unavailable', { error: error.message });
    guard = null;
  });
  guard.stdin?.on('error', () => undefined);
  // The guard must never keep the agent's event loop alive: neither the process nor its pipe.
  guard.unref();
  const pipe = guard.stdin as (NodeJS.WritableStream & { unref?: () => void }) | null;
  pipe?.unref?.();
  const send = (line: string): void => {
    if (guard?.stdin?.writable) guard.stdin.write(`${line}\n`);
  };
  return {
    track: (pgid) => send(`+${pgid}`),
    untrack: (pgid) => send(`-${pgid}`),
    close() {
      guard?.stdin?.end();
      guard = null;
    },
  };
}
