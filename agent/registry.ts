/** Registers the agent at `workers/<agentId>` on its session lease, again after each renewal. */
import type { Etcd3 } from 'etcd3';
import type { WorkerRegistration } from '../core/coordination.ts';
import type { KeyLayout } from '../core/keys.ts';
import type { Session } from './session.ts';

export async function register(
  client: Etcd3,
  keys: KeyLayout,
  session: Session,
  registration: WorkerRegistration,
): Promise<void> {
  await session.onLease(
    client.put(keys.worker(registration.agentId)).value(JSON.stringify(registration)),
  );
}
