/**
 * The job store on etcd, following the data layout of core/keys.ts. Every write is one request
 * (a put or a transaction), so no error can leave a job half-written.
 */
import type { Etcd3, IKeyValue } from 'etcd3';
import type { VersionedJob } from '../../../core/api.ts';
import { readRunningEntry } from '../../../core/coordination.ts';
import { CronplaneError } from '../../../core/errors.ts';
import { readStoredJob } from '../../../core/job.ts';
import type { KeyLayout } from '../../../core/keys.ts';
import type { JobStore } from '../../ports.ts';
import { orUnavailable } from './unavailable.ts';

export interface EtcdJobStoreOptions {
  /** Lifetime of a kill request; agents watching `killer/` act on it well within this. */
  readonly killTtlSeconds: number;
  /** Lifetime of a run-now request's key; longer than the claim timeout. */
  readonly manualTtlSeconds: number;
  /** How long a run-now request waits for an agent's claim before it is withdrawn. */
  readonly manualClaimTimeoutMs: number;
}

export const DEFAULT_KILL_TTL_SECONDS = 10;
export const DEFAULT_MANUAL_TTL_SECONDS = 15;
export const DEFAULT_MANUAL_CLAIM_TIMEOUT_MS = 5_000;

function versionedJobOf(layout: KeyLayout, kv: IKeyValue): VersionedJob | null {
  const parsed = layout.parse(kv.key.toString());
  if (parsed?.kind !== 'jobs') return null;
  const result = readStoredJob(kv.value.toString());
  // A value whose name disagrees with its key would be scheduled under the wrong name.
  if (!result.ok || result.job.name !== parsed.name) return null;
  return { job: result.job, revision: kv.mod_revision };
}

export function createEtcdJobStore(
  client: Etcd3,
  layout: KeyLayout,
  options: EtcdJobStoreOptions = {
    killTtlSeconds: DEFAULT_KILL_TTL_SECONDS,
    manualTtlSeconds: DEFAULT_MANUAL_TTL_SECONDS,
    manualClaimTimeoutMs: DEFAULT_MANUAL_CLAIM_TIMEOUT_MS,
  },
): JobStore {
  const etcd = <T>(operation: () => Promise<T>) => orUnavailable('etcd', operation);

  return {
    list: () =>
      etcd(async () => {
        const { kvs } = await client.getAll().prefix(layout.jobsPrefix).exec();
        return kvs.flatMap((kv) => versionedJobOf(layout, kv) ?? []);
      }),

    get: (name) =>
      etcd(async () => {
        const { kvs } = await client.get(layout.job(name)).exec();
        const [kv] = kvs;
        return kv ? versionedJobOf(layout, kv) : null;
      }),

    put: (job, { ifMatch } = {}) =>
      etcd(async () => {
        const key = layout.job(job.name);
        const value = JSON.stringify(job);
        // Both forms are transactions so the answer says whether the key existed before.
        const result =
          ifMatch === undefined
            ? await client
                .if(key, 'Create', '==', 0)
                .then(client.put(key).value(value))
                .else(client.put(key).value(value))
                .commit()
            : await client
                .if(key, 'Mod', '==', ifMatch)
                .then(client.put(key).value(value))
                .commit();
        if (ifMatch !== undefined && !result.succeeded) {
          throw new CronplaneError(
            'precondition_failed',
            `job "${job.name}" is no longer at revision ${ifMatch}`,
          );
        }
        return {
          job: { job, revision: result.header.revision },
          created: ifMatch === undefined && result.succeeded,
        };
      }),

    delete: (name) =>
      etcd(async () => {
        const jobKey = layout.job(name);
        // The job's tick key stays: a job recreated under this name must not claim a tick
        // that already ran (agents sweep it once no claim can come, agent/retention.ts).
        const result = await client
          .if(jobKey, 'Create', '>', 0)
          .then(client.delete().key(jobKey))
          .commit();
        if (!result.succeeded)
          throw new CronplaneError('not_found', `job "${name}" does not exist`);
      }),

    kill: (name, request) =>
      etcd(async () => {
        const jobKey = layout.job(name);
        // The request rides a lease of its own, so it vanishes by itself once agents had time
        // to see it; nothing keeps the lease alive.
        const lease = client.lease(options.killTtlSeconds, { autoKeepAlive: false });
        try {
          const leaseId = await lease.grant();
          const result = await client
            .if(jobKey, 'Create', '>', 0)
            .then(client.put(layout.killer(name)).value(JSON.stringify(request)).lease(leaseId))
            .commit();
          if (!result.succeeded) {
            await lease.revoke();
            throw new CronplaneError('not_found', `job "${name}" does not exist`);
          }
        } finally {
          lease.release();
        }
      }),

    runNow: (name, trigger) =>
      etcd(async () => {
        const jobKey = layout.job(name);
        const manualKey = layout.manual(name);
        const lockKey = layout.lock(name);
        const stored = await client.get(jobKey).string();
        const job = stored === null ? null : readStoredJob(stored);
        if (!job?.ok) throw new CronplaneError('not_found', `job "${name}" does not exist`);
        const raw = JSON.stringify(trigger);
        // Like a kill request, the trigger rides a lease of its own so it can never outlive
        // its purpose, even if this process dies while waiting.
        const lease = client.lease(options.manualTtlSeconds, { autoKeepAlive: false });
        try {
          const leaseId = await lease.grant();
          const txn = client.if(jobKey, 'Create', '>', 0).and(manualKey, 'Create', '==', 0);
          if (job.job.concurrency === 'forbid') txn.and(lockKey, 'Create', '==', 0);
          const result = await txn
            .then(client.put(manualKey).value(raw).lease(leaseId))
            .else(client.get(jobKey), client.get(manualKey))
            .commit();
          if (!result.succeeded) {
            await lease.revoke();
            const [jobRange, manualRange] = result.responses.map((r) => r.response_range);
            if (!jobRange?.kvs.length)
              throw new CronplaneError('not_found', `job "${name}" does not exist`);
            if (manualRange?.kvs.length)
              throw new CronplaneError(
                'conflict',
                `a run-now request for "${name}" is already waiting`,
              );
            throw new CronplaneError(
              'conflict',
              `"${name}" forbids concurrent runs and one is in flight`,
            );
          }
          const deadline = Date.now() + options.manualClaimTimeoutMs;
          while (Date.now() < deadline) {
            if ((await client.get(manualKey).string()) !== raw) return;
            await new Promise((resolve) => setTimeout(resolve, 25));
          }
          const withdrawn = await client
            .if(manualKey, 'Value', '==', raw)
            .then(client.delete().key(manualKey))
            .commit();
          if (withdrawn.succeeded) {
            throw new CronplaneError(
              'unavailable',
              `no agent claimed the run of "${name}" within ${options.manualClaimTimeoutMs} ms; nothing was run`,
            );
          }
        } finally {
          lease.release();
        }
      }),

    listRunning: () =>
      etcd(async () => {
        const values = await client.getAll().prefix(layout.runningPrefix).strings();
        return Object.values(values)
          .flatMap((json) => readRunningEntry(json) ?? [])
          .sort((a, b) => a.jobName.localeCompare(b.jobName) || a.startTime - b.startTime);
      }),
  };
}
