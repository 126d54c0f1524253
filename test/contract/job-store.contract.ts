/** The JobStore contract: what every adapter (direct, relay client) must do, case by case. */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { CronplaneError } from '../../core/errors.ts';
import type { DataWorld } from './data-world.ts';
import { inWorld } from './data-world.ts';
import { job, running } from './records.ts';

function assertCode(code: string) {
  return (error: unknown) => {
    assert.ok(error instanceof CronplaneError, `expected a CronplaneError, got ${String(error)}`);
    assert.equal(error.code, code);
    return true;
  };
}

export function jobStoreContract(open: () => Promise<DataWorld>): void {
  it('creates a job, then replaces it with a newer revision', () =>
    inWorld(open, async ({ ports }) => {
      const first = await ports.jobs.put(job('backup'));
      assert.equal(first.created, true);
      assert.deepEqual(first.job.job, job('backup'));
      const second = await ports.jobs.put(job('backup', { command: 'echo replaced' }));
      assert.equal(second.created, false);
      assert.ok(BigInt(second.job.revision) > BigInt(first.job.revision));
      assert.deepEqual(await ports.jobs.get('backup'), second.job);
    }));

  it('stores the job as JSON under <prefix>jobs/<name>', () =>
    inWorld(open, async ({ ports, keys, etcd }) => {
      await ports.jobs.put(job('backup'));
      const stored = await etcd.get(keys.job('backup')).string();
      assert.deepEqual(JSON.parse(stored ?? 'null'), job('backup'));
    }));

  it('answers null for a job that does not exist', () =>
    inWorld(open, async ({ ports }) => {
      assert.equal(await ports.jobs.get('nothing'), null);
    }));

  it('lists jobs by name and leaves out stored values that fail validation', () =>
    inWorld(open, async ({ ports, keys, etcd }) => {
      await ports.jobs.put(job('b'));
      await ports.jobs.put(job('a'));
      await etcd.put(keys.job('broken')).value('{not json');
      await etcd.put(keys.job('misnamed')).value(JSON.stringify(job('other')));
      const listed = await ports.jobs.list();
      assert.deepEqual(
        listed.map((s) => s.job.name),
        ['a', 'b'],
      );
      for (const s of listed) assert.match(s.revision, /^[1-9][0-9]*$/);
    }));

  it('reads a job written by the Go crontab with defaults filled in', () =>
    inWorld(open, async ({ ports, keys, etcd }) => {
      await etcd
        .put(keys.job('legacy'))
        .value(JSON.stringify({ name: 'legacy', command: 'date', cronExpr: '0 * * * *' }));
      const stored = await ports.jobs.get('legacy');
      assert.equal(stored?.job.timezone, 'UTC');
      assert.equal(stored?.job.concurrency, 'forbid');
    }));

  it('replaces with If-Match only while the revision is current', () =>
    inWorld(open, async ({ ports }) => {
      const { job: v1 } = await ports.jobs.put(job('backup'));
      const { job: v2 } = await ports.jobs.put(job('backup', { command: 'echo 2' }), {
        ifMatch: v1.revision,
      });
      await assert.rejects(
        ports.jobs.put(job('backup', { command: 'echo 3' }), { ifMatch: v1.revision }),
        assertCode('precondition_failed'),
      );
      assert.deepEqual(await ports.jobs.get('backup'), v2);
    }));

  it('refuses If-Match for a job that does not exist', () =>
    inWorld(open, async ({ ports }) => {
      await assert.rejects(
        ports.jobs.put(job('ghost'), { ifMatch: '1' }),
        assertCode('precondition_failed'),
      );
      assert.equal(await ports.jobs.get('ghost'), null);
    }));

  it('deletes the job and nothing else: its tick record stays, so a recreated job cannot claim a tick that ran', () =>
    inWorld(open, async ({ ports, keys, etcd, keyspace }) => {
      await ports.jobs.put(job('backup'));
      await ports.jobs.put(job('other'));
      await etcd.put(keys.tick('backup')).value('0001700000000000');
      await etcd.put(keys.tick('other')).value('0001700000000000');
      await ports.jobs.delete('backup');
      assert.deepEqual(Object.keys(await keyspace()).sort(), [
        keys.job('other'),
        keys.tick('backup'),
        keys.tick('other'),
      ]);
    }));

  it('answers not_found when deleting a job that does not exist', () =>
    inWorld(open, async ({ ports, keyspace }) => {
      await assert.rejects(ports.jobs.delete('ghost'), assertCode('not_found'));
      assert.deepEqual(await keyspace(), {});
    }));

  it('records a kill request on a short lease of its own', () =>
    inWorld(open, async ({ ports, keys, etcd }) => {
      await ports.jobs.put(job('backup'));
      const request = { requestedAt: 1_700_000_000_000, requestedBy: 'ops' };
      await ports.jobs.kill('backup', request);
      const [kv] = (await etcd.get(keys.killer('backup')).exec()).kvs;
      assert.ok(kv, 'no kill request was written');
      assert.deepEqual(JSON.parse(kv.value.toString()), request);
      assert.notEqual(kv.lease, '0', 'the kill request must live on a lease');
      const lease = await etcd.leaseClient.leaseTimeToLive({ ID: kv.lease });
      assert.equal(lease.grantedTTL, '10');
      assert.ok(Number(lease.TTL) > 0 && Number(lease.TTL) <= 10);
    }));

  it('answers not_found when killing a job that does not exist, writing nothing', () =>
    inWorld(open, async ({ ports, keyspace }) => {
      await assert.rejects(
        ports.jobs.kill('ghost', { requestedAt: 1_700_000_000_000 }),
        assertCode('not_found'),
      );
      assert.deepEqual(await keyspace(), {});
    }));

  it('lists runs in flight and leaves out entries that fail validation', () =>
    inWorld(open, async ({ ports, keys, etcd }) => {
      const entry = running('backup', 'run-1');
      await etcd.put(keys.running('backup', 'run-1')).value(JSON.stringify(entry));
      await etcd.put(keys.running('backup', 'run-2')).value('{"runId":"run-2"}');
      assert.deepEqual(await ports.jobs.listRunning(), [entry]);
    }));
}
