/**
 * The control plane's Worker under `wrangler dev`: local workerd (the npm `workerd` binary), no
 * network. Vars and secrets go through an env file in `dataDir` (never the command line, which
 * `ps` shows), and the Durable Object's storage persists there too, so `restart()` keeps it.
 *
 * By default wrangler runs on a snapshot of the Worker's sources (`control-plane/`, `core/`, the
 * config; node_modules linked) copied into `dataDir`: `wrangler dev` rebuilds and restarts the
 * Worker whenever a source file changes, failing requests in flight, and on a shared checkout
 * files change while tests run. (Serving a prebuilt bundle with `--no-bundle` would avoid that
 * too, but loses wrangler's dev middleware that drains request bodies the Worker did not read;
 * without it, answering a POST before reading its body fails in wrangler's proxy with a 503.)
 * `watch: true` (npm run dev:edge) runs on the checkout itself, with live reload.
 *
 * Offline: the banner's update check, metrics and miniflare's `Request.cf` download are off.
 */
import { spawn } from 'node:child_process';
import { cp, mkdir, symlink, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { freePort, retryOnPortClash } from './free-port.ts';
import { createLogTail, type LogTail } from './log-tail.ts';
import { findPdeathsigWrapper, startServerProcess, type ServerProcess } from './process.ts';

const ROOT = resolve(import.meta.dirname, '../..');
// wrangler's bin script only respawns this with two flags; run it directly, so that the process
// we own (and SIGKILL on our death) is the one that owns workerd.
const WRANGLER_CLI = join(ROOT, 'node_modules/wrangler/wrangler-dist/cli.js');
const WRANGLER_NODE_FLAGS = ['--no-warnings', '--experimental-vm-modules'];

export interface WranglerDevOptions {
  /** Worker vars and secrets (RELAY_URL, RELAY_SECRET, ADMIN_TOKEN, …). */
  readonly vars: Readonly<Record<string, string>>;
  /** Holds the env file, the Durable Object's storage and wrangler.log; created if missing. */
  readonly dataDir: string;
  /** Default: a free port. */
  readonly port?: number;
  /**
   * Static assets in place of wrangler.toml's (the console's build). Default: an empty folder,
   * for tests: the console has its own, and its build need not exist for these.
   */
  readonly assetsDir?: string;
  /** Rebuild and reload on source changes instead of serving a snapshot. Default false. */
  readonly watch?: boolean;
  /** Default 60 s: a cold start bundles the Worker and starts workerd twice. */
  readonly readyTimeoutMs?: number;
}

export interface WranglerDev {
  readonly url: string;
  readonly port: number;
  /** The outer wrangler process; workerd runs under it. */
  readonly pid: number;
  stop(): Promise<void>;
  /** Starts it again after `stop()`, on the same port and storage; waits until ready. */
  start(): Promise<void>;
  /** `stop()`, then `start()`. */
  restart(): Promise<void>;
  logTail(): string;
}

const DEFAULT_READY_TIMEOUT_MS = 60_000;

/** The workerd binary of the `workerd` package (its main export is the path). */
function workerdBinary(): string {
  const workerd: unknown = createRequire(import.meta.url)('workerd');
  const path = (workerd as { default?: unknown }).default;
  if (typeof path !== 'string') throw new Error('the workerd package does not name its binary');
  return path;
}

/**
 * workerd outlives a SIGKILLed wrangler (it is wrangler's child, not ours), so on Linux it is
 * started through a wrapper that asks the kernel to kill it with its parent.
 */
function workerdEnv(): NodeJS.ProcessEnv {
  if (findPdeathsigWrapper() === null) return {};
  return {
    MINIFLARE_WORKERD_PATH: join(import.meta.dirname, 'workerd-pdeathsig.sh'),
    CRONPLANE_WORKERD_BINARY: workerdBinary(),
  };
}

/** Environment for wrangler: nothing that would reach the network or prompt. */
export function offlineWranglerEnv(): NodeJS.ProcessEnv {
  return {
    ...process.env,
    ...workerdEnv(),
    WRANGLER_SEND_METRICS: 'false',
    // The banner is where wrangler checks the registry for a newer version.
    WRANGLER_HIDE_BANNER: 'true',
    // miniflare would download the `Request.cf` placeholder from workers.cloudflare.com.
    CLOUDFLARE_CF_FETCH_ENABLED: 'false',
    FORCE_COLOR: '0',
  };
}

function envFile(vars: Readonly<Record<string, string>>): string {
  return Object.entries(vars)
    .map(([key, value]) => {
      if (!/^[A-Z][A-Z0-9_]*$/.test(key) || /[\n"\\]/.test(value)) {
        throw new Error(`cannot write ${key} to an env file`);
      }
      return `${key}="${value}"\n`;
    })
    .join('');
}

export class WranglerError extends Error {
  readonly code = 'wrangler_failed';

  constructor(message: string) {
    super(message);
    this.name = 'WranglerError';
  }
}

/** Runs a short wrangler command to completion; its output is the error message on failure. */
export function runWrangler(args: readonly string[]): Promise<string> {
  return new Promise((resolveRun, reject) => {
    const child = spawn(process.execPath, [...WRANGLER_NODE_FLAGS, WRANGLER_CLI, ...args], {
      cwd: ROOT,
      env: offlineWranglerEnv(),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    const collect = (chunk: Buffer) => (output += chunk.toString());
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0) resolveRun(output);
      else reject(new WranglerError(`wrangler ${args.join(' ')} exited ${code}:\n${output}`));
    });
  });
}

/** What the Worker is built from; copied for a snapshot. */
const WORKER_SOURCES = [
  'control-plane',
  'core',
  'wrangler.toml',
  'package.json',
  'tsconfig.base.json',
];

/** Copies the Worker's sources into `dir` (node_modules linked, not copied); returns `dir`. */
async function snapshotSources(dir: string): Promise<string> {
  await mkdir(dir, { recursive: true });
  for (const entry of WORKER_SOURCES) {
    await cp(join(ROOT, entry), join(dir, entry), { recursive: true });
  }
  await symlink(join(ROOT, 'node_modules'), join(dir, 'node_modules'), 'dir');
  return dir;
}

/** Answers once the app itself answers `/healthz` (200 or 503: the relay is its business). */
async function appAnswers(url: string): Promise<boolean> {
  const response = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(5_000) });
  const body: unknown = await response.json();
  return typeof body === 'object' && body !== null && 'checks' in body;
}

export async function startWranglerDev(options: WranglerDevOptions): Promise<WranglerDev> {
  const { dataDir } = options;
  const readyTimeoutMs = options.readyTimeoutMs ?? DEFAULT_READY_TIMEOUT_MS;
  await mkdir(dataDir, { recursive: true });
  const varsFile = join(dataDir, 'worker.env');
  await writeFile(varsFile, envFile(options.vars), { mode: 0o600 });
  const logFile = join(dataDir, 'wrangler.log');
  const assetsDir = options.assetsDir ?? join(dataDir, 'assets');
  await mkdir(assetsDir, { recursive: true });
  const projectDir = options.watch ? ROOT : await snapshotSources(join(dataDir, 'source'));

  const launch = async (port: number, tail: LogTail): Promise<ServerProcess> => {
    const inspectorPort = await freePort();
    const server = await startServerProcess({
      name: 'wrangler',
      command: process.execPath,
      cwd: projectDir,
      env: offlineWranglerEnv(),
      logFile,
      tail,
      args: [
        ...WRANGLER_NODE_FLAGS,
        WRANGLER_CLI,
        'dev',
        ...['--config', join(projectDir, 'wrangler.toml')],
        ...['--ip', '127.0.0.1', '--port', String(port)],
        ...['--inspector-port', String(inspectorPort)],
        ...['--persist-to', join(dataDir, 'state')],
        ...['--env-file', varsFile],
        ...['--assets', assetsDir],
        '--show-interactive-dev-session=false',
        '--log-level=warn',
      ],
    });
    const url = `http://127.0.0.1:${port}`;
    try {
      await server.waitFor(
        () => appAnswers(url),
        readyTimeoutMs,
        `the Worker to answer ${url}/healthz`,
      );
    } catch (error) {
      await server.stop();
      throw error;
    }
    return server;
  };

  let port = options.port ?? 0;
  let tail = createLogTail();
  let current = await retryOnPortClash(async () => {
    port = options.port ?? (await freePort());
    tail = createLogTail();
    return launch(port, tail);
  });

  const start = async (): Promise<void> => {
    if (current.exitStatus() === undefined) throw new Error('wrangler dev is still running');
    tail.note('--- starting wrangler dev again on the same port and storage ---');
    current = await launch(port, tail);
  };

  return {
    url: `http://127.0.0.1:${port}`,
    port,
    get pid() {
      return current.pid;
    },
    stop: () => current.stop(),
    start,
    async restart() {
      await current.stop();
      await start();
    },
    logTail: () => current.logTail(),
  };
}
