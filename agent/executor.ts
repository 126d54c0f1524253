/**
 * What runs a command for the agent: `shell -c command` in its own process group (so a kill
 * reaches grandchildren), stdin closed, stdout and stderr captured together up to a cap (head and
 * tail kept). Two implementations pass one contract suite (test/integration/executor.contract.ts):
 * the launcher (launcher/README.md), which starts processes outside the agent's heap, and Node's
 * child_process, the fallback where no launcher can run.
 *
 * A run ends when the shell has exited and its output has closed (a background child holding the
 * output gets a drain period); then whatever is left of its process group is killed, so a
 * finished run leaves nothing behind.
 *
 * Fencing: `leaseValidFor(ms)` says how long the agent's etcd session is surely held. When that
 * passes without a newer call, every `fenced` run (a `forbid` job's, whose lock lives on that
 * session) is killed at once: another agent may be handed the lock. The launcher does this in its
 * own process, so it holds even while the agent is frozen.
 */

export type ExecutorKind = 'launcher' | 'node';

/**
 * `lost`: the executor itself died with the run in flight (the launcher crashed); the run's
 * process group was killed and its output is gone.
 */
export type ExitKind = 'exited' | 'timeout' | 'killed' | 'fenced' | 'spawn-failed' | 'lost';

export interface ExecutionResult {
  readonly kind: ExitKind;
  readonly exitCode: number | null;
  readonly signal: string | null;
  readonly output: string;
  readonly outputTruncated: boolean;
  readonly startTime: number;
  readonly endTime: number;
  readonly error: string;
}

export interface ExecutionStart {
  readonly pid: number;
  /** When the process was started, by the agent's clock. */
  readonly startTime: number;
}

export interface Execution {
  /** Resolves once the process runs, or with null when it never started. */
  readonly started: Promise<ExecutionStart | null>;
  readonly done: Promise<ExecutionResult>;
  /** Ends the whole process group: SIGTERM, then SIGKILL after `graceMs` (0: at once). */
  kill(graceMs: number): void;
}

export interface ExecuteOptions {
  readonly shell: string;
  readonly command: string;
  /** Added to the agent's own environment. */
  readonly env: Readonly<Record<string, string>>;
  readonly cwd?: string;
  readonly maxOutputBytes: number;
  /** 0: no timeout. */
  readonly timeoutMs: number;
  readonly killGraceMs: number;
  readonly drainAfterExitMs: number;
  /** Killed when the lease lapses (see `leaseValidFor`). */
  readonly fenced: boolean;
}

export interface Executor {
  readonly kind: ExecutorKind;
  execute(options: ExecuteOptions): Execution;
  /** The agent's session is surely held for `validForMs` more; fenced runs end when it lapses. */
  leaseValidFor(validForMs: number): void;
  /** Ends the executor; runs still in flight are killed. */
  close(): Promise<void>;
}

/** The `error` text of a result, the same for every executor (launcher/README.md). */
export function errorText(
  kind: ExitKind,
  exitCode: number | null,
  signal: string | null,
  timeoutMs: number,
): string {
  switch (kind) {
    case 'timeout':
      return `timed out after ${timeoutMs} ms`;
    case 'killed':
      return 'killed on request';
    case 'fenced':
      return "killed: the agent's session lapsed";
    default:
      if (signal) return `terminated by ${signal}`;
      return exitCode === 0 ? '' : `exit code ${exitCode}`;
  }
}
