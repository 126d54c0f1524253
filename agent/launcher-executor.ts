/**
 * The executor that hands each run to cronplane-launcher (launcher/README.md), a small Go
 * process the agent starts once: launches cost what they cost the machine, not a fork of the
 * agent's heap on its event loop.
 *
 * States: starting → ready ⇄ restarting → closed.
 *   starting    the launcher was spawned; runs are written to its stdin and wait there for it.
 *   ready       it said hello with our protocol version.
 *   restarting  it exited unexpectedly: the runs it had are killed (by process group, as far as
 *               it had reported them) and end as `lost`; a new launcher is started at once, and
 *               runs go to it. Too many crashes in a row and `onGiveUp` tells the agent to fall
 *               back to Node for what comes next.
 *   closed      close() ended its stdin; the launcher kills what is left and exits.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import {
  type ExecutionResult,
  type ExecutionStart,
  type Executor,
  type ExitKind,
} from './executor.ts';

export const LAUNCHER_PROTOCOL = 1;
const HELLO_TIMEOUT_MS = 10_000;
/** Crashes within this window count as "in a row". */
const CRASH_WINDOW_MS = 60_000;
const MAX_CRASHES_IN_WINDOW = 5;

export class LauncherError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LauncherError';
  }
}

export interface LauncherExecutorOptions {
  readonly path: string;
  /** The agent's clock (it may be offset in tests); the launcher reports wall-clock times. */
  readonly now: () => number;
  readonly onEvent?: (event: string, detail: Record<string, unknown>) => void;
  /** The launcher keeps crashing: runs from now on should go elsewhere. */
  readonly onGiveUp?: (reason: string) => void;
}

export interface LauncherExecutor extends Executor {
  /** The launcher's version, from its hello. */
  readonly version: string;
  /** The launcher's process id (changes when it is restarted). */
  readonly pid: number;
}

interface InFlight {
  pid: number | null;
  resolveStarted(start: ExecutionStart | null): void;
  resolveDone(result: ExecutionResult): void;
}

interface Hello {
  readonly version: string;
  readonly pid: number;
}

type LauncherMessage =
  | { t: 'hello'; protocol: number; version: string; pid: number }
  | { t: 'started'; id: string; pid: number; startTime: number }
  | {
      t: 'ended';
      id: string;
      kind: ExitKind;
      exitCode: number | null;
      signal: string | null;
      output: string;
      outputTruncated: boolean;
      startTime: number;
      endTime: number;
      error: string;
    }
  | { t: 'error'; error: string };

function killGroup(pid: number): void {
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // ESRCH: gone already.
  }
}

/** Starts a launcher and resolves once it has said hello with our protocol. */
export async function startLauncherExecutor(
  options: LauncherExecutorOptions,
): Promise<LauncherExecutor> {
  const emit = options.onEvent ?? (() => undefined);
  const runs = new Map<string, InFlight>();
  let nextId = 0;
  let closed = false;
  let gaveUp = false;
  let crashes: number[] = [];
  let lastLease: number | null = null;
  let hello: Hello = { version: '', pid: 0 };
  /** Agent clock minus wall clock: the launcher reports wall-clock times. */
  const clockOffset = (): number => options.now() - Date.now();

  function onMessage(line: string): void {
    let message: LauncherMessage;
    try {
      message = JSON.parse(line) as LauncherMessage;
    } catch {
      emit('launcher:badMessage', { line: line.slice(0, 200) });
      return;
    }
    switch (message.t) {
      case 'started': {
        const run = runs.get(message.id);
        if (!run) return;
        run.pid = message.pid;
        run.resolveStarted({ pid: message.pid, startTime: message.startTime + clockOffset() });
        return;
      }
      case 'ended': {
        const run = runs.get(message.id);
        if (!run) return;
        runs.delete(message.id);
        const offset = clockOffset();
        if (run.pid === null) run.resolveStarted(null);
        run.resolveDone({
          kind: message.kind,
          exitCode: message.exitCode,
          signal: message.signal,
          output: message.output,
          outputTruncated: message.outputTruncated,
          startTime: message.startTime + offset,
          endTime: message.endTime + offset,
          error: message.error,
        });
        return;
      }
      case 'error':
        emit('launcher:error', { error: message.error });
        return;
      case 'hello':
        return;
    }
  }

  function launch(): { child: ChildProcessWithoutNullStreams; hello: Promise<Hello> } {
    const child = spawn(options.path, [], { stdio: ['pipe', 'pipe', 'pipe'] });
    child.stdin.on('error', () => undefined);
    child.stderr.on('data', (chunk: Buffer) =>
      emit('launcher:stderr', { text: chunk.toString('utf8').slice(0, 2_000) }),
    );
    const greeted = new Promise<Hello>((resolve, reject) => {
      let buffered = '';
      let greeting = true;
      const timer = setTimeout(() => {
        reject(new LauncherError(`${options.path} said no hello within ${HELLO_TIMEOUT_MS} ms`));
        child.kill('SIGKILL');
      }, HELLO_TIMEOUT_MS);
      child.stdout.setEncoding('utf8');
      child.stdout.on('data', (chunk: string) => {
        buffered += chunk;
        let newline = buffered.indexOf('\n');
        while (newline >= 0) {
          const line = buffered.slice(0, newline);
          buffered = buffered.slice(newline + 1);
          newline = buffered.indexOf('\n');
          if (!greeting) {
            onMessage(line);
            continue;
          }
          greeting = false;
          clearTimeout(timer);
          const said = (() => {
            try {
              return JSON.parse(line) as Partial<{ t: string; protocol: number } & Hello>;
            } catch {
              return {};
            }
          })();
          if (said.t !== 'hello' || said.protocol !== LAUNCHER_PROTOCOL) {
            reject(
              new LauncherError(
                `${options.path} speaks protocol ${String(said.protocol)}, the agent ${LAUNCHER_PROTOCOL}`,
              ),
            );
            child.kill('SIGKILL');
            return;
          }
          resolve({ version: String(said.version), pid: Number(said.pid) });
        }
      });
      child.on('error', (error) => {
        clearTimeout(timer);
        reject(new LauncherError(`cannot start ${options.path}: ${error.message}`));
      });
      child.on('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new LauncherError(`${options.path} exited (${signal ?? `code ${code}`})`));
      });
    });
    return { child, hello: greeted };
  }

  function send(message: Record<string, unknown>): void {
    current.stdin.write(`${JSON.stringify(message)}\n`);
  }

  /** Ends every run still in flight here, the launcher being gone. */
  function endInFlight(kind: ExitKind, error: string): void {
    const endTime = options.now();
    for (const [id, run] of runs) {
      runs.delete(id);
      if (run.pid !== null) killGroup(run.pid);
      else run.resolveStarted(null);
      run.resolveDone({
        kind,
        exitCode: null,
        signal: null,
        output: '',
        outputTruncated: false,
        startTime: endTime,
        endTime,
        error,
      });
    }
  }

  /** The launcher died: what it ran is ended here, and a new one takes over. */
  function onExit(child: ChildProcessWithoutNullStreams, how: string): void {
    if (child !== current || gaveUp) return;
    if (closed) {
      endInFlight('killed', 'killed: the agent stopped');
      return;
    }
    endInFlight(
      'lost',
      `the launcher exited (${how}) while the run was in flight; its process group was killed`,
    );
    const nowMs = Date.now();
    crashes = [...crashes.filter((at) => nowMs - at < CRASH_WINDOW_MS), nowMs];
    emit('launcher:crashed', { how, crashesInWindow: crashes.length });
    if (crashes.length >= MAX_CRASHES_IN_WINDOW) {
      gaveUp = true;
      options.onGiveUp?.(`the launcher crashed ${crashes.length} times within a minute (${how})`);
      return;
    }
    watch(launch());
    // The new launcher fences by the last lease we know of, as the old one did.
    if (lastLease !== null) send({ t: 'lease', validForMs: lastLease - performance.now() });
  }

  function watch(started: { child: ChildProcessWithoutNullStreams; hello: Promise<Hello> }): void {
    const { child } = started;
    current = child;
    child.on('exit', (code, signal) => onExit(child, signal ?? `code ${code}`));
    started.hello.then(
      (said) => {
        hello = said;
        emit('launcher:ready', { version: said.version, pid: said.pid });
      },
      (error: unknown) => onExit(child, String(error)),
    );
  }

  const first = launch();
  let current = first.child;
  hello = await first.hello;
  watch(first);

  return {
    kind: 'launcher',
    get version() {
      return hello.version;
    },
    get pid() {
      return hello.pid;
    },
    execute(spec) {
      const id = String(++nextId);
      let resolveStarted: (start: ExecutionStart | null) => void = () => undefined;
      let resolveDone: (result: ExecutionResult) => void = () => undefined;
      const started = new Promise<ExecutionStart | null>((resolve) => {
        resolveStarted = resolve;
      });
      const done = new Promise<ExecutionResult>((resolve) => {
        resolveDone = resolve;
      });
      if (closed || gaveUp) {
        const at = options.now();
        resolveStarted(null);
        resolveDone({
          kind: 'spawn-failed',
          exitCode: null,
          signal: null,
          output: '',
          outputTruncated: false,
          startTime: at,
          endTime: at,
          error: `failed to start: ${closed ? 'the agent is stopping' : 'the launcher gave up'}`,
        });
        return { started, done, kill: () => undefined };
      }
      runs.set(id, { pid: null, resolveStarted, resolveDone });
      send({
        t: 'run',
        id,
        shell: spec.shell,
        command: spec.command,
        env: spec.env,
        ...(spec.cwd !== undefined ? { cwd: spec.cwd } : {}),
        maxOutputBytes: spec.maxOutputBytes,
        timeoutMs: spec.timeoutMs,
        killGraceMs: spec.killGraceMs,
        drainAfterExitMs: spec.drainAfterExitMs,
        fenced: spec.fenced,
      });
      return {
        started,
        done,
        kill(graceMs) {
          if (runs.has(id)) send({ t: 'kill', id, graceMs });
        },
      };
    },
    leaseValidFor(validForMs) {
      lastLease = performance.now() + validForMs;
      send({ t: 'lease', validForMs });
    },
    close() {
      if (closed) return Promise.resolve();
      closed = true;
      const child = current;
      if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
      return new Promise((resolve) => {
        child.once('exit', () => resolve());
        child.stdin.end();
      });
    },
  };
}
