/**
 * Claims and locks (guarantees 1, 2 and 6), each in an etcd transaction:
 *
 *   claim    if  ticks/<job> < tick  (or absent)          — the tick is newer than any claimed
 *            and lock/<job> absent                       — forbid jobs only
 *            and jobs/<job> exists                       — a deleted job claims nothing
 *            then put ticks/<job> = tick,
 *                 put lock/<job>  on the session lease   — forbid jobs only
 *                 put running/<job>/<runId> on the session lease
 *   release  delete running/<job>/<runId>, and lock/<job> if it is still ours
 *   (a lower-ranked agent's fallback claim first reads ticks/<job>, and sends nothing if the
 *   tick is taken)
 *   manual   if  manual/<job> is still this request, and (forbid) lock/<job> absent
 *            then delete manual/<job>, put lock and running as for a tick
 *
 * Claims and releases made in the same turn of the event loop share one transaction (up to 32,
 * see batcher.ts): a tick due for 200 jobs is a handful of transactions, not 200. A batch of
 * claims holds every claim's compares at once; when one fails, the failure branch reads every
 * claim's keys in that revision, which settles the ones that lost and sends the others again.
 *
 * So a fired run costs two etcd writes for the whole fleet, whatever its size. Because a tick is
 * claimable only if it is newer than the last claimed one, a skewed clock can delay a run but
 * never repeat one. Puts on the session lease also fence a stale agent: if the server has dropped
 * the lease, the whole transaction fails.
 */
import type { ComparatorBuilder, Etcd3, IOperation, IRangeResponse, PutBuilder } from 'etcd3';
import type { RunningEntry } from '../core/coordination.ts';
import { decodeTick, encodeTick, type KeyLayout } from '../core/keys.ts';
import type { Job } from '../core/job.ts';
import { createBatcher } from './batcher.ts';
import type { Session } from './session.ts';

/** `failed`: etcd did not answer, and a read-back found that the claim was not applied. */
export type ClaimOutcome = 'claimed' | 'taken' | 'locked' | 'gone' | 'fenced' | 'failed';

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
  /**
   * Deletes the tick keys of deleted jobs whose last claimed tick is before `beforeMs`, each only
   * if its job is still absent and the key unchanged since read; returns how many. A deleted
   * job's tick key is kept until then so that a job recreated under its name cannot claim a
   * tick that already ran.
   */
  sweepTicksOfDeletedJobs(beforeMs: number): Promise<number>;
}

export function lockValue(entry: RunningEntry): string {
  return JSON.stringify({ agentId: entry.agentId, runId: entry.runId, planTime: entry.planTime });
}

function firstKv(response: IRangeResponse | undefined): string | null {
  const kv = response?.kvs[0];
  return kv ? kv.value.toString() : null;
}

/**
 * Claims or releases per etcd transaction: a batch of forbid claims compares 96 keys, puts or
 * reads 128 when it wins and reads 128 when it does not: etcd's default cap of 128 per list.
 */
const BATCH_ITEMS = 32;

interface ClaimRequest {
  readonly job: Job;
  readonly tickMs: number;
  readonly entry: RunningEntry;
}

interface ReleaseRequest {
  readonly job: Job;
  readonly entry: RunningEntry;
}

/** How a claim of a batch fared: settled, or to be sent again with the tick key's true state. */
type ClaimVerdict = TickClaim | { readonly retry: true };

/**
 * Rounds of a batch before its unsettled claims count as taken. Each round settles at least one
 * claim or corrects a tick key's guessed state, so only a claim raced every round reaches it.
 */
const MAX_CLAIM_ROUNDS = 3;

/** One compare of a transaction, as `client.if` takes it. */
type Compare = Parameters<Etcd3['if']>;

export function createClaims(client: Etcd3, keys: KeyLayout, session: Session): Claims {
  function transaction(compares: readonly Compare[]): ComparatorBuilder {
    const [first, ...rest] = compares as [Compare, ...Compare[]];
    const txn = client.if(...first);
    for (const compare of rest) txn.and(...compare);
    return txn;
  }

  /**
   * Jobs whose tick key etcd did not hold when last seen (a new job's): a claim compares the
   * tick's value, which an absent key fails, or that the key was never created. A wrong guess
   * costs one more round.
   */
  const tickKeyMissing = new Set<string>();

  /**
   * One transaction for all the claims of a batch, each compare as a claim alone would make
   * it. Usually every claim holds and they all win at once; otherwise the failure branch reads
   * each claim's keys in the same revision, which settles every claim that could not win, and
   * the rest go again.
   */
  async function claimRound(requests: readonly ClaimRequest[]): Promise<ClaimVerdict[]> {
    if (!session.isLive()) return requests.map(() => ({ outcome: 'fenced', previousTick: null }));
    const compares: Compare[] = [];
    const success: IOperation[] = [];
    const failure: IOperation[] = [];
    const readAt: number[] = [];
    for (const { job, tickMs, entry } of requests) {
      const tickKey = keys.tick(job.name);
      const lockKey = keys.lock(job.name);
      const forbid = job.concurrency === 'forbid';
      compares.push(
        tickKeyMissing.has(job.name)
          ? [tickKey, 'Create', '==', 0]
          : [tickKey, 'Value', '<', encodeTick(tickMs)],
        [keys.job(job.name), 'Create', '>', 0],
      );
      if (forbid) compares.push([lockKey, 'Create', '==', 0]);
      // The read comes before the put, so it returns the tick claimed before ours.
      readAt.push(success.length);
      success.push(
        client.get(tickKey),
        client.put(tickKey).value(encodeTick(tickMs)),
        session.onLease(
          client.put(keys.running(job.name, entry.runId)).value(JSON.stringify(entry)),
        ),
      );
      if (forbid) success.push(session.onLease(client.put(lockKey).value(lockValue(entry))));
      failure.push(
        client.get(tickKey),
        client.get(lockKey),
        client.get(keys.job(job.name)),
        client.get(keys.running(job.name, entry.runId)),
      );
    }
    const result = await transaction(compares)
      .then(...success)
      .else(...failure)
      .commit();
    const ranges = result.responses.map((r) => r.response_range);

    if (result.succeeded) {
      return requests.map(({ job }, i) => {
        tickKeyMissing.delete(job.name);
        const previous = firstKv(ranges[readAt[i] as number]);
        return {
          outcome: 'claimed',
          previousTick: previous === null ? null : decodeTick(previous),
        };
      });
    }
    return requests.map(({ job, tickMs }, i) => {
      const [tickRange, lockRange, jobRange, runningRange] = ranges.slice(i * 4, i * 4 + 4);
      const failed = (outcome: ClaimOutcome): TickClaim => ({ outcome, previousTick: null });
      // Our own run's key: an earlier send of this claim was applied and its answer lost (the
      // client re-sends after a deadline). The claim is ours; only the tick before it is unknown.
      if (firstKv(runningRange) !== null) return failed('claimed');
      const currentTick = firstKv(tickRange);
      if (firstKv(jobRange) === null) {
        tickKeyMissing.delete(job.name);
        return failed('gone');
      }
      if (currentTick === null) tickKeyMissing.add(job.name);
      else tickKeyMissing.delete(job.name);
      if (currentTick !== null && currentTick >= encodeTick(tickMs)) return failed('taken');
      if (job.concurrency === 'forbid' && firstKv(lockRange) !== null) return failed('locked');
      return { retry: true };
    });
  }

  /** Whether etcd holds each claim's running key, read in one revision. */
  async function runningKeysHeld(requests: readonly ClaimRequest[]): Promise<boolean[]> {
    const runningKeys = requests.map(({ job, entry }) => keys.running(job.name, entry.runId));
    const result = await client
      .if(runningKeys[0] as string, 'Version', '>', -1)
      .then(...runningKeys.map((key) => client.get(key)))
      .commit();
    return result.responses.map((r) => firstKv(r.response_range) !== null);
  }

  const claimBatch = createBatcher<ClaimRequest, TickClaim>({
    maxItems: BATCH_ITEMS,
    keyOf: ({ job }) => job.name,
    async flush(requests) {
      const outcomes: (TickClaim | undefined)[] = requests.map(() => undefined);
      let pending = requests.map((request, index) => ({ request, index }));
      for (let round = 0; round < MAX_CLAIM_ROUNDS && pending.length > 0; round++) {
        let verdicts: ClaimVerdict[];
        try {
          verdicts = await claimRound(pending.map((p) => p.request));
        } catch (error) {
          // The answer was lost, not necessarily the claim: our runs' keys tell which were
          // applied. If etcd cannot answer that either, the claims fail as before.
          const held = await runningKeysHeld(pending.map((p) => p.request)).catch(() => {
            throw error;
          });
          verdicts = held.map((h) => ({ outcome: h ? 'claimed' : 'failed', previousTick: null }));
        }
        const again: typeof pending = [];
        pending.forEach((p, i) => {
          const verdict = verdicts[i] as ClaimVerdict;
          if ('retry' in verdict) again.push(p);
          else outcomes[p.index] = verdict;
        });
        pending = again;
      }
      // Still not settled after racing others every round: someone else is claiming this tick.
      return outcomes.map((outcome) => outcome ?? { outcome: 'taken', previousTick: null });
    },
  });

  /** Deletes the running keys of a batch, and each forbid job's lock if it is still this run's. */
  async function releaseRound(requests: readonly ReleaseRequest[]): Promise<boolean> {
    const compares: Compare[] = [];
    const deletes: IOperation[] = [];
    for (const { job, entry } of requests) {
      deletes.push(client.delete().key(keys.running(job.name, entry.runId)));
      if (job.concurrency !== 'forbid') continue;
      const lockKey = keys.lock(job.name);
      compares.push([lockKey, 'Value', '==', lockValue(entry)]);
      deletes.push(client.delete().key(lockKey));
    }
    // A batch of `allow` runs compares nothing; a key's version is never negative.
    const first = requests[0] as ReleaseRequest;
    if (compares.length === 0) compares.push([keys.job(first.job.name), 'Version', '>', -1]);
    const result = await transaction(compares)
      .then(...deletes)
      .commit();
    return result.succeeded;
  }

  async function releaseOne(job: Job, entry: RunningEntry): Promise<void> {
    const runningKey = keys.running(job.name, entry.runId);
    const lockKey = keys.lock(job.name);
    await client
      .if(lockKey, 'Value', '==', lockValue(entry))
      .then(client.delete().key(lockKey), client.delete().key(runningKey))
      .else(client.delete().key(runningKey))
      .commit();
  }

  const releaseBatch = createBatcher<ReleaseRequest, void>({
    maxItems: BATCH_ITEMS,
    keyOf: ({ job, entry }) => (job.concurrency === 'forbid' ? job.name : entry.runId),
    async flush(requests) {
      // A lock no longer ours (the session lapsed and another run took it) fails the batch:
      // each run is then released alone, leaving such a lock to its new holder.
      if (!(await releaseRound(requests)))
        await Promise.all(requests.map(({ job, entry }) => releaseOne(job, entry)));
      return requests.map(() => undefined);
    },
  });

  return {
    claimTick(job, tickMs, entry) {
      return claimBatch({ job, tickMs, entry });
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
        .else(client.get(lockKey), client.get(keys.running(job.name, entry.runId)))
        .commit();
      if (result.succeeded) return 'claimed';
      const [lockRange, runningRange] = result.responses.map((r) => r.response_range);
      // A re-send of a claim that was applied (see claimRound).
      if (firstKv(runningRange) !== null) return 'claimed';
      return forbid && firstKv(lockRange) !== null ? 'locked' : 'taken';
    },
    release(job, entry) {
      return releaseBatch({ job, entry });
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
    async sweepTicksOfDeletedJobs(beforeMs) {
      const [ticks, jobKeys] = await Promise.all([
        client.getAll().prefix(keys.ticksPrefix).exec(),
        client.getAll().prefix(keys.jobsPrefix).keys(),
      ]);
      const jobs = new Set(jobKeys.map((key) => key.slice(keys.jobsPrefix.length)));
      let swept = 0;
      for (const kv of ticks.kvs) {
        const name = kv.key.toString().slice(keys.ticksPrefix.length);
        if (jobs.has(name) || (decodeTick(kv.value.toString()) ?? 0) >= beforeMs) continue;
        const result = await client
          .if(keys.jobsPrefix + name, 'Create', '==', 0)
          .and(kv.key, 'Mod', '==', kv.mod_revision)
          .then(client.delete().key(kv.key))
          .commit();
        if (result.succeeded) swept++;
      }
      return swept;
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
