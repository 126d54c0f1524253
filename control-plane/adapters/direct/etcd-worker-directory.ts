/** Registered agents, read from `<prefix>workers/`. */
import type { Etcd3 } from 'etcd3';
import { readWorkerRegistration } from '../../../core/coordination.ts';
import type { KeyLayout } from '../../../core/keys.ts';
import type { WorkerDirectory } from '../../ports.ts';
import { orUnavailable } from './unavailable.ts';

export function createEtcdWorkerDirectory(client: Etcd3, layout: KeyLayout): WorkerDirectory {
  return {
    list: () =>
      orUnavailable('etcd', async () => {
        const values = await client.getAll().prefix(layout.workersPrefix).strings();
        return Object.values(values)
          .flatMap((json) => readWorkerRegistration(json) ?? [])
          .sort((a, b) => a.agentId.localeCompare(b.agentId));
      }),
  };
}
