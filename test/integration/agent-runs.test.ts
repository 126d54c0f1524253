import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { readRunningEntry } from '../../core/coordination.ts';
import type { RunRecord } from '../../core/run-log.ts';
import { startStack, waitUntil, type Stack } from '../stack/index.ts';
import type { AgentEvent } from '../agent/agent-process.ts';
import { createFixture, type Fixture } from '../agent/fixture.ts';

/** Pids of live processes whose environment carries this run id: the whole run's process tree. */
function processesOfRun(runId: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (
        readFileSync(`/proc/${entry}/environ`, 'latin1').includes(`CRONPLANE_RUN_ID=${runId}\0`)
      ) {
        const stat = readFileSync(`/proc/${entry}/stat`, 'latin1');
        // Zombies have exited; they only wait to be reaped.
        if (!/\) Z /.test(stat)) pids.push(Number(entry));
      }
    } catch {
      // the process ended while we looked
    }
  }
  return pids;
}

async function runOnce(
  world: Fixture,
  job: Record<string, unknown> & { name: string },
): Promise<RunRecord> {
  await world.putJob({ cronExpr: '* * * * * *', ...job });
  const [first] = await world.waitForRuns(job.name, 1, 20_000);
  await world.deleteJob(job.name);
  assert.ok(first);
  return first;
}

describe('agent: running commands', () => {
  let stack: Stack;
  let world: Fixture;
  before(async () => {
    stack = await startStack();
    world = createFixture(stack);
    await world.startAgents(['r1', 'r2']);
  });
  after(async () => {
    await world.close();
    await stack.stop();
  });

  it('never overlaps two runs of a forbid job that outlasts its period', async () => {
    await world.putJob({
      name: 'slow',
      command: 'sleep 2.5',
      cronExpr: '* * * * * *',
      concurrency: 'forbid',
    });
    await world.waitForRuns('slow', 3, 20_000);
    await world.deleteJob('slow');
    const runs = await world.runs('slow');
    const byStart = [...runs].sort((a, b) => a.startTime - b.startTime);
    for (let i = 1; i < byStart.length; i++) {
      const previous = byStart[i - 1] as RunRecord;
      const run = byStart[i] as RunRecord;
      assert.ok(
        run.startTime >= previous.endTime,
        `run ${run.runId} started at ${run.startTime} before ${previous.runId} ended at ${previous.endTime}`,
      );
    }
  });

  it('never runs more than maxConcurrentRuns at once, even when many ticks fall in one second', async () => {
    const small = world.startAgent('small', {
      extraArgs: ['--labels', 'pool=small', '--max-concurrent-runs', '2'],
    });
    await small.waitForEvent('agent:ready');
    const names = Array.from({ length: 8 }, (_, i) => `capped-${i}`);
    // Every job is due once, at the same second a few seconds from now.
    const at = new Date(Date.now() + 4_000);
    const cronExpr = `${at.getUTCSeconds()} ${at.getUTCMinutes()} ${at.getUTCHours()} * * *`;
    for (const name of names)
      await world.putJob({ name, command: 'sleep 1.5', cronExpr, labels: { pool: 'small' } });
    const ofTheseJobs = (e: AgentEvent): boolean => names.includes(String(e.job));
    await small.waitForEvent('run:ended', ofTheseJobs, 20_000);
    for (const name of names) await world.deleteJob(name);
    await small.stop();
    let running = 0;
    let most = 0;
    for (const e of small.events) {
      if (!ofTheseJobs(e)) continue;
      if (e.event === 'run:started') most = Math.max(most, ++running);
      if (e.event === 'run:ended') running--;
    }
    assert.equal(most, 2, 'two runs at once, never more');
    assert.ok(
      small.events.some((e) => e.event === 'claim:atCapacity' && ofTheseJobs(e)),
      'the other ticks were refused for capacity',
    );
  });

  it('kills the whole process group of a running job within a second, recorded as killed', async () => {
    await world.putJob({
      name: 'sleeper',
      command: 'sleep 300 & sleep 300 & wait',
      cronExpr: '* * * * * *',
    });
    const entry = await waitUntil(
      async () => {
        const listed = await world.etcd
          .getAll()
          .prefix(world.keys.runningOfJob('sleeper'))
          .strings();
        const first = Object.values(listed)[0];
        return first === undefined ? null : readRunningEntry(first);
      },
      { timeoutMs: 10_000, what: 'a running entry of sleeper' },
    );
    await world.deleteJob('sleeper');
    const pids = await waitUntil(
      () => (processesOfRun(entry.runId).length >= 3 ? processesOfRun(entry.runId) : null),
      { timeoutMs: 5_000, what: 'the shell and both sleeps' },
    );
    const killedAt = Date.now();
    await world.etcd
      .put(world.keys.killer('sleeper'))
      .value(JSON.stringify({ requestedAt: Date.now() }));
    await waitUntil(() => processesOfRun(entry.runId).length === 0, {
      timeoutMs: 1_000,
      what: `processes ${pids.join(',')} to be gone`,
      intervalMs: 10,
    });
    const goneAfterMs = Date.now() - killedAt;
    const [record] = await world.waitForRuns('sleeper', 1, 10_000);
    assert.equal(record?.status, 'killed');
    assert.equal(record?.runId, entry.runId);
    assert.ok(goneAfterMs < 1_000, `gone after ${goneAfterMs} ms`);
  });

  it('records a timeout, a non-zero exit, a death by signal and truncated output', async () => {
    const [timeout, exit3, signalled, noisy] = await Promise.all([
      runOnce(world, { name: 'times-out', command: 'sleep 30', timeoutSec: 1 }),
      runOnce(world, { name: 'exits-3', command: 'echo failing; exit 3' }),
      runOnce(world, { name: 'signalled', command: 'kill -9 $$' }),
      runOnce(world, {
        name: 'noisy',
        command: "echo first-line; head -c 10485760 /dev/zero | tr '\\0' x; echo; echo last-line",
      }),
    ]);
    assert.equal(timeout.status, 'timeout');
    assert.ok(timeout.endTime - timeout.startTime < 3_000, 'the timeout ended the run promptly');
    assert.equal(exit3.status, 'failed');
    assert.equal(exit3.exitCode, 3);
    assert.equal(exit3.output, 'failing\n');
    assert.equal(signalled.status, 'failed');
    assert.equal(signalled.signal, 'SIGKILL');
    assert.equal(signalled.exitCode, null);
    assert.equal(noisy.status, 'succeeded');
    assert.equal(noisy.outputTruncated, true);
    assert.ok(
      Buffer.byteLength(noisy.output) <= 256 * 1024 + 100,
      `stored output is ${Buffer.byteLength(noisy.output)} bytes`,
    );
    assert.ok(noisy.output.startsWith('first-line\n'), 'the head is kept');
    assert.ok(noisy.output.endsWith('last-line\n'), 'the tail is kept');
    assert.match(noisy.output, /bytes of output truncated/);
  });
});
