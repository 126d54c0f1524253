/**
 * A server child process (etcd, FerretDB, mongod) owned by the test process.
 *
 * Its stdout and stderr go to a log file (appended across restarts) and to an in-memory tail
 * that failure messages quote. Children must not outlive us, whichever way we die:
 * - normal exit, `process.exit()`, uncaught exception: an 'exit' hook SIGKILLs live children;
 * - SIGKILL or a crash of the Node process: no hook runs, so on Linux each child is started
 *   through `setpriv --pdeathsig SIGKILL` (util-linux), which asks the kernel to kill it when
 *   its parent dies. The kernel ties this to the *thread* that forked it; Node forks from the
 *   main thread, so do not start servers from a worker thread;
 * - Ctrl-C in a terminal: children stay in our process group (`detached: false`), so they get
 *   the SIGINT too and shut down cleanly.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { finished } from 'node:stream/promises';
import { findExecutable } from './find-executable.ts';
import { createLogTail, type LogTail } from './log-tail.ts';
import { waitUntil, WaitTimeoutError, type Truthy } from './wait.ts';

export type ServerErrorCode = 'server_spawn_failed' | 'server_exited' | 'server_not_ready';

export class ServerError extends Error {
  readonly code: ServerErrorCode;
  readonly logTail: string;

  constructor(code: ServerErrorCode, message: string, logTail: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'ServerError';
    this.code = code;
    this.logTail = logTail;
  }
}

export interface ExitStatus {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

export interface ServerProcessOptions {
  /** Short name used in messages: `etcd`, `ferretdb`, `mongod`. */
  readonly name: string;
  readonly command: string;
  readonly args: readonly string[];
  /** Output of every life of the server is appended here. */
  readonly logFile: string;
  /** Pass the previous life's tail on restart so a failure shows both. */
  readonly tail?: LogTail;
  readonly env?: NodeJS.ProcessEnv;
  readonly cwd?: string;
}

export interface ServerProcess {
  readonly name: string;
  readonly pid: number;
  readonly logFile: string;
  /** Settles when the process has exited and its output has been drained. */
  readonly exited: Promise<ExitStatus>;
  /** Undefined while the process runs. */
  exitStatus(): ExitStatus | undefined;
  logTail(): string;
  /**
   * Polls `probe` until it returns a truthy value. Fails fast if the process exits, and on
   * timeout; either failure says what did not happen and quotes the log tail.
   */
  waitFor<T>(probe: () => T | Promise<T>, timeoutMs: number, what: string): Promise<Truthy<T>>;
  /**
   * Sends `signal` (default SIGKILL). Resolves once the process has exited, or at once for
   * signals that do not end it (SIGSTOP, SIGCONT, …: freeze a server to simulate a partition).
   */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves once exited. Idempotent. */
  stop(graceMs?: number): Promise<void>;
}

const NON_TERMINATING_SIGNALS = new Set<NodeJS.Signals>([
  'SIGSTOP',
  'SIGCONT',
  'SIGTSTP',
  'SIGTTIN',
  'SIGTTOU',
  'SIGWINCH',
  'SIGURG',
  'SIGCHLD',
]);

const DEFAULT_STOP_GRACE_MS = 5000;

const liveChildren = new Set<ChildProcess>();
let exitHookInstalled = false;

function trackChild(child: ChildProcess): void {
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    // 'exit' handlers must be synchronous; kill() is.
    process.on('exit', () => {
      for (const live of liveChildren) live.kill('SIGKILL');
    });
  }
  liveChildren.add(child);
}

let pdeathsigWrapper: string | null | undefined;

/** `setpriv` if this system's util-linux has `--pdeathsig` (≥ 2.33), else null. */
export function findPdeathsigWrapper(): string | null {
  if (pdeathsigWrapper !== undefined) return pdeathsigWrapper;
  pdeathsigWrapper = null;
  const setpriv = process.platform === 'linux' ? findExecutable('setpriv') : undefined;
  if (setpriv !== undefined) {
    const help = spawnSync(setpriv, ['--help'], { encoding: 'utf8' });
    if (help.status === 0 && help.stdout.includes('--pdeathsig')) pdeathsigWrapper = setpriv;
  }
  return pdeathsigWrapper;
}

function formatStatus(status: ExitStatus): string {
  return status.signal !== null ? `signal ${status.signal}` : `code ${String(status.code)}`;
}

export function formatTail(name: string, logFile: string, tail: string): string {
  const body = tail.trim() === '' ? '(no output)' : tail;
  return `--- last lines of ${name} log ${logFile} ---\n${body}\n--- end of ${name} log ---`;
}

export async function startServerProcess(options: ServerProcessOptions): Promise<ServerProcess> {
  const { name, command, args, logFile } = options;
  const tail = options.tail ?? createLogTail();
  const log = createWriteStream(logFile, { flags: 'a' });
  await once(log, 'open');
  const header = `--- ${new Date().toISOString()} starting ${name}: ${command} ${args.join(' ')}`;
  log.write(`${header}\n`);
  tail.note(header);

  const wrapper = findPdeathsigWrapper();
  const [file, argv] =
    wrapper === null
      ? [command, [...args]]
      : [wrapper, ['--pdeathsig', 'SIGKILL', '--', command, ...args]];
  const child = spawn(file, argv, {
    cwd: options.cwd,
    env: options.env ?? process.env,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: false,
  });
  trackChild(child);

  let status: ExitStatus | undefined;
  const exited = new Promise<ExitStatus>((resolve) => {
    const settle = (exit: ExitStatus): void => {
      if (status !== undefined) return;
      status = exit;
      liveChildren.delete(child);
      log.end();
      // The log file is complete once the stream has flushed.
      finished(log).then(
        () => resolve(exit),
        () => resolve(exit),
      );
    };
    // 'close' (not 'exit') so that the tail holds everything the server printed.
    child.once('close', (code, signal) => settle({ code, signal }));
    child.once('error', (error) => {
      tail.note(`${name}: ${error.message}`);
      if (child.pid === undefined) settle({ code: null, signal: null });
    });
  });

  for (const stream of [child.stdout, child.stderr]) {
    stream?.on('data', (chunk: Buffer) => {
      tail.write(chunk);
      if (!log.writableEnded) log.write(chunk);
    });
  }

  const spawned = await Promise.race([
    once(child, 'spawn').then(() => true),
    exited.then(() => false),
  ]);
  if (!spawned || child.pid === undefined) {
    const hint =
      findExecutable(command) === undefined
        ? ' (is it installed? see scripts/install-deps.sh)'
        : '';
    throw new ServerError(
      'server_spawn_failed',
      `could not start ${name}: ${command}${hint}\n${formatTail(name, logFile, tail.text())}`,
      tail.text(),
    );
  }
  const pid = child.pid;

  let stopping: Promise<void> | undefined;

  const server: ServerProcess = {
    name,
    pid,
    logFile,
    exited,
    exitStatus: () => status,
    logTail: () => tail.text(),

    async waitFor(probe, timeoutMs, what) {
      const abort = new AbortController();
      void exited.then(() => abort.abort(new Error(`${name} exited`)));
      try {
        return await waitUntil(probe, { timeoutMs, what, signal: abort.signal });
      } catch (error) {
        const current = status;
        if (current !== undefined) {
          throw new ServerError(
            'server_exited',
            `${name} (pid ${pid}) exited with ${formatStatus(current)} while waiting for ${what}\n` +
              formatTail(name, logFile, tail.text()),
            tail.text(),
          );
        }
        if (error instanceof WaitTimeoutError) {
          throw new ServerError(
            'server_not_ready',
            `${name} (pid ${pid}): ${error.message}\n${formatTail(name, logFile, tail.text())}`,
            tail.text(),
            { cause: error },
          );
        }
        throw error;
      } finally {
        abort.abort();
      }
    },

    async kill(signal = 'SIGKILL') {
      if (status !== undefined) return;
      child.kill(signal);
      if (!NON_TERMINATING_SIGNALS.has(signal)) await exited;
    },

    stop(graceMs = DEFAULT_STOP_GRACE_MS) {
      stopping ??= (async () => {
        if (status !== undefined) return;
        child.kill('SIGTERM');
        // A server frozen with SIGSTOP only acts on SIGTERM once it runs again.
        child.kill('SIGCONT');
        let timer: NodeJS.Timeout | undefined;
        const graceOver = new Promise<'grace_over'>((resolve) => {
          timer = setTimeout(() => resolve('grace_over'), graceMs);
        });
        const outcome = await Promise.race([exited, graceOver]);
        clearTimeout(timer);
        if (outcome === 'grace_over') {
          tail.note(`${name} still running ${graceMs}ms after SIGTERM; sending SIGKILL`);
          child.kill('SIGKILL');
          await exited;
        }
      })();
      return stopping;
    },
  };
  return server;
}
