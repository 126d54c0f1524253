/**
 * Runs one command: `shell -c command` in its own process group (so a kill reaches
 * grandchildren), stdin closed, stdout and stderr captured together up to a cap.
 *
 * A run ends when the shell has exited and its output pipes have closed. A background child that
 * keeps the pipes open would hold the run forever, so after the shell exits the pipes get a short
 * drain period and are then closed.
 */
import { spawn } from 'node:child_process';
import type { OrphanGuard } from './orphan-guard.ts';
import { createOutputBuffer } from './output-buffer.ts';

export type ExitKind = 'exited' | 'timeout' | 'killed' | 'spawn-failed';

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

export interface Execution {
  readonly pid: number;
  readonly done: Promise<ExecutionResult>;
  /** Ends the whole process group: SIGTERM, then SIGKILL after `graceMs` (0: at once). */
  kill(reason: 'killed' | 'timeout', graceMs: number): void;
}

export interface ExecuteOptions {
  readonly shell: string;
  readonly command: string;
  readonly env: Readonly<Record<string, string>>;
  readonly maxOutputBytes: number;
  readonly timeoutMs: number;
  readonly killGraceMs: number;
  readonly now: () => number;
  readonly cwd?: string;
  readonly drainAfterExitMs?: number;
  /** Told of the process group, so it dies with the agent even if the agent is killed. */
  readonly guard?: OrphanGuard;
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // ESRCH: the group is already gone.
  }
}

export function execute(options: ExecuteOptions): Execution {
  const startTime = options.now();
  const output = createOutputBuffer(options.maxOutputBytes);
  const child = spawn(options.shell, ['-c', options.command], {
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...options.env },
    cwd: options.cwd,
  });
  if (child.pid !== undefined) options.guard?.track(child.pid);
  let endReason: 'timeout' | 'killed' | null = null;
  let killTimer: NodeJS.Timeout | undefined;
  let timeoutTimer: NodeJS.Timeout | undefined;

  const kill = (reason: 'killed' | 'timeout', graceMs: number): void => {
    if (child.pid === undefined) return;
    endReason ??= reason;
    const pid = child.pid;
    if (graceMs <= 0) {
      signalGroup(pid, 'SIGKILL');
      return;
    }
    signalGroup(pid, 'SIGTERM');
    clearTimeout(killTimer);
    killTimer = setTimeout(() => signalGroup(pid, 'SIGKILL'), graceMs);
  };

  const done = new Promise<ExecutionResult>((resolve) => {
    let exit: { code: number | null; signal: NodeJS.Signals | null } | null = null;
    let openPipes = 2;
    let finished = false;
    let drainTimer: NodeJS.Timeout | undefined;

    const finish = (spawnError?: Error): void => {
      if (finished) return;
      finished = true;
      clearTimeout(timeoutTimer);
      clearTimeout(drainTimer);
      // A killed or timed-out run leaves no straggler of its group behind.
      if (child.pid !== undefined && endReason !== null) signalGroup(child.pid, 'SIGKILL');
      if (child.pid !== undefined) options.guard?.untrack(child.pid);
      clearTimeout(killTimer);
      const kind: ExitKind = spawnError ? 'spawn-failed' : (endReason ?? 'exited');
      const code = exit?.code ?? null;
      const signal = exit?.signal ?? null;
      let error = '';
      if (spawnError) error = `failed to start: ${spawnError.message}`;
      else if (kind === 'timeout') error = `timed out after ${options.timeoutMs} ms`;
      else if (kind === 'killed') error = 'killed on request';
      else if (signal) error = `terminated by ${signal}`;
      else if (code !== 0) error = `exit code ${code}`;
      resolve({
        kind,
        exitCode: code,
        signal,
        output: output.text(),
        outputTruncated: output.truncated,
        startTime,
        endTime: options.now(),
        error,
      });
    };

    const onPipeClosed = (): void => {
      openPipes--;
      if (openPipes === 0 && exit) finish();
    };
    child.stdout.on('data', (chunk: Buffer) => output.write(chunk));
    child.stderr.on('data', (chunk: Buffer) => output.write(chunk));
    child.stdout.on('close', onPipeClosed);
    child.stderr.on('close', onPipeClosed);
    child.on('error', (error) => finish(error));
    child.on('exit', (code, signal) => {
      exit = { code, signal };
      if (openPipes === 0) {
        finish();
        return;
      }
      drainTimer = setTimeout(() => {
        child.stdout.destroy();
        child.stderr.destroy();
        finish();
      }, options.drainAfterExitMs ?? 1_000);
    });
  });

  if (options.timeoutMs > 0) {
    timeoutTimer = setTimeout(() => kill('timeout', options.killGraceMs), options.timeoutMs);
  }

  return { pid: child.pid ?? 0, done, kill };
}
