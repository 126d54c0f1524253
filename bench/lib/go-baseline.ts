/**
 * The Go crontab's coordination, simulated: every agent races every tick of every job for the
 * job's lock, the way its JobLock does —
 *
 *   LeaseGrant(5 s) → Txn(if create_revision(lock/<job>) == 0 then put lock on the lease,
 *   else get) → run (won) → LeaseRevoke (won or lost; revoking deletes the lock)
 *
 * N agents are N etcd clients in this process, no command is run: the winner holds the lock for
 * `holdMs`, standing in for the run. The Go agent also keeps the lease alive on a stream while it
 * runs; streams are not counted as write requests (see etcd-metrics.ts), so that is left out.
 */
import { Etcd3 } from 'etcd3';
import { etcdWriteCounts, totalWrites, writesBetween, type WriteCounts } from './etcd-metrics.ts';
import { sleep } from './stats.ts';

export interface GoBaselineSpec {
  readonly etcdEndpoints: readonly string[];
  readonly metricsUrl: string;
  readonly prefix: string;
  readonly agents: number;
  readonly jobs: number;
  readonly ticks: number;
  readonly holdMs: number;
}

export interface GoBaselineResult {
  readonly agents: number;
  readonly jobs: number;
  readonly ticks: number;
  readonly runs: number;
  readonly duplicates: number;
  readonly missed: number;
  readonly writes: WriteCounts;
  readonly writesPerRun: number;
}

const LEASE_TTL_SECONDS = 5;

async function race(
  client: Etcd3,
  lockKey: string,
  agentId: string,
  holdMs: number,
): Promise<boolean> {
  const lease = client.lease(LEASE_TTL_SECONDS, { autoKeepAlive: false });
  const leaseId = await lease.grant();
  try {
    const result = await client
      .if(lockKey, 'Create', '==', 0)
      .then(client.put(lockKey).value(agentId).lease(leaseId))
      .else(client.get(lockKey))
      .commit();
    if (result.succeeded) await sleep(holdMs);
    return result.succeeded;
  } finally {
    await lease.revoke();
  }
}

export async function runGoBaseline(spec: GoBaselineSpec): Promise<GoBaselineResult> {
  const clients = Array.from(
    { length: spec.agents },
    () => new Etcd3({ hosts: [...spec.etcdEndpoints] }),
  );
  try {
    // Connect every client before counting, so the window holds only the races.
    await Promise.all(clients.map((c) => c.get(`${spec.prefix}warm-up`).string()));
    const wins = new Map<string, number>();
    const before = await etcdWriteCounts(spec.metricsUrl);
    let tick = Math.ceil((Date.now() + 500) / 1000) * 1000;
    const rounds: Promise<void>[] = [];
    for (let t = 0; t < spec.ticks; t++, tick += 1000) {
      await sleep(tick - Date.now());
      const tickMs = tick;
      rounds.push(
        Promise.all(
          clients.flatMap((client, a) =>
            Array.from({ length: spec.jobs }, async (_, j) => {
              if (await race(client, `${spec.prefix}lock/job-${j}`, `go-agent-${a}`, spec.holdMs)) {
                const key = `job-${j}@${tickMs}`;
                wins.set(key, (wins.get(key) ?? 0) + 1);
              }
            }),
          ),
        ).then(() => undefined),
      );
    }
    await Promise.all(rounds);
    const writes = writesBetween(before, await etcdWriteCounts(spec.metricsUrl));
    const total = [...wins.values()].reduce((n, c) => n + c, 0);
    return {
      agents: spec.agents,
      jobs: spec.jobs,
      ticks: spec.ticks,
      runs: total,
      duplicates: total - wins.size,
      missed: spec.jobs * spec.ticks - wins.size,
      writes,
      writesPerRun: totalWrites(writes) / Math.max(1, total),
    };
  } finally {
    for (const client of clients) client.close();
  }
}
