/**
 * Real agent processes for integration tests: `cronplane agent` spawned with its own state dir,
 * its structured stderr parsed into events that tests can wait on.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export interface AgentEvent {
  readonly event: string;
  readonly [key: string]: unknown;
}

export interface AgentProcessOptions {
  readonly etcdEndpoints: readonly string[];
  readonly mongoUrl: string;
  readonly database: string;
  readonly prefix: string;
  readonly agentId: string;
  readonly stateDir?: string;
  readonly sessionTtlSeconds?: number;
  readonly clockOffsetMs?: number;
  readonly extraArgs?: readonly string[];
}

export interface AgentProcess {
  readonly agentId: string;
  readonly stateDir: string;
  readonly child: ChildProcess;
  readonly events: AgentEvent[];
  /** Resolves with the first event (past or future) matching; rejects on timeout or exit. */
  waitForEvent(
    name: string,
    match?: (event: AgentEvent) => boolean,
    timeoutMs?: number,
  ): Promise<AgentEvent>;
  readonly exited: Promise<number | null>;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
  logTail(): string;
}

const CLI = resolve(import.meta.dirname, '../../bin/cronplane.js');
const running = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

export function startAgentProcess(options: AgentProcessOptions): AgentProcess {
  const stateDir =
    options.stateDir ?? mkdtempSync(join(tmpdir(), `cronplane-agent-${options.agentId}-`));
  const args = [
    CLI,
    'agent',
    '--etcd-endpoints',
    options.etcdEndpoints.join(','),
    '--mongo-url',
    options.mongoUrl,
    '--database',
    options.database,
    '--prefix',
    options.prefix,
    '--agent-id',
    options.agentId,
    '--state-dir',
    stateDir,
    '--session-ttl-seconds',
    String(options.sessionTtlSeconds ?? 3),
    '--log-flush-interval-ms',
    '100',
    // `=` form: parseArgs reads a separate negative number as another option.
    `--clock-offset-ms=${options.clockOffsetMs ?? 0}`,
    '--shutdown-grace-ms',
    '5000',
    ...(options.extraArgs ?? []),
  ];
  const child = spawn(process.execPath, args, {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, CRONPLANE_VERBOSE: '1' },
  });
  running.add(child);
  const events: AgentEvent[] = [];
  const waiters = new Set<{
    name: string;
    match: (e: AgentEvent) => boolean;
    resolve: (e: AgentEvent) => void;
  }>();
  const tail: string[] = [];
  let buffered = '';
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (chunk: string) => {
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
      events.push(event);
      for (const waiter of waiters) {
        if (waiter.name === event.event && waiter.match(event)) {
          waiters.delete(waiter);
          waiter.resolve(event);
        }
      }
    }
  });
  child.stdout?.resume();
  const exited = new Promise<number | null>((resolveExit) => {
    child.on('exit', (code) => {
      running.delete(child);
      resolveExit(code);
    });
  });
  const logTail = (): string => tail.slice(-40).join('\n');

  return {
    agentId: options.agentId,
    stateDir,
    child,
    events,
    exited,
    logTail,
    waitForEvent(name, match = () => true, timeoutMs = 15_000) {
      const past = events.find((e) => e.event === name && match(e));
      if (past) return Promise.resolve(past);
      return new Promise((resolveEvent, reject) => {
        const waiter = {
          name,
          match,
          resolve: (e: AgentEvent) => {
            clearTimeout(timer);
            resolveEvent(e);
          },
        };
        const timer = setTimeout(() => {
          waiters.delete(waiter);
          reject(
            new Error(
              `agent ${options.agentId}: no "${name}" event within ${timeoutMs} ms\n${logTail()}`,
            ),
          );
        }, timeoutMs);
        waiters.add(waiter);
        void exited.then((code) => {
          if (!waiters.has(waiter)) return;
          waiters.delete(waiter);
          clearTimeout(timer);
          reject(
            new Error(`agent ${options.agentId} exited (${code}) before "${name}"\n${logTail()}`),
          );
        });
      });
    },
    async stop(signal = 'SIGTERM') {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      child.kill(signal);
      return exited;
    },
  };
}
