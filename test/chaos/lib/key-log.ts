/**
 * Evidence from etcd itself: every put and delete under some keys, with the revision, the lease
 * and the time the test saw it. The watch resumes from its last revision after an outage, so
 * changes made while it was disconnected still arrive (late, but in order).
 */
import type { Etcd3, IKeyValue, Watcher } from 'etcd3';
import { iso } from './ledger.ts';

export interface KeyChange {
  readonly seenAt: number;
  readonly type: 'put' | 'delete';
  readonly key: string;
  readonly value: string;
  readonly revision: string;
  readonly lease: string;
}

export interface KeyLog {
  readonly changes: readonly KeyChange[];
  /** One line per change, keys shown relative to `prefix`. */
  lines(filter?: (change: KeyChange) => boolean): string[];
  stop(): Promise<void>;
}

/** Watches keys under `prefix`; lines show keys relative to `base` (default: `prefix`). */
export async function watchKeys(client: Etcd3, prefix: string, base = prefix): Promise<KeyLog> {
  const changes: KeyChange[] = [];
  const record = (type: 'put' | 'delete', kv: IKeyValue): void => {
    changes.push({
      seenAt: Date.now(),
      type,
      key: kv.key.toString(),
      value: kv.value.toString(),
      revision: kv.mod_revision,
      lease: kv.lease,
    });
  };
  const watcher: Watcher = await client.watch().prefix(prefix).create();
  watcher.on('put', (kv) => record('put', kv));
  watcher.on('delete', (kv) => record('delete', kv));
  // Errors (an outage) are retried by the client; nothing to do here but not crash.
  watcher.on('error', () => undefined);
  return {
    changes,
    lines(filter = () => true) {
      return changes
        .filter(filter)
        .map(
          (c) =>
            `seen ${iso(c.seenAt)} rev ${c.revision} ${c.type} ${c.key.slice(base.length) || c.key}` +
            (c.type === 'put' ? ` lease ${BigInt(c.lease).toString(16)} = ${c.value}` : ''),
        );
    },
    async stop() {
      await watcher.cancel().catch(() => undefined);
    },
  };
}
