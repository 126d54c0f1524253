/**
 * One isolated world per contract case: its own key prefix and database, the data ports under
 * test (direct, or a real relay over loopback HTTP), and raw etcd/MongoDB clients to seed what
 * agents would write and to observe what the ports did.
 */
import { Etcd3 } from 'etcd3';
import type { Db } from 'mongodb';
import { MongoClient } from 'mongodb';
import { createDirectPorts } from '../../control-plane/adapters/direct/direct-ports.ts';
import { createRelayClient } from '../../control-plane/adapters/relay-client/relay-client.ts';
import { createRelayPorts } from '../../control-plane/adapters/relay-client/relay-ports.ts';
import type { DataAdapter } from '../../control-plane/ports.ts';
import type { KeyLayout } from '../../core/keys.ts';
import { createKeyLayout } from '../../core/keys.ts';
import { startRelay } from '../../relay/server.ts';
import type { Stack } from '../stack/index.ts';
import { uniqueDatabase, uniquePrefix } from '../stack/index.ts';

export type AdapterKind = 'direct' | 'relay';
export const ADAPTERS: readonly AdapterKind[] = ['direct', 'relay'];

export interface DataWorld {
  readonly ports: DataAdapter;
  readonly keys: KeyLayout;
  readonly database: string;
  /** Raw clients: seed what agents write, observe what the ports wrote. */
  readonly etcd: Etcd3;
  readonly db: Db;
  /** Every key under the world's prefix with its value, for byte-for-byte comparisons. */
  readonly keyspace: () => Promise<Record<string, string>>;
  close(): Promise<void>;
}

export const TEST_RELAY_SECRET = 'contract-test-relay-secret-0123456789';

export async function openDataWorld(stack: Stack, adapter: AdapterKind): Promise<DataWorld> {
  const prefix = uniquePrefix();
  const database = uniqueDatabase();
  const direct = {
    etcdEndpoints: stack.etcd.endpoints,
    mongoUrl: stack.mongo.url,
    database,
    prefix,
  };
  const relay =
    adapter === 'relay'
      ? await startRelay({ ...direct, secret: TEST_RELAY_SECRET, port: 0, host: '127.0.0.1' })
      : undefined;
  const ports = relay
    ? createRelayPorts(createRelayClient({ url: relay.url, secret: TEST_RELAY_SECRET }))
    : createDirectPorts(direct);
  const etcd = new Etcd3({ hosts: stack.etcd.endpoints });
  const mongo = new MongoClient(stack.mongo.url);
  const keys = createKeyLayout(prefix);
  return {
    ports,
    keys,
    database,
    etcd,
    db: mongo.db(database),
    keyspace: () => etcd.getAll().prefix(prefix).strings(),
    async close() {
      await ports.close();
      await relay?.stop();
      etcd.close();
      await mongo.close();
    },
  };
}

/** Runs `body` in a fresh world and closes it whatever happens. */
export async function inWorld(
  open: () => Promise<DataWorld>,
  body: (world: DataWorld) => Promise<void>,
): Promise<void> {
  const world = await open();
  try {
    await body(world);
  } finally {
    await world.close();
  }
}
