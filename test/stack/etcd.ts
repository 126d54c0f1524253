/**
 * A single-member etcd (the system's `etcd` binary, 3.4 from Debian's etcd-server) on free
 * loopback ports, with its data and log under `dataDir`.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { etcdCommand } from './etcd-binary.ts';
import { freePort, retryOnPortClash } from './free-port.ts';
import { createLogTail, type LogTail } from './log-tail.ts';
import { startServerProcess, type ServerProcess } from './process.ts';

export interface EtcdOptions {
  /** Holds `data/` (etcd's --data-dir) and `etcd.log`; created if missing. */
  readonly dataDir: string;
  /** Member name; default `cronplane-test`. */
  readonly name?: string;
  /** Default 15 s: a cold start on a loaded CI box takes well under 2 s. */
  readonly readyTimeoutMs?: number;
  /** Default 100 (etcd's is 1000); the heartbeat interval is a tenth of it. */
  readonly electionTimeoutMs?: number;
  /** Default etcdCommand(): the etcd built into .cache/, else `etcd` from PATH. */
  readonly command?: string;
}

export interface EtcdServer {
  /** For `new Etcd3({ hosts: endpoints })`. */
  readonly endpoints: string[];
  readonly clientUrl: string;
  /** Prometheus metrics, served on the client port. */
  readonly metricsUrl: string;
  readonly dataDir: string;
  readonly logFile: string;
  /** Changes on restart. */
  readonly pid: number;
  /** SIGTERM, SIGKILL after a grace; resolves once exited. Idempotent. */
  stop(): Promise<void>;
  /** Default SIGKILL (a crash). SIGSTOP/SIGCONT freeze and thaw it. */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** Stops it if running, starts it again on the same ports and data, waits until healthy. */
  restart(): Promise<void>;
  logTail(): string;
}

const DEFAULT_READY_TIMEOUT_MS = 15_000;
const DEFAULT_ELECTION_TIMEOUT_MS = 100;

export async function startEtcd(options: EtcdOptions): Promise<EtcdServer> {
  const { dataDir, name = 'cronplane-test', command = etcdCommand() } = options;
  const readyTimeoutMs = options.readyTimeoutMs ?? DEFAULT_READY_TIMEOUT_MS;
  const electionTimeoutMs = options.electionTimeoutMs ?? DEFAULT_ELECTION_TIMEOUT_MS;
  await mkdir(dataDir, { recursive: true });
  const logFile = join(dataDir, 'etcd.log');

  const launch = async (
    clientPort: number,
    peerPort: number,
    tail: LogTail,
  ): Promise<ServerProcess> => {
    const clientUrl = `http://127.0.0.1:${clientPort}`;
    const peerUrl = `http://127.0.0.1:${peerPort}`;
    const server = await startServerProcess({
      name: 'etcd',
      command,
      logFile,
      tail,
      env: etcdEnv(),
      args: [
        `--name=${name}`,
        `--data-dir=${join(dataDir, 'data')}`,
        `--listen-client-urls=${clientUrl}`,
        `--advertise-client-urls=${clientUrl}`,
        `--listen-peer-urls=${peerUrl}`,
        `--initial-advertise-peer-urls=${peerUrl}`,
        `--initial-cluster=${name}=${peerUrl}`,
        // Ignored once the data dir holds a member, so restart() reuses these same flags.
        '--initial-cluster-state=new',
        `--initial-cluster-token=${name}-${clientPort}`,
        // Without it etcd 3.4 logs through the deprecated capnslog and warns about it.
        '--logger=zap',
        '--log-outputs=stderr',
        // Long benchmarks would otherwise grow the history without bound.
        '--auto-compaction-mode=periodic',
        '--auto-compaction-retention=1h',
        // A lone member waits about one election timeout before it leads, on every start:
        // with etcd's 1000 ms default a start takes ~0.8 s and a restart ~1.5 s; with 100 ms,
        // ~0.12 s and ~0.16 s. With no peers no follower can misjudge a slow heartbeat, so a
        // short timeout is safe here. It also lowers etcd's minimum lease TTL (1.5 election
        // timeouts, rounded up to whole seconds) from 2 s to 1 s.
        `--heartbeat-interval=${Math.max(1, Math.round(electionTimeoutMs / 10))}`,
        `--election-timeout=${electionTimeoutMs}`,
      ],
    });
    try {
      await server.waitFor(
        () => isHealthy(clientUrl),
        readyTimeoutMs,
        `GET ${clientUrl}/health to report {"health":"true"}`,
      );
    } catch (error) {
      await server.stop();
      throw error;
    }
    return server;
  };

  let clientPort = 0;
  let peerPort = 0;
  let tail = createLogTail();
  let current = await retryOnPortClash(async () => {
    [clientPort, peerPort] = await distinctFreePorts();
    tail = createLogTail();
    return launch(clientPort, peerPort, tail);
  });
  const clientUrl = `http://127.0.0.1:${clientPort}`;

  return {
    endpoints: [clientUrl],
    clientUrl,
    metricsUrl: `${clientUrl}/metrics`,
    dataDir,
    logFile,
    get pid() {
      return current.pid;
    },
    stop: () => current.stop(),
    kill: (signal) => current.kill(signal),
    async restart() {
      await current.stop();
      tail.note('--- restarting etcd on the same ports and data ---');
      current = await launch(clientPort, peerPort, tail);
    },
    logTail: () => current.logTail(),
  };
}

async function distinctFreePorts(): Promise<[number, number]> {
  const first = await freePort();
  let second = await freePort();
  while (second === first) second = await freePort();
  return [first, second];
}

async function isHealthy(clientUrl: string): Promise<boolean> {
  const response = await fetch(`${clientUrl}/health`, { signal: AbortSignal.timeout(2000) });
  const body: unknown = await response.json();
  return (
    typeof body === 'object' && body !== null && (body as { health?: unknown }).health === 'true'
  );
}

/**
 * etcd reads ETCD_* variables as flags and refuses to start when one conflicts with a flag we
 * pass, so a developer's shell settings must not leak in.
 */
function etcdEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!key.startsWith('ETCD_')) env[key] = value;
  }
  // etcd 3.4 refuses to start on arm64 unless told the platform is acceptable.
  if (process.arch === 'arm64') env.ETCD_UNSUPPORTED_ARCH = 'arm64';
  return env;
}
