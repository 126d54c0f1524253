import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { readRunningEntry, type RunningEntry } from '../../core/coordination.ts';
import { startStack, waitUntil, type Stack } from '../stack/index.ts';
import { createFixture, tickReport } from '../agent/fixture.ts';

const OUTAGE_MS = 10_000;

async function runningEntries(
  world: ReturnType<typeof createFixture>,
  job: string,
): Promise<RunningEntry[]> {
  const listed = await world.etcd.getAll().prefix(world.keys.runningOfJob(job)).strings();
  return Object.values(listed).flatMap((value) => {
    const entry = readRunningEntry(value);
    return entry ? [entry] : [];
  });
}

describe('agent: failures', () => {
  let stack: Stack;
  before(async () => {
    stack = await startStack();
  });
  after(async () => {
    await stack.stop();
  });

  it('keeps every run log across a 10 s MongoDB outage, none twice', async () => {
    await using world = createFixture(stack);
    const agents = await world.startAgents(['m1', 'm2']);
    await world.putJob({
      name: 'through-outage',
      command: 'echo $CRONPLANE_RUN_ID',
      cronExpr: '* * * * * *',
    });
    await world.waitForRuns('through-outage', 2, 20_000);
    await stack.mongo.stop();
    // The outage itself is the workload: runs keep firing while the server is gone.
    await new Promise((resolve) => setTimeout(resolve, OUTAGE_MS));
    await stack.mongo.restart();
    await world.deleteJob('through-outage');
    const started = agents.flatMap((agent) =>
      agent.events
        .filter((e) => e.event === 'run:started' && e.job === 'through-outage')
        .map((e) => String(e.runId)),
    );
    assert.ok(started.length >= 10, `runs kept firing during the outage (${started.length})`);
    const runs = await waitUntil(
      async () => {
        const runs = await world.runs('through-outage');
        const ids = new Set(runs.map((r) => r.runId));
        return started.every((id) => ids.has(id)) ? runs : null;
      },
      {
        timeoutMs: 30_000,
        what: 'every started run to be logged after the outage',
        intervalMs: 200,
      },
    ).catch(async (error: unknown) => {
      const ids = new Set((await world.runs('through-outage')).map((r) => r.runId));
      const missing = started.filter((id) => !ids.has(id));
      const writerEvents = agents.flatMap((a) =>
        a.events
          .filter((e) => e.event.startsWith('log:'))
          .map((e) => `${a.agentId} ${JSON.stringify(e)}`),
      );
      throw new Error(
        `${String(error)}; missing ${missing.length}/${started.length}\n${writerEvents.slice(-12).join('\n')}`,
      );
    });
    assert.deepEqual(tickReport(runs).duplicates, [], 'no tick logged twice');
    assert.ok(runs.every((r) => r.output === `${r.runId}\n`));
  });

  it("creates the run log's indexes and writes its runs once MongoDB comes up, when it was down at the agent's start", async () => {
    await using world = createFixture(stack);
    await stack.mongo.stop();
    let agent;
    try {
      [agent] = await world.startAgents(['index-maker']);
      assert.ok(agent);
      await agent.waitForEvent('log:indexesFailed', () => true, 30_000);
    } finally {
      await stack.mongo.restart();
    }
    await agent.waitForEvent('log:indexesCreated', () => true, 60_000);
    const indexes = await world.db.collection('log').indexes();
    assert.ok(
      indexes.some((index) => index.name === 'runId_unique' && index.unique === true),
      'the unique runId index exists',
    );
    await world.putJob({ name: 'after-start', command: 'echo logged', cronExpr: '* * * * * *' });
    const [run] = await world.waitForRuns('after-start', 1, 20_000);
    await world.deleteJob('after-start');
    assert.equal(run?.output, 'logged\n');
  });

  it('replays records spilled before a SIGKILL when the agent restarts', async () => {
    await using world = createFixture(stack);
    const [agent] = await world.startAgents(['spiller']);
    assert.ok(agent);
    await stack.mongo.stop();
    try {
      await world.putJob({ name: 'spilled', command: 'echo spilled', cronExpr: '* * * * * *' });
      await agent.waitForEvent('run:ended', (e) => e.job === 'spilled');
      await agent.waitForEvent('log:insertFailed');
      await world.deleteJob('spilled');
      await agent.stop('SIGKILL');
    } finally {
      await stack.mongo.restart();
    }
    const ended = agent.events
      .filter((e) => e.event === 'run:ended' && e.job === 'spilled')
      .map((e) => String(e.runId));
    assert.ok(ended.length >= 1);
    assert.equal(
      (await world.runs('spilled')).length,
      0,
      'nothing reached MongoDB before the kill',
    );
    const restarted = world.startAgent('spiller', { stateDir: agent.stateDir });
    await restarted.waitForEvent('log:replayed', () => true, 20_000);
    const ids = new Set((await world.runs('spilled')).map((r) => r.runId));
    for (const id of ended) assert.ok(ids.has(id), `run ${id} was replayed`);
  });

  it('records a run lost when its agent dies, frees its forbid lock within the TTL, and runs the next tick elsewhere', async () => {
    await using world = createFixture(stack);
    const agents = await world.startAgents(['d1', 'd2'], { sessionTtlSeconds: 3 });
    await world.putJob({
      name: 'long',
      command: 'sleep 20',
      cronExpr: '* * * * * *',
      concurrency: 'forbid',
    });
    const [victim] = await waitUntil(
      () => runningEntries(world, 'long').then((e) => (e.length > 0 ? e : null)),
      { timeoutMs: 10_000, what: 'a run of long' },
    );
    assert.ok(victim);
    const dying = agents.find((a) => a.agentId === victim.agentId);
    const survivor = agents.find((a) => a.agentId !== victim.agentId);
    assert.ok(dying && survivor);
    const killedAt = Date.now();
    await dying.stop('SIGKILL');
    const takeover = await waitUntil(
      () =>
        runningEntries(world, 'long').then((entries) =>
          entries.find((e) => e.agentId === survivor.agentId),
        ),
      { timeoutMs: 10_000, what: `the surviving agent to take over ${victim.jobName}` },
    );
    const takeoverMs = Date.now() - killedAt;
    assert.ok(
      takeoverMs <= 3_000 + 1_500,
      `lock freed and next tick run after ${takeoverMs} ms (TTL 3 s)`,
    );
    assert.ok(takeover.planTime > victim.planTime);
    const lost = await waitUntil(
      async () => (await world.runs('long')).find((r) => r.runId === victim.runId),
      { timeoutMs: 10_000, what: 'the lost record' },
    );
    assert.equal(lost.status, 'lost');
    await world.deleteJob('long');
    await world.etcd
      .put(world.keys.killer('long'))
      .value(JSON.stringify({ requestedAt: Date.now() }));
    // Exactly once: no second record for the same run, whoever saw the loss.
    assert.equal((await world.runs('long')).filter((r) => r.runId === victim.runId).length, 1);
  });

  it('records a run lost when its agent dies and comes back under the same id before its lease expires', async () => {
    await using world = createFixture(stack);
    const [agent] = await world.startAgents(['phoenix'], { sessionTtlSeconds: 10 });
    assert.ok(agent);
    await world.putJob({ name: 'interrupted', command: 'sleep 30', cronExpr: '* * * * * *' });
    const [victim] = await waitUntil(
      () => runningEntries(world, 'interrupted').then((e) => (e.length > 0 ? e : null)),
      { timeoutMs: 10_000, what: 'a run of interrupted' },
    );
    assert.ok(victim);
    await world.deleteJob('interrupted');
    await agent.stop('SIGKILL');
    // Back within the 10 s TTL: the old lease, and with it the running key, is still alive.
    world.startAgent('phoenix', { sessionTtlSeconds: 10 });
    const lost = await waitUntil(
      async () => (await world.runs('interrupted')).find((r) => r.runId === victim.runId),
      { timeoutMs: 10_000, what: 'the lost record of the interrupted run' },
    );
    assert.equal(lost.status, 'lost');
  });
});
