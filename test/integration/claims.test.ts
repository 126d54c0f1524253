/**
 * Claims and releases against a real etcd: those made in one turn share a transaction, and
 * each still gets the outcome it would have had alone.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Etcd3 } from 'etcd3';
import { createClaims, lockValue } from '../../agent/claim.ts';
import { createSession, type Session } from '../../agent/session.ts';
import type { RunningEntry } from '../../core/coordination.ts';
import type { Job } from '../../core/job.ts';
import { createKeyLayout, encodeTick, type KeyLayout } from '../../core/keys.ts';
import { job } from '../contract/records.ts';
import { startEtcd, uniquePrefix, type EtcdServer } from '../stack/index.ts';

const TICK = Date.UTC(2026, 11, 7, 3, 0, 0);

function entry(j: Job, tickMs: number, runId = `${j.name}-${tickMs}`): RunningEntry {
  return {
    runId,
    jobName: j.name,
    agentId: 'agent-a',
    host: 'host-a',
    pid: 0,
    planTime: tickMs,
    startTime: tickMs,
    command: j.command,
  };
}

describe('claims (real etcd)', () => {
  let etcd: EtcdServer;
  let client: Etcd3;
  let session: Session;

  before(async () => {
    etcd = await startEtcd({ dataDir: mkdtempSync(join(tmpdir(), 'cronplane-claims-')) });
    client = new Etcd3({ hosts: etcd.endpoints });
    session = createSession(client, { ttlSeconds: 10 });
    await session.whenLive();
  });
  after(async () => {
    await session.stop();
    client.close();
    await etcd.stop();
  });

  async function world(names: readonly string[], overrides: Partial<Job> = {}) {
    const keys = createKeyLayout(uniquePrefix());
    const jobs = names.map((name) => job(name, overrides));
    for (const j of jobs) await client.put(keys.job(j.name)).value(JSON.stringify(j));
    return { keys, jobs, claims: createClaims(client, keys, session) };
  }

  async function revision(): Promise<number> {
    const status = await client.maintenance.status();
    return Number(status.header.revision);
  }

  async function keysUnder(keys: KeyLayout, kind: 'lock' | 'running'): Promise<string[]> {
    const prefix = kind === 'lock' ? keys.lockPrefix : keys.runningPrefix;
    return (await client.getAll().prefix(prefix).keys()).sort();
  }

  it('claims the ticks of one turn in a single transaction, each with the tick before it', async () => {
    const { keys, jobs, claims } = await world(
      Array.from({ length: 40 }, (_, i) => `burst-${i}`),
      { concurrency: 'forbid' },
    );
    for (const j of jobs) await client.put(keys.tick(j.name)).value(encodeTick(TICK - 1_000));
    const before = await revision();
    const results = await Promise.all(jobs.map((j) => claims.claimTick(j, TICK, entry(j, TICK))));
    assert.deepEqual(
      results.map((r) => r.outcome),
      jobs.map(() => 'claimed'),
    );
    assert.deepEqual(
      results.map((r) => r.previousTick),
      jobs.map(() => TICK - 1_000),
    );
    // 40 claims: a batch of 32 and one of 8.
    assert.equal((await revision()) - before, 2);
    assert.equal((await keysUnder(keys, 'lock')).length, 40);
    for (const j of jobs)
      assert.equal(await client.get(keys.tick(j.name)).string(), encodeTick(TICK));
  });

  it('gives each claim of a batch its own outcome when some cannot win', async () => {
    const { keys, jobs, claims } = await world(['fresh', 'taken', 'locked', 'gone', 'free']);
    const [fresh, taken, locked, gone, free] = jobs as [Job, Job, Job, Job, Job];
    const lockedForbid: Job = { ...locked, concurrency: 'forbid' };
    await client.put(keys.tick(taken.name)).value(encodeTick(TICK));
    await client.put(keys.tick(locked.name)).value(encodeTick(TICK - 1_000));
    await client.put(keys.lock(locked.name)).value('{"agentId":"agent-b"}');
    await client.put(keys.tick(gone.name)).value(encodeTick(TICK - 1_000));
    await client.delete().key(keys.job(gone.name));
    await client.put(keys.tick(free.name)).value(encodeTick(TICK - 5_000));

    const results = await Promise.all(
      [fresh, taken, lockedForbid, gone, free].map((j) =>
        claims.claimTick(j, TICK, entry(j, TICK)),
      ),
    );
    assert.deepEqual(results, [
      { outcome: 'claimed', previousTick: null },
      { outcome: 'taken', previousTick: null },
      { outcome: 'locked', previousTick: null },
      { outcome: 'gone', previousTick: null },
      { outcome: 'claimed', previousTick: TICK - 5_000 },
    ]);
    assert.deepEqual(
      await keysUnder(keys, 'running'),
      [fresh, free].map((j) => keys.running(j.name, entry(j, TICK).runId)).sort(),
    );
    assert.equal(await client.get(keys.lock(locked.name)).string(), '{"agentId":"agent-b"}');
  });

  it('claims a later tick of a job whose tick key it first saw missing', async () => {
    const { jobs, claims } = await world(['new-job'], { concurrency: 'allow' });
    const [j] = jobs as [Job];
    assert.equal((await claims.claimTick(j, TICK, entry(j, TICK))).outcome, 'claimed');
    const later = await claims.claimTick(j, TICK + 1_000, entry(j, TICK + 1_000));
    assert.deepEqual(later, { outcome: 'claimed', previousTick: TICK });
    const again = await claims.claimTick(j, TICK + 1_000, entry(j, TICK + 1_000, 'other-run'));
    assert.equal(again.outcome, 'taken', 'a tick is claimed once');
  });

  it('reads a re-sent claim that was applied the first time as won, not as taken', async () => {
    const { keys, jobs, claims } = await world(['resent'], { concurrency: 'forbid' });
    const [j] = jobs as [Job];
    await client.put(keys.tick(j.name)).value(encodeTick(TICK - 1_000));
    const run = entry(j, TICK);
    assert.equal((await claims.claimTick(j, TICK, run)).outcome, 'claimed');
    // What the client does when the first answer is lost: the same transaction again.
    assert.equal((await claims.claimTick(j, TICK, run)).outcome, 'claimed');
    const rival = await claims.claimTick(j, TICK, entry(j, TICK, 'another-run'));
    assert.equal(rival.outcome, 'taken');

    const manual = entry(j, TICK + 5_000, 'manual-run');
    await claims.release(j, run);
    await client.put(keys.manual(j.name)).value('{"runId":"manual-run"}');
    assert.equal(await claims.claimManual(j, '{"runId":"manual-run"}', manual), 'claimed');
    assert.equal(await claims.claimManual(j, '{"runId":"manual-run"}', manual), 'claimed');
  });

  it('releases the runs of one turn together, leaving a lock another run took over', async () => {
    const { keys, jobs, claims } = await world(['forbid-a', 'forbid-b', 'allow-c']);
    const [a, b, c] = jobs as [Job, Job, Job];
    const runs = [
      { job: { ...a, concurrency: 'forbid' } as Job, entry: entry(a, TICK) },
      { job: { ...b, concurrency: 'forbid' } as Job, entry: entry(b, TICK) },
      { job: c, entry: entry(c, TICK) },
    ];
    for (const run of runs) {
      assert.equal((await claims.claimTick(run.job, TICK, run.entry)).outcome, 'claimed');
    }
    assert.equal((await keysUnder(keys, 'running')).length, 3);

    const before = await revision();
    await Promise.all(runs.map((run) => claims.release(run.job, run.entry)));
    assert.equal((await revision()) - before, 1, 'one transaction');
    assert.deepEqual(await keysUnder(keys, 'running'), []);
    assert.deepEqual(await keysUnder(keys, 'lock'), []);

    // b's lock lapsed and another agent's run took it: releasing b leaves that lock alone.
    const [forbidA, forbidB] = runs as [(typeof runs)[0], (typeof runs)[0]];
    await claims.claimTick(forbidA.job, TICK + 1_000, entry(a, TICK + 1_000));
    await claims.claimTick(forbidB.job, TICK + 1_000, entry(b, TICK + 1_000));
    const theirs = lockValue({ ...entry(b, TICK + 1_000), agentId: 'agent-b' });
    await client.put(keys.lock(b.name)).value(theirs);
    await Promise.all([
      claims.release(forbidA.job, entry(a, TICK + 1_000)),
      claims.release(forbidB.job, entry(b, TICK + 1_000)),
    ]);
    assert.deepEqual(await keysUnder(keys, 'running'), []);
    assert.deepEqual(await keysUnder(keys, 'lock'), [keys.lock(b.name)]);
    assert.equal(await client.get(keys.lock(b.name)).string(), theirs);
  });

  it('refuses a tick that already ran to a job deleted and recreated under the same name', async () => {
    const { keys, jobs, claims } = await world(['reborn'], { concurrency: 'allow' });
    const [j] = jobs as [Job];
    assert.equal((await claims.claimTick(j, TICK, entry(j, TICK))).outcome, 'claimed');
    // What DELETE and PUT of the job do to etcd (control-plane/adapters/direct/etcd-job-store.ts).
    await client.delete().key(keys.job(j.name));
    await client.put(keys.job(j.name)).value(JSON.stringify(j));
    const again = await claims.claimTick(j, TICK, entry(j, TICK, 'late-fallback'));
    assert.equal(again.outcome, 'taken');
  });

  it('sweeps the tick keys of deleted jobs once no claim can come, and only those', async () => {
    const { keys, claims } = await world(['kept']);
    const old = encodeTick(TICK - 2 * 3_600_000);
    await client.put(keys.tick('kept')).value(old);
    await client.put(keys.tick('deleted-long-ago')).value(old);
    await client.put(keys.tick('deleted-just-now')).value(encodeTick(TICK - 60_000));
    assert.equal(await claims.sweepTicksOfDeletedJobs(TICK - 3_600_000), 1);
    assert.deepEqual((await client.getAll().prefix(keys.ticksPrefix).keys()).sort(), [
      keys.tick('deleted-just-now'),
      keys.tick('kept'),
    ]);
  });
});
