/**
 * The fallback executor: Node's child_process, on the agent's own event loop. Node's spawn forks
 * the agent (its cost grows with the agent's heap, and it blocks the loop while it lasts), so the
 * agent prefers the launcher and uses this only where none can run; it says so in its health.
 *
 * Fencing works while the agent runs; a frozen agent cannot fence (the launcher can). An orphan
 * guard kills the runs' groups if the agent dies without the chance to (see orphan-guard.ts).
 */
import { spawn } from 'node:child_process';
import {
  errorText,
  type ExecuteOptions,
  type Execution,
  type ExecutionResult,
  type ExecutionStart,
  type Executor,
  type ExitKind,
} from './executor.ts';
import { startOrphanGuard } from './orphan-guard.ts';
import { createOutputBuffer } from './output-buffer.ts';

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // ESRCH: the group is already gone.
  }
}

export interface NodeExecutorOptions {
  /** The agent's clock (it may be offset in tests). */
  readonly now: () => number;
  readonly onEvent?: (event: string, detail: Record<string, unknown>) => void;
}

export function createNodeExecutor(options: NodeExecutorOptions): Executor {
  const guard = startOrphanGuard('/bin/bash', options.onEvent);
  /** Kill functions of the fenced runs in flight. */
  const fenced = new Set<() => void>();
  const all = new Set<() => void>();
  let fenceTimer: NodeJS.Timeout | undefined;
  let lapsed = false;

  function execute(spec: ExecuteOptions): Execution {
    const startTime = options.now();
    const output = createOutputBuffer(spec.maxOutputBytes);
    const child = spawn(spec.shell, ['-c', spec.command], {
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ...spec.env },
      ...(spec.cwd !== undefined ? { cwd: spec.cwd } : {}),
    });
    const pid = child.pid;
    if (pid !== undefined) guard.track(pid);
    let endReason: 'timeout' | 'killed' | 'fenced' | null = null;
    let killTimer: NodeJS.Timeout | undefined;
    let timeoutTimer: NodeJS.Timeout | undefined;

    const terminate = (reason: 'timeout' | 'killed' | 'fenced', graceMs: number): void => {
      if (pid === undefined) return;
      endReason ??= reason;
      if (graceMs <= 0) {
        signalGroup(pid, 'SIGKILL');
        return;
      }
      signalGroup(pid, 'SIGTERM');
      clearTimeout(killTimer);
      killTimer = setTimeout(() => signalGroup(pid, 'SIGKILL'), graceMs);
    };
    const fence = (): void => terminate('fenced', 0);
    const killAll = (): void => terminate('killed', 0);

    let resolveStarted: (start: ExecutionStart | null) => void = () => undefined;
    const started = new Promise<ExecutionStart | null>((resolve) => {
      resolveStarted = resolve;
    });

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
        clearTimeout(killTimer);
        fenced.delete(fence);
        all.delete(killAll);
        // Nothing of a finished run's group is left behind, whatever it left running.
        if (pid !== undefined) {
          signalGroup(pid, 'SIGKILL');
          guard.untrack(pid);
        }
        const kind: ExitKind = spawnError ? 'spawn-failed' : (endReason ?? 'exited');
        const code = exit?.code ?? null;
        const signal = exit?.signal ?? null;
        if (spawnError) resolveStarted(null);
        resolve({
          kind,
          exitCode: code,
          signal,
          output: output.text(),
          outputTruncated: output.truncated,
          startTime,
          endTime: options.now(),
          error: spawnError
            ? `failed to start: ${spawnError.message}`
            : errorText(kind, code, signal, spec.timeoutMs),
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
      child.on('spawn', () => {
        if (pid !== undefined) resolveStarted({ pid, startTime });
      });
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
        }, spec.drainAfterExitMs);
      });
    });

    if (pid !== undefined) {
      all.add(killAll);
      if (spec.fenced) {
        fenced.add(fence);
        if (lapsed) fence();
      }
      if (spec.timeoutMs > 0) {
        timeoutTimer = setTimeout(() => terminate('timeout', spec.killGraceMs), spec.timeoutMs);
      }
    }
    return { started, done, kill: (graceMs) => terminate('killed', graceMs) };
  }

  return {
    kind: 'node',
    execute,
    leaseValidFor(validForMs) {
      clearTimeout(fenceTimer);
      lapsed = validForMs <= 0;
      const lapse = (): void => {
        lapsed = true;
        for (const fence of [...fenced]) fence();
      };
      if (lapsed) lapse();
      else fenceTimer = setTimeout(lapse, validForMs);
    },
    close() {
      clearTimeout(fenceTimer);
      for (const kill of [...all]) kill();
      guard.close();
      return Promise.resolve();
    },
  };
}
