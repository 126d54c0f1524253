/**
 * A three-member etcd cluster on loopback for the leader-loss scenario: the same `etcd` binary as
 * test/stack, each member with its own data dir and log, and a way to find and kill the leader.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import {
  etcdCommand,
  freePort,
  retryOnPortClash,
  startServerProcess,
  waitUntil,
  type ServerProcess,
} from '../../stack/index.ts';

export interface EtcdMember {
  readonly name: string;
  readonly clientUrl: string;
  readonly peerUrl: string;
  /** Null while the member is down. */
  readonly process: ServerProcess | null;
}

export interface EtcdCluster extends AsyncDisposable {
  /** All client URLs, for `--etcd-endpoints a,b,c` and `new Etcd3({ hosts })`. */
  readonly endpoints: string[];
  readonly members: readonly EtcdMember[];
  /** The member that reports `etcd_server_is_leader 1`, waiting up to `timeoutMs` for one. */
  leader(timeoutMs?: number): Promise<EtcdMember>;
  /** SIGKILLs a member (a crash); resolves once it has exited. */
  kill(name: string): Promise<void>;
  /** Starts a killed member again on its ports and data. */
  restart(name: string): Promise<void>;
  /** Waits until every running member reports healthy (the cluster has a leader). */
  waitHealthy(timeoutMs?: number): Promise<void>;
  logTails(): string;
  stop(): Promise<void>;
}

export interface EtcdClusterOptions {
  readonly dataDir: string;
  /** Default 1000 (etcd's own); heartbeat is a tenth. */
  readonly electionTimeoutMs?: number;
}

const NAMES = ['a', 'b', 'c'] as const;

/** Same reason as test/stack/etcd.ts: a developer's ETCD_* settings must not leak in. */
function etcdEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!key.startsWith('ETCD_')) env[key] = value;
  }
  if (process.arch === 'arm64') env.ETCD_UNSUPPORTED_ARCH = 'arm64';
  return env;
}

async function distinctFreePorts(count: number): Promise<number[]> {
  const ports = new Set<number>();
  while (ports.size < count) ports.add(await freePort());
  return [...ports];
}

async function isHealthy(clientUrl: string): Promise<boolean> {
  try {
    const response = await fetch(`${clientUrl}/health`, { signal: AbortSignal.timeout(1000) });
    const body = (await response.json()) as { health?: unknown };
    return body.health === 'true';
  } catch {
    return false;
  }
}

async function isLeader(clientUrl: string): Promise<boolean> {
  try {
    const response = await fetch(`${clientUrl}/metrics`, { signal: AbortSignal.timeout(1000) });
    return /^etcd_server_is_leader 1$/m.test(await response.text());
  } catch {
    return false;
  }
}

export async function startEtcdCluster(options: EtcdClusterOptions): Promise<EtcdCluster> {
  const electionTimeoutMs = options.electionTimeoutMs ?? 1000;
  await mkdir(options.dataDir, { recursive: true });

  const start = async (): Promise<EtcdCluster> => {
    const ports = await distinctFreePorts(NAMES.length * 2);
    const members = NAMES.map((name, i) => ({
      name,
      clientUrl: `http://127.0.0.1:${ports[2 * i]}`,
      peerUrl: `http://127.0.0.1:${ports[2 * i + 1]}`,
      process: null as ServerProcess | null,
    }));
    const initialCluster = members.map((m) => `${m.name}=${m.peerUrl}`).join(',');
    const token = `chaos-${ports[0]}`;

    const launch = async (member: (typeof members)[number]): Promise<void> => {
      const dir = join(options.dataDir, member.name);
      await mkdir(dir, { recursive: true });
      member.process = await startServerProcess({
        name: `etcd-${member.name}`,
        command: etcdCommand(),
        logFile: join(dir, 'etcd.log'),
        env: etcdEnv(),
        args: [
          `--name=${member.name}`,
          `--data-dir=${join(dir, 'data')}`,
          `--listen-client-urls=${member.clientUrl}`,
          `--advertise-client-urls=${member.clientUrl}`,
          `--listen-peer-urls=${member.peerUrl}`,
          `--initial-advertise-peer-urls=${member.peerUrl}`,
          `--initial-cluster=${initialCluster}`,
          '--initial-cluster-state=new',
          `--initial-cluster-token=${token}`,
          '--logger=zap',
          '--log-outputs=stderr',
          `--heartbeat-interval=${Math.max(1, Math.round(electionTimeoutMs / 10))}`,
          `--election-timeout=${electionTimeoutMs}`,
        ],
      });
    };

    const cluster: EtcdCluster = {
      endpoints: members.map((m) => m.clientUrl),
      members,
      async leader(timeoutMs = 15_000) {
        return waitUntil(
          async () => {
            for (const member of members) {
              if (member.process && (await isLeader(member.clientUrl))) return member;
            }
            return null;
          },
          { timeoutMs, what: 'an etcd member to report itself leader', intervalMs: 50 },
        );
      },
      async kill(name) {
        const member = members.find((m) => m.name === name);
        if (!member?.process) throw new Error(`etcd member ${name} is not running`);
        await member.process.kill('SIGKILL');
        member.process = null;
      },
      async restart(name) {
        const member = members.find((m) => m.name === name);
        if (!member) throw new Error(`no etcd member ${name}`);
        if (member.process) await member.process.stop();
        await launch(member);
      },
      async waitHealthy(timeoutMs = 20_000) {
        await waitUntil(
          async () => {
            const live = members.filter((m) => m.process);
            const health = await Promise.all(live.map((m) => isHealthy(m.clientUrl)));
            return health.every(Boolean);
          },
          { timeoutMs, what: `every etcd member to report healthy\n${cluster.logTails()}` },
        );
      },
      logTails() {
        return members
          .map((m) => `--- etcd-${m.name} ---\n${m.process?.logTail().slice(-2000) ?? '(down)'}`)
          .join('\n');
      },
      async stop() {
        await Promise.all(members.map((m) => (m.process ? m.process.stop() : Promise.resolve())));
        for (const member of members) member.process = null;
      },
      [Symbol.asyncDispose]: () => cluster.stop(),
    };

    try {
      await Promise.all(members.map(launch));
      await cluster.waitHealthy();
    } catch (error) {
      await cluster.stop();
      throw error;
    }
    return cluster;
  };

  return retryOnPortClash(start);
}
