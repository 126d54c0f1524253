import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startStack, type Stack } from '../stack/index.ts';
import { createFixture } from '../agent/fixture.ts';

describe('agent: job changes', () => {
  let stack: Stack;
  before(async () => {
    stack = await startStack();
  });
  after(async () => {
    await stack.stop();
  });

  it('applies a changed schedule within 100 ms, and stops running a deleted or disabled job', async () => {
    await using world = createFixture(stack);
    const [agent] = await world.startAgents(['c1']);
    assert.ok(agent);
    await world.putJob({ name: 'moving', command: 'true', cronExpr: '0 0 0 1 1 * 2199' });
    await agent.waitForEvent('scheduler:planned', (e) => e.job === 'moving');

    const changedAt = Date.now();
    await world.putJob({ name: 'moving', command: 'true', cronExpr: '* * * * * *' });
    const planned = await agent.waitForEvent(
      'scheduler:planned',
      (e) => e.job === 'moving' && typeof e.nextTick === 'number' && e.nextTick - changedAt < 2_000,
    );
    const propagationMs = Date.parse(String(planned.t)) - changedAt;
    assert.ok(propagationMs <= 100, `new schedule applied after ${propagationMs} ms`);
    await world.waitForRuns('moving', 2, 10_000);

    await world.putJob({
      name: 'moving',
      command: 'true',
      cronExpr: '* * * * * *',
      enabled: false,
    });
    await agent.waitForEvent('scheduler:planned', (e) => e.job === 'moving' && e.nextTick === null);
    await world.putJob({ name: 'deleted', command: 'true', cronExpr: '* * * * * *' });
    await world.waitForRuns('deleted', 1, 10_000);
    await world.deleteJob('deleted');
    await agent.waitForEvent(
      'scheduler:planned',
      (e) => e.job === 'deleted' && e.nextTick === null,
    );

    // Anything already claimed has ended well within 2 s; then nothing more may start.
    const settle = async (): Promise<void> => {
      const before = agent.events.filter((e) => e.event === 'run:started').length;
      await new Promise((resolve) => setTimeout(resolve, 2_500));
      assert.equal(
        agent.events.filter((e) => e.event === 'run:started').length,
        before,
        'no run started after disable and delete',
      );
    };
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    await settle();
  });

  it('on SIGTERM lets a running run finish, logs it, and leaves the fleet at once', async () => {
    await using world = createFixture(stack);
    const [agent] = await world.startAgents(['leaving']);
    assert.ok(agent);
    await world.putJob({
      name: 'finishing',
      command: 'sleep 1; echo finished',
      cronExpr: '* * * * * *',
    });
    const started = await agent.waitForEvent('run:started', (e) => e.job === 'finishing');
    await world.deleteJob('finishing');
    assert.equal(await agent.stop('SIGTERM'), 0);
    const [run] = await world.runs('finishing');
    assert.equal(run?.runId, started.runId, 'the record was flushed before exit');
    assert.equal(run?.status, 'succeeded');
    assert.equal(run?.output, 'finished\n');
    const worker = await world.etcd.get(world.keys.worker('leaving')).string();
    assert.equal(worker, null, 'the session lease was revoked, taking the registration with it');
  });
});
