/**
 * Agent processes for benchmarks. Like test/agent/agent-process.ts (same flags, same verbose
 * event stream), plus what a benchmark needs: the esbuild bundle as an alternative entry, flags
 * for node itself (--cpu-prof), extra environment, and listeners that count events as they arrive.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { AgentEvent } from '../../test/agent/agent-process.ts';
import { findPdeathsigWrapper } from '../../test/stack/process.ts';

export type { AgentEvent };

/** `tsx`: `node bin/cronplane.js agent` (TypeScript through tsx); `bundle`: `node <file>.cjs`. */
export type AgentEntry =
  { readonly kind: 'tsx' } | { readonly kind: 'bundle'; readonly path: string };

export interface BenchAgentOptions {
  readonly etcdEndpoints: readonly string[];
  readonly mongoUrl: string;
  readonly database: string;
  readonly prefix: string;
  readonly agentId: string;
  readonly entry?: AgentEntry;
  readonly extraArgs?: readonly string[];
  /** Added to the inherited environment (CRONPLANE_VERBOSE=1 is always set). */
  readonly env?: Readonly<Record<string, string>>;
  /** Flags for node itself, e.g. `--cpu-prof` (which NODE_OPTIONS refuses). */
  readonly nodeFlags?: readonly string[];
  /** Keep every event in `events` (default true); listeners see them either way. */
  readonly keepEvents?: boolean;
}

export interface BenchAgent {
  readonly agentId: string;
  readonly stateDir: string;
  readonly pid: number;
  readonly events: AgentEvent[];
  /** How it starts runs, from its `agent:ready` event (`launcher` or `node`); undefined before. */
  readonly executor: string | undefined;
  /** Calls `listener` for each future event named `name`; returns the unsubscribe. */
  on(name: string, listener: (event: AgentEvent) => void): () => void;
  /** The first event (past or future) named `name` matching; rejects on timeout or exit. */
  waitForEvent(
    name: string,
    match?: (event: AgentEvent) => boolean,
    timeoutMs?: number,
  ): Promise<AgentEvent>;
  clearEvents(): void;
  readonly exited: Promise<number | null>;
  /** SIGTERM (a graceful stop, which also writes a --cpu-prof profile), SIGKILL after 15 s. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
  logTail(): string;
}

const CLI = resolve(import.meta.dirname, '../../bin/cronplane.js');
const STOP_GRACE_MS = 15_000;
const live = new Set<() => void>();
process.on('exit', () => {
  for (const kill of live) kill();
});

export function startBenchAgent(options: BenchAgentOptions): BenchAgent {
  const entry = options.entry ?? { kind: 'tsx' };
  const stateDir = mkdtempSync(join(tmpdir(), `cronplane-bench-${options.agentId}-`));
  const agentArgs = [
    ...['--etcd-endpoints', options.etcdEndpoints.join(',')],
    ...['--mongo-url', options.mongoUrl],
    ...['--database', options.database],
    ...['--prefix', options.prefix],
    ...['--agent-id', options.agentId],
    ...['--state-dir', stateDir],
    ...['--shutdown-grace-ms', '5000'],
    ...(options.extraArgs ?? []),
  ];
  const nodeArgs = [
    ...(options.nodeFlags ?? []),
    ...(entry.kind === 'tsx' ? [CLI, 'agent'] : [entry.path]),
    ...agentArgs,
  ];
  // As the stack's servers: the kernel kills the agent if we die without running exit hooks.
  const wrapper = findPdeathsigWrapper();
  const [command, args] = wrapper
    ? [wrapper, ['--pdeathsig', 'SIGKILL', process.execPath, ...nodeArgs]]
    : [process.execPath, nodeArgs];
  const child = spawn(command, args, {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...options.env, CRONPLANE_VERBOSE: '1' },
  });
  const killNow = (): void => {
    child.kill('SIGKILL');
  };
  live.add(killNow);
  const keepEvents = options.keepEvents ?? true;
  const events: AgentEvent[] = [];
  let executor: string | undefined;
  const listeners = new Map<string, Set<(event: AgentEvent) => void>>();
  const tail: string[] = [];
  let buffered = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk: string) => {
    buffered += chunk;
    let newline;
    while ((newline = buffered.indexOf('\n')) >= 0) {
      const line = buffered.slice(0, newline);
      buffered = buffered.slice(newline + 1);
      tail.push(line);
      if (tail.length > 200) tail.shift();
      let event: AgentEvent;
      try {
        event = JSON.parse(line) as AgentEvent;
      } catch {
        continue;
      }
      if (typeof event.event !== 'string') continue;
      if (event.event === 'agent:ready')
        executor = typeof event.executor === 'string' ? event.executor : 'unknown';
      if (keepEvents) events.push(event);
      for (const listener of listeners.get(event.event) ?? []) listener(event);
    }
  });
  child.stdout.resume();
  const exited = new Promise<number | null>((resolveExit) => {
    child.on('exit', (code) => {
      live.delete(killNow);
      resolveExit(code);
    });
  });
  const logTail = (): string => tail.slice(-40).join('\n');

  const on = (name: string, listener: (event: AgentEvent) => void): (() => void) => {
    const set = listeners.get(name) ?? new Set();
    listeners.set(name, set);
    set.add(listener);
    return () => set.delete(listener);
  };

  return {
    agentId: options.agentId,
    stateDir,
    pid: child.pid ?? -1,
    events,
    get executor() {
      return executor;
    },
    on,
    clearEvents() {
      events.length = 0;
    },
    exited,
    logTail,
    waitForEvent(name, match = () => true, timeoutMs = 30_000) {
      const past = events.find((e) => e.event === name && match(e));
      if (past) return Promise.resolve(past);
      return new Promise((resolveEvent, reject) => {
        const finish = (): void => {
          clearTimeout(timer);
          off();
        };
        const off = on(name, (event) => {
          if (!match(event)) return;
          finish();
          resolveEvent(event);
        });
        const timer = setTimeout(() => {
          off();
          reject(
            new Error(
              `agent ${options.agentId}: no "${name}" within ${timeoutMs} ms\n${logTail()}`,
            ),
          );
        }, timeoutMs);
        void exited.then((code) => {
          finish();
          reject(
            new Error(`agent ${options.agentId} exited (${code}) before "${name}"\n${logTail()}`),
          );
        });
      });
    },
    async stop(signal = 'SIGTERM') {
      const stopping = performance.now();
      if (child.exitCode === null && child.signalCode === null) {
        child.kill(signal);
        const timer = setTimeout(killNow, STOP_GRACE_MS);
        await exited;
        clearTimeout(timer);
        if (performance.now() - stopping > 5_000)
          process.stderr.write(
            `[bench] agent ${options.agentId} took ${Math.round(performance.now() - stopping)} ms to stop (${child.signalCode ?? child.exitCode})\n`,
          );
      }
      rmSync(stateDir, { recursive: true, force: true });
      return child.exitCode;
    },
  };
}

/** Starts agents in parallel and waits until each is scheduling. */
export async function startBenchAgents(
  ids: readonly string[],
  options: Omit<BenchAgentOptions, 'agentId'>,
  readyTimeoutMs = 60_000,
): Promise<BenchAgent[]> {
  const agents = ids.map((agentId) => startBenchAgent({ ...options, agentId }));
  try {
    await Promise.all(agents.map((a) => a.waitForEvent('agent:ready', () => true, readyTimeoutMs)));
  } catch (error) {
    await Promise.all(agents.map((a) => a.stop('SIGKILL')));
    throw error;
  }
  return agents;
}
