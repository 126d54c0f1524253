import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startStack, type Stack } from '../stack/index.ts';
import { createFixture, tickReport } from '../agent/fixture.ts';

describe('agent: exactly once per tick', () => {
  let stack: Stack;
  before(async () => {
    stack = await startStack();
  });
  after(async () => {
    await stack.stop();
  });

  it('runs a 1-second job exactly once per tick across three agents, spread over them', async () => {
    await using world = createFixture(stack);
    await world.startAgents(['a1', 'a2', 'a3']);
    await world.putJob({
      name: 'every-second',
      command: 'echo tick $CRONPLANE_TICK',
      cronExpr: '* * * * * *',
    });
    await world.waitForRuns('every-second', 20, 40_000);
    await world.deleteJob('every-second');
    const runs = await world.runs('every-second');
    const { duplicates, gaps } = tickReport(runs);
    assert.deepEqual(duplicates, [], 'no tick ran twice');
    assert.deepEqual(gaps, [], 'no tick was skipped');
    for (const run of runs) {
      assert.equal(run.planTime % 1000, 0, 'planTime is the tick itself');
      assert.equal(run.status, 'succeeded');
      assert.equal(run.output, `tick ${new Date(run.planTime).toISOString()}\n`);
    }
    const perAgent = new Map<string, number>();
    for (const run of runs) perAgent.set(run.agentId, (perAgent.get(run.agentId) ?? 0) + 1);
    assert.equal(perAgent.size, 3, `every agent ran some ticks: ${JSON.stringify([...perAgent])}`);
  });

  it('does not run a tick twice when clocks are skewed by ±800 ms', async () => {
    await using world = createFixture(stack);
    await Promise.all([
      world.startAgents(['fast'], { clockOffsetMs: 800 }),
      world.startAgents(['exact'], { clockOffsetMs: 0 }),
      world.startAgents(['slow'], { clockOffsetMs: -800 }),
    ]);
    await world.putJob({ name: 'skewed', command: 'true', cronExpr: '* * * * * *' });
    await world.waitForRuns('skewed', 12, 30_000);
    await world.deleteJob('skewed');
    const runs = await world.runs('skewed');
    const { duplicates, gaps } = tickReport(runs);
    assert.deepEqual(duplicates, [], 'no tick ran twice');
    assert.deepEqual(gaps, [], 'no tick was skipped');
  });
});
