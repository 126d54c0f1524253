/**
 * Chooses the agent's executor: the launcher where one can run (Linux, the binary present, our
 * protocol), else Node's child_process, with the reason kept for health, metrics and logs. A
 * launcher that keeps crashing is given up for Node while the agent runs.
 */
import { accessSync, constants } from 'node:fs';
import { dirname, join } from 'node:path';
import type { ExecutorHealth } from '../core/health.ts';
import type { Executor } from './executor.ts';
import { startLauncherExecutor } from './launcher-executor.ts';
import { createNodeExecutor } from './node-executor.ts';

export type ExecutorPreference = 'auto' | 'launcher' | 'node';

/** `version` is the launcher's; `fallbackReason` why Node runs commands although the launcher is preferred. */
export type ExecutorStatus = ExecutorHealth;

export interface SelectedExecutor extends Executor {
  status(): ExecutorStatus;
}

export interface ExecutorSelectionOptions {
  readonly preference: ExecutorPreference;
  /** An explicit launcher binary; otherwise looked for beside the agent (see launcherCandidates). */
  readonly launcherPath?: string;
  readonly now: () => number;
  readonly onEvent?: (event: string, detail: Record<string, unknown>) => void;
}

const GO_ARCH: Partial<Record<NodeJS.Architecture, string>> = { x64: 'amd64', arm64: 'arm64' };

/**
 * Where a launcher may be: beside the installed bundle (/opt/cronplane), or in a checkout's
 * dist/ as scripts/build-launcher.sh leaves it (bin/cronplane.js runs the agent from source).
 */
export function launcherCandidates(script: string = process.argv[1] ?? ''): string[] {
  const here = dirname(script);
  const arch = GO_ARCH[process.arch];
  const candidates = [join(here, 'cronplane-launcher')];
  if (arch)
    candidates.push(join(here, '..', 'dist', 'launcher', `linux-${arch}`, 'cronplane-launcher'));
  return candidates;
}

function findLauncher(): string | null {
  for (const candidate of launcherCandidates()) {
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not there; try the next
    }
  }
  return null;
}

export async function startExecutor(options: ExecutorSelectionOptions): Promise<SelectedExecutor> {
  const emit = options.onEvent ?? (() => undefined);
  let fallbackReason: string | null = null;
  let active: Executor;
  let launcherVersion: string | null = null;
  let lastLeaseUntil: number | null = null;

  const useNode = (reason: string | null): Executor => {
    fallbackReason = reason;
    if (reason !== null) emit('executor:fallback', { reason });
    return createNodeExecutor({ now: options.now, onEvent: emit });
  };

  const path = options.preference === 'node' ? null : (options.launcherPath ?? findLauncher());
  if (options.preference === 'node') {
    active = useNode(null);
  } else if (process.platform !== 'linux') {
    active = useNode(`the launcher runs on Linux only (this is ${process.platform})`);
  } else if (path === null) {
    active = useNode(`no launcher found (looked at ${launcherCandidates().join(', ')})`);
  } else {
    try {
      const launcher = await startLauncherExecutor({
        path,
        now: options.now,
        onEvent: emit,
        onGiveUp: (reason) => {
          const previous = active;
          active = useNode(reason);
          launcherVersion = null;
          if (lastLeaseUntil !== null) active.leaseValidFor(lastLeaseUntil - performance.now());
          void previous.close();
        },
      });
      launcherVersion = launcher.version;
      active = launcher;
      emit('executor:launcher', { path, version: launcher.version, pid: launcher.pid });
    } catch (error) {
      active = useNode(error instanceof Error ? error.message : String(error));
    }
  }
  if (options.preference === 'launcher' && active.kind !== 'launcher') {
    await active.close();
    throw new Error(`the launcher is required (--executor launcher): ${String(fallbackReason)}`);
  }

  return {
    get kind() {
      return active.kind;
    },
    execute: (spec) => active.execute(spec),
    leaseValidFor(validForMs) {
      lastLeaseUntil = performance.now() + validForMs;
      active.leaseValidFor(validForMs);
    },
    close: () => active.close(),
    status: () => ({ kind: active.kind, version: launcherVersion, fallbackReason }),
  };
}
