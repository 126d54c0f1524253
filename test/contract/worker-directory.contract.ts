/** The WorkerDirectory and HealthProbe contracts. */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import type { DataWorld } from './data-world.ts';
import { inWorld } from './data-world.ts';
import { worker } from './records.ts';

export function workerDirectoryContract(open: () => Promise<DataWorld>): void {
  it('lists registered agents by id and leaves out invalid registrations', () =>
    inWorld(open, async ({ ports, keys, etcd }) => {
      await etcd.put(keys.worker('b')).value(JSON.stringify(worker('b')));
      await etcd.put(keys.worker('a')).value(JSON.stringify(worker('a')));
      await etcd.put(keys.worker('c')).value('{"agentId":"c"}');
      assert.deepEqual(await ports.workers.list(), [worker('a'), worker('b')]);
    }));
}

export function healthProbeContract(open: () => Promise<DataWorld>): void {
  it('reports etcd and MongoDB reachable', () =>
    inWorld(open, async ({ ports }) => {
      const report = await ports.health.check();
      assert.equal(report.ok, true, JSON.stringify(report));
      assert.equal(report.checks.etcd?.ok, true);
      assert.equal(report.checks.mongo?.ok, true);
    }));
}
