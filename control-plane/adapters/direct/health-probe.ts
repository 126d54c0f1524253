/** Health of the direct adapters: one cheap round trip to etcd and to MongoDB, each bounded. */
import type { Etcd3 } from 'etcd3';
import type { Db } from 'mongodb';
import type { HealthCheck } from '../../../core/api.ts';
import type { KeyLayout } from '../../../core/keys.ts';
import type { HealthProbe } from '../../ports.ts';

const HEALTH_CHECK_TIMEOUT_MS = 2000;

async function probe(operation: () => Promise<unknown>, timeoutMs: number): Promise<HealthCheck> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    await Promise.race([operation(), timeout]);
    return { ok: true };
  } catch (error) {
    return { ok: false, error: error instanceof Error ? error.message : String(error) };
  } finally {
    clearTimeout(timer);
  }
}

export function createDirectHealthProbe(
  etcd: Etcd3,
  layout: KeyLayout,
  db: Db,
  timeoutMs = HEALTH_CHECK_TIMEOUT_MS,
): HealthProbe {
  return {
    async check() {
      const [etcdCheck, mongoCheck] = await Promise.all([
        probe(() => etcd.get(layout.jobsPrefix).exec(), timeoutMs),
        probe(() => db.command({ ping: 1 }), timeoutMs),
      ]);
      return { ok: etcdCheck.ok && mongoCheck.ok, checks: { etcd: etcdCheck, mongo: mongoCheck } };
    },
  };
}
