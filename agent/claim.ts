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
 *   (a lower-ranked agent's fallback claim first reads ticks/<job>, and sends nothing if the
 *   tick is taken)
 *   manual   if  manual/<job> is still this request, and (forbid) lock/<job> absent
 *            then delete manual/<job>, put lock and running as for a tick
 *
 * So a fired run costs two etcd writes for the whole fleet, whatever its size. Because a tick is
 * claimable only if it is newer than the last claimed one, a skewed clock can delay a run but
 * never repeat one. Puts on the session lease also fence a stale agent: if the server has dropped
 * the lease, the whole transaction fails.
 */
import type { Etcd3, IRangeResponse, PutBuilder } from 'etcd3';
import type { RunningEntry } from '../core/coordination.ts';
import { decodeTick, encodeTick, type KeyLayout } from '../core/keys.ts';
import type { Job } from '../core/job.ts';
import type { Session } from './session.ts';

export type ClaimOutcome = 'claimed' | 'taken' | 'locked' | 'gone' | 'fenced';

export interface TickClaim {
  readonly outcome: ClaimOutcome;
  /** The tick claimed before this one (read in the same transaction), for skip detection. */
  readonly previousTick: number | null;
}

export interface Claims {
  claimTick(job: Job, tickMs: number, entry: RunningEntry): Promise<TickClaim>;
  /**
   * Whether etcd already holds a claim of this tick or a later one: a read, which a fallback
   * claimant makes before its transaction, so that a claim its watch has not shown yet costs
   * no write.
   */
  tickClaimed(job: Job, tickMs: number): Promise<boolean>;
  /** Claims a run-now request whose stored value is `triggerJson`. */
  claimManual(job: Job, triggerJson: string, entry: RunningEntry): Promise<ClaimOutcome>;
  release(job: Job, entry: RunningEntry): Promise<void>;
  /**
   * Moves a run in flight onto the current session lease after the session was renewed, so its
   * running key and (forbid) lock outlive the old lease. False when a forbid job's lock is held
   * by another run: the old lease expired first and the fleet moved on.
   */
  reattach(job: Job, entry: RunningEntry): Promise<boolean>;
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
  ): Promise<TickClaim | 'retry-create'> {
    if (!session.isLive()) return { outcome: 'fenced', previousTick: null };
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
    // The read comes first in the success branch, so it returns the tick claimed before ours.
    const result = await txn
      .then(client.get(tickKey), ...puts)
      .else(client.get(tickKey), client.get(lockKey), client.get(jobKey))
      .commit();
    if (result.succeeded) {
      const previous = firstKv(result.responses[0]?.response_range);
      return { outcome: 'claimed', previousTick: previous === null ? null : decodeTick(previous) };
    }

    const [tickRange, lockRange, jobRange] = result.responses.map((r) => r.response_range);
    const currentTick = firstKv(tickRange);
    const failed = (outcome: ClaimOutcome): TickClaim => ({ outcome, previousTick: null });
    if (firstKv(jobRange) === null) return failed('gone');
    if (currentTick === null && tickKeyExists) return 'retry-create';
    if (currentTick !== null && currentTick >= tick) return failed('taken');
    return failed(forbid && firstKv(lockRange) !== null ? 'locked' : 'taken');
  }

  return {
    async claimTick(job, tickMs, entry) {
      const outcome = await attempt(job, tickMs, entry, true);
      // The tick key is created on a job's first claim; value comparisons fail on absent keys.
      if (outcome !== 'retry-create') return outcome;
      const created = await attempt(job, tickMs, entry, false);
      return created === 'retry-create' ? { outcome: 'taken', previousTick: null } : created;
    },
    async tickClaimed(job, tickMs) {
      const claimed = await client.get(keys.tick(job.name)).string();
      return claimed !== null && (decodeTick(claimed) ?? 0) >= tickMs;
    },
    async claimManual(job, triggerJson, entry) {
      if (!session.isLive()) return 'fenced';
      const manualKey = keys.manual(job.name);
      const lockKey = keys.lock(job.name);
      const forbid = job.concurrency === 'forbid';
      const txn = client.if(manualKey, 'Value', '==', triggerJson);
      if (forbid) txn.and(lockKey, 'Create', '==', 0);
      const puts = [
        client.delete().key(manualKey),
        session.onLease(
          client.put(keys.running(job.name, entry.runId)).value(JSON.stringify(entry)),
        ),
      ];
      if (forbid) puts.push(session.onLease(client.put(lockKey).value(lockValue(entry))));
      const result = await txn
        .then(...puts)
        .else(client.get(lockKey))
        .commit();
      if (result.succeeded) return 'claimed';
      return forbid && firstKv(result.responses[0]?.response_range) !== null ? 'locked' : 'taken';
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
    async reattach(job, entry) {
      const runningKey = keys.running(job.name, entry.runId);
      const putRunning = (): PutBuilder =>
        session.onLease(client.put(runningKey).value(JSON.stringify(entry)));
      if (job.concurrency !== 'forbid') {
        await putRunning();
        return true;
      }
      const lockKey = keys.lock(job.name);
      const putLock = (): PutBuilder =>
        session.onLease(client.put(lockKey).value(lockValue(entry)));
      // Ours still (the old lease has not expired yet), or free: take it onto the new lease.
      const ours = await client
        .if(lockKey, 'Value', '==', lockValue(entry))
        .then(putLock(), putRunning())
        .commit();
      if (ours.succeeded) return true;
      const free = await client
        .if(lockKey, 'Create', '==', 0)
        .then(putLock(), putRunning())
        .commit();
      if (free.succeeded) return true;
      await putRunning();
      return false;
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
