/**
 * A MongoDB-wire server for tests, the first available of:
 * 1. `MONGO_URL` from the environment (`external`: nothing started, nothing stopped);
 * 2. `mongod` on PATH, on a free loopback port;
 * 3. FerretDB 1.24 with its SQLite backend (built by scripts/build-ferretdb.sh), ditto.
 * Data and log live under `dataDir`.
 */
import { mkdir } from 'node:fs/promises';
import { connect } from 'node:net';
import { join } from 'node:path';
import { MongoClient } from 'mongodb';
import { ferretdbBinary } from './ferretdb-binary.ts';
import { findExecutable } from './find-executable.ts';
import { freePort, retryOnPortClash } from './free-port.ts';
import { createLogTail, type LogTail } from './log-tail.ts';
import { startServerProcess, type ServerProcess } from './process.ts';
import { waitUntil } from './wait.ts';

export type MongoKind = 'external' | 'mongod' | 'ferretdb';

export interface MongoOptions {
  /** Holds `data/` and the server's log; created if missing. Unused for `external`. */
  readonly dataDir: string;
  /** Default 30 s. */
  readonly readyTimeoutMs?: number;
  /** How long stop() waits after SIGTERM before SIGKILL. Default: FerretDB 500, mongod 5000. */
  readonly stopGraceMs?: number;
}

export interface MongoServer {
  /** A connection string for `new MongoClient(url)`; name your database explicitly. */
  readonly url: string;
  readonly kind: MongoKind;
  /** Undefined for `external`; changes on restart. */
  readonly pid: number | undefined;
  /** Undefined for `external`. */
  readonly logFile: string | undefined;
  /** SIGTERM, SIGKILL after a grace; resolves once exited. No-op for `external`. */
  stop(): Promise<void>;
  /** Default SIGKILL. Throws for `external`. */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /**
   * Stops it if running and starts it on the same port and data (outage tests); resolves once
   * it answers `ping`. Throws for `external`: such tests should skip when `kind` is external.
   * A graceful stop of FerretDB with clients connected ends in SIGKILL after `stopGraceMs`;
   * `kill()` first simulates a crash (SQLite and mongod's journal keep acknowledged writes).
   */
  restart(): Promise<void>;
  logTail(): string;
}

const DEFAULT_READY_TIMEOUT_MS = 30_000;

export async function startMongo(options: MongoOptions): Promise<MongoServer> {
  const readyTimeoutMs = options.readyTimeoutMs ?? DEFAULT_READY_TIMEOUT_MS;
  const external = process.env.MONGO_URL;
  if (external !== undefined && external !== '') return useExternal(external, readyTimeoutMs);

  await mkdir(options.dataDir, { recursive: true });
  const dataPath = join(options.dataDir, 'data');
  await mkdir(dataPath, { recursive: true });
  const mongod = findExecutable('mongod');
  const kind: MongoKind = mongod !== undefined ? 'mongod' : 'ferretdb';
  const command = mongod ?? (await ferretdbBinary());
  const logFile = join(options.dataDir, `${kind}.log`);
  // FerretDB keeps serving open connections for 3 s after SIGTERM (its ctxutil.WithDelay), so a
  // graceful stop costs 3 s whenever a client is still connected. Its SQLite files are safe
  // against a kill, and waiting buys a test server nothing. mongod gets time to checkpoint.
  const stopGraceMs = options.stopGraceMs ?? (kind === 'ferretdb' ? 500 : 5000);

  const argsFor = (port: number): string[] =>
    kind === 'mongod'
      ? ['--dbpath', dataPath, '--bind_ip', '127.0.0.1', '--port', String(port), '--nounixsocket']
      : ['--listen-addr', `127.0.0.1:${port}`, '--sqlite-dir', dataPath];

  const launch = async (port: number, tail: LogTail): Promise<ServerProcess> => {
    const server = await startServerProcess({
      name: kind,
      command,
      args: argsFor(port),
      logFile,
      tail,
    });
    try {
      await server.waitFor(() => isReady(port), readyTimeoutMs, `${urlFor(port)} to answer ping`);
    } catch (error) {
      await server.stop(stopGraceMs);
      throw error;
    }
    return server;
  };

  let port = 0;
  let tail = createLogTail();
  let current = await retryOnPortClash(async () => {
    port = await freePort();
    tail = createLogTail();
    return launch(port, tail);
  });

  return {
    url: urlFor(port),
    kind,
    get pid() {
      return current.pid;
    },
    logFile,
    stop: () => current.stop(stopGraceMs),
    kill: (signal) => current.kill(signal),
    async restart() {
      await current.stop(stopGraceMs);
      tail.note(`--- restarting ${kind} on the same port and data ---`);
      current = await launch(port, tail);
    },
    logTail: () => current.logTail(),
  };
}

function urlFor(port: number): string {
  return `mongodb://127.0.0.1:${port}/`;
}

async function useExternal(url: string, readyTimeoutMs: number): Promise<MongoServer> {
  await waitUntil(() => answersPing(url), {
    timeoutMs: readyTimeoutMs,
    what: `MONGO_URL (${redact(url)}) to answer ping`,
  });
  const refuse = (what: string) => (): Promise<void> =>
    Promise.reject(
      new Error(`cannot ${what} an external MongoDB (MONGO_URL); skip when kind is 'external'`),
    );
  return {
    url,
    kind: 'external',
    pid: undefined,
    logFile: undefined,
    stop: () => Promise.resolve(),
    kill: refuse('kill'),
    restart: refuse('restart'),
    logTail: () => '',
  };
}

/**
 * A plain TCP connect first: the driver, refused once, waits out its 500 ms minimum heartbeat
 * before trying again, which added half a second to every start.
 */
function acceptsConnections(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.setTimeout(1000);
    const done = (ok: boolean) => (): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.once('connect', done(true));
    socket.once('error', done(false));
    socket.once('timeout', done(false));
  });
}

async function isReady(port: number): Promise<boolean> {
  return (await acceptsConnections(port)) && (await answersPing(urlFor(port)));
}

/** One short-lived connection per probe: a client left connecting would retry on its own. */
async function answersPing(url: string): Promise<boolean> {
  const client = new MongoClient(url, {
    serverSelectionTimeoutMS: 1000,
    connectTimeoutMS: 1000,
    maxPoolSize: 1,
  });
  try {
    const reply = await client.db('admin').command({ ping: 1 });
    return reply.ok === 1;
  } finally {
    await client.close();
  }
}

function redact(url: string): string {
  return url.replace(/\/\/[^@/]*@/, '//***@');
}
