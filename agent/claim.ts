/**
 * Claims and locks (guarantees 1, 2 and 6), each a single etcd transaction:
 *
 *   claim    if  ticks/<job> < tick  (or absent)          — the tick is newer than any claimed
 *            and lock/<job> absent                       — forbid jobs only
 *            and jobs/<job> exists                       — a deleted job leaves no tick key
 *            then put ticks/<job> = tick,
 *                 put lock/<job>  on the session lease   — forbid jobs only
 *                 put running/<job>/<runId> on the session lease
 *   release  delete running/<job>/<runId>, and lock/<job> if it is still ours
 *
 * So a fired run costs two etcd writes for the whole fleet, whatever its size. Because a tick is
 * claimable only if it is newer than the last claimed one, a skewed clock can delay a run but
 * never repeat one. Puts on the session lease also fence a stale agent: if the server has dropped
 * the lease, the whole transaction fails.
 */
import type { Etcd3, IRangeResponse } from 'etcd3';
import type { RunningEntry } from '../core/coordination.ts';
import { encodeTick, type KeyLayout } from '../core/keys.ts';
import type { Job } from '../core/job.ts';
import type { Session } from './session.ts';

export type ClaimOutcome = 'claimed' | 'taken' | 'locked' | 'gone' | 'fenced';

export interface Claims {
  claimTick(job: Job, tickMs: number, entry: RunningEntry): Promise<ClaimOutcome>;
  release(job: Job, entry: RunningEntry): Promise<void>;
  /** Claims a fleet-wide chore for a period (e.g. retention): true for exactly one agent. */
  claimChore(task: 'retention', periodStartMs: number): Promise<boolean>;
}

export function lockValue(entry: RunningEntry): string {
  return JSON.stringify({ agentId: entry.agentId, runId: entry.runId, planTime: entry.planTime });
}

function firstKv(response: IRangeResponse | undefined): string | null {
  const kv = response?.kvs[0];
  return kv ? kv.value.toString() : null;
}

export function createClaims(client: Etcd3, keys: KeyLayout, session: Session): Claims {
  async function attempt(
    job: Job,
    tickMs: number,
    entry: RunningEntry,
    tickKeyExists: boolean,
  ): Promise<ClaimOutcome | 'retry-create'> {
    if (!session.isLive()) return 'fenced';
    const tickKey = keys.tick(job.name);
    const lockKey = keys.lock(job.name);
    const jobKey = keys.job(job.name);
    const tick = encodeTick(tickMs);
    const forbid = job.concurrency === 'forbid';

    const txn = tickKeyExists
      ? client.if(tickKey, 'Value', '<', tick)
      : client.if(tickKey, 'Create', '==', 0);
    txn.and(jobKey, 'Create', '>', 0);
    if (forbid) txn.and(lockKey, 'Create', '==', 0);
    const puts = [
      client.put(tickKey).value(tick),
      session.onLease(client.put(keys.running(job.name, entry.runId)).value(JSON.stringify(entry))),
    ];
    if (forbid) puts.push(session.onLease(client.put(lockKey).value(lockValue(entry))));
    const result = await txn
      .then(...puts)
      .else(client.get(tickKey), client.get(lockKey), client.get(jobKey))
      .commit();
    if (result.succeeded) return 'claimed';

    const [tickRange, lockRange, jobRange] = result.responses.map((r) => r.response_range);
    const currentTick = firstKv(tickRange);
    if (firstKv(jobRange) === null) return 'gone';
    if (currentTick === null)
      return tickKeyExists
        ? 'retry-create'
        : forbid && firstKv(lockRange) !== null
          ? 'locked'
          : 'taken';
    if (currentTick >= tick) return 'taken';
    return forbid && firstKv(lockRange) !== null ? 'locked' : 'taken';
  }

  return {
    async claimTick(job, tickMs, entry) {
      const outcome = await attempt(job, tickMs, entry, true);
      // The tick key is created on a job's first claim; value comparisons fail on absent keys.
      return outcome === 'retry-create'
        ? ((await attempt(job, tickMs, entry, false)) as ClaimOutcome)
        : outcome;
    },
    async release(job, entry) {
      const runningKey = keys.running(job.name, entry.runId);
      const lockKey = keys.lock(job.name);
      await client
        .if(lockKey, 'Value', '==', lockValue(entry))
        .then(client.delete().key(lockKey), client.delete().key(runningKey))
        .else(client.delete().key(runningKey))
        .commit();
    },
    async claimChore(task, periodStartMs) {
      if (!session.isLive()) return false;
      const key = keys.maintenance(task);
      const period = encodeTick(periodStartMs);
      const result = await client
        .if(key, 'Value', '<', period)
        .then(client.put(key).value(period))
        .else(client.get(key))
        .commit();
      if (result.succeeded) return true;
      if (result.responses[0]?.response_range.kvs.length) return false;
      const created = await client
        .if(key, 'Create', '==', 0)
        .then(client.put(key).value(period))
        .commit();
      return created.succeeded;
    },
  };
}
