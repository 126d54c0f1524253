/**
 * Chaos 4: the MongoDB-wire server crashes (SIGKILL) and stays down 30 s under a workload that
 * overflows the agents' in-memory log buffer to disk; once it is back, it is killed again while
 * the agents are replaying their backlog (mid-batch), and restarted. Every run must end up logged
 * exactly once (runId is unique), and scheduling must not notice any of it.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { RunRecord } from '../../core/run-log.ts';
import { startStack, type Stack } from '../stack/index.ts';
import { iso } from './lib/ledger.ts';
import { report, summarize } from './lib/summary.ts';
import {
  closeWindow,
  describeEvents,
  everySecond,
  openWindow,
  waitForRunSince,
} from './lib/workload.ts';
import { createWorld, eventTime, sleep } from './lib/world.ts';

const OUTAGE_MS = 30_000;
const JOBS = 4;
const SECOND_OUTAGE_MS = 2_000;

describe('chaos: MongoDB down 30 s, then killed again mid-batch', () => {
  let stack: Stack;
  before(async () => {
    stack = await startStack();
  });
  after(async () => {
    await stack.stop();
  });

  it(
    'logs every run exactly once across the outage and a crash during the replay',
    {
      timeout: 240_000,
    },
    async (t) => {
      if (stack.mongo.kind === 'external') {
        t.skip('MONGO_URL points at an external server this test cannot kill');
        return;
      }
      await using world = createWorld({
        etcdEndpoints: stack.etcd.endpoints,
        mongoUrl: stack.mongo.url,
      });
      const agentIds = ['m1', 'm2'];
      // Small batches and a small memory buffer: the outage's backlog spills to disk-only records
      // and its replay takes many batches, so there is a batch in flight to kill.
      await world.startAgents(agentIds, {
        sessionTtlSeconds: 3,
        extraArgs: ['--log-batch-size', '4', '--log-max-buffered-records', '10'],
      });
      const jobs = Array.from({ length: JOBS }, (_, i) =>
        everySecond(`logged-${i}`, {
          // A few KB of output per run, tagged with the run id to detect mixed-up records.
          command: 'echo "$CRONPLANE_RUN_ID"; head -c 3000 /dev/zero | tr "\\0" x; echo',
        }),
      );
      for (const job of jobs) await world.putJob(job);
      const fromMs = openWindow();
      await waitForRunSince(world, 'logged-0', fromMs + 2000, 20_000);

      const outageStart = Date.now();
      await stack.mongo.kill('SIGKILL');
      // The outage itself is the scenario: runs keep firing and their logs pile up.
      await sleep(OUTAGE_MS);
      const backlogStarted = world.events().filter((e) => e.event === 'run:started').length;
      await stack.mongo.restart();
      const restartedAt = Date.now();

      // Kill it again as soon as some agent has written its first batch after the outage: the
      // rest of its backlog is still to be sent, batch after batch.
      const recovered = await world.waitForAnyEvent(
        'log:recovered',
        (e) => eventTime(e) >= restartedAt - 1000,
        30_000,
      );
      await stack.mongo.kill('SIGKILL');
      const midBatchKillAt = Date.now();
      const countAtKill = await countWhenBack(stack, world);
      const replayedBeforeKill = world
        .events()
        .filter((e) => e.event === 'log:replayed' && eventTime(e) <= midBatchKillAt).length;
      const backAt = Date.now();

      const closed = await closeWindow(world, {
        fromMs,
        jobs,
        steadyJobs: ['logged-0'],
        logTimeoutMs: 90_000,
      });
      const { records, events } = closed;
      const mixedUp = records.filter(
        (r: RunRecord) => r.status !== 'lost' && !r.output.startsWith(`${r.runId}\n`),
      );
      const insertFailures = events.filter((e) => e.event === 'log:insertFailed').length;
      const replays = events.filter((e) => e.event === 'log:replayed').length;
      const failedAfterKill = events.filter(
        (e) =>
          e.event === 'log:insertFailed' &&
          eventTime(e) >= midBatchKillAt &&
          eventTime(e) <= backAt + 1000,
      );

      const violations: string[] = [];
      if (closed.missing.length > 0)
        violations.push(`guarantee 4: ${closed.missing.length} run logs never reached MongoDB`);
      if (closed.books.some((b) => b.duplicatedLogs > 0)) violations.push('a run was logged twice');
      if (mixedUp.length > 0)
        violations.push(`${mixedUp.length} records carry another run's output`);
      const summary = summarize('4 MongoDB down 30 s + killed mid-batch', closed.books, {
        timings: {
          outage: restartedAt - outageStart,
          'first batch after restart': eventTime(recovered) - restartedAt,
          'second outage (kill mid-replay → back)': backAt - midBatchKillAt,
          'all logs in after it was back': closed.logWaitMs,
        },
        notes: [
          `${backlogStarted} runs started by the end of the outage; mid-batch kill at ` +
            `${iso(midBatchKillAt)} after ${recovered.agentId}'s first batch; ${countAtKill} ` +
            `records right after the second restart (${replayedBeforeKill} spill files replayed ` +
            `before the kill)`,
          `the mid-batch kill failed ${failedAfterKill.length} batches in flight ` +
            `(${failedAfterKill.map((e) => `${e.agentId}: ${String(e.batch)} records`).join(', ')})`,
          `${insertFailures} failed inserts retried; ${replays} spill files replayed; ` +
            `${records.length} records in the end`,
          ...describeEvents(events, 'log:flushFailed', 3),
        ],
        violations,
      });
      report(summary);

      assert.deepEqual(closed.missing, [], 'every started run has a record');
      assert.equal(summary.duplicatedLogs, 0, 'no run recorded twice');
      assert.equal(summary.duplicates, 0, 'no tick ran twice');
      assert.equal(summary.unrecordedSkips, 0, 'every skipped tick is covered by a skipped record');
      assert.equal(summary.skips, 0, 'a MongoDB outage does not stop scheduling');
      assert.deepEqual(
        mixedUp.map((r) => r.runId),
        [],
        'every record carries its own output',
      );
    },
  );
});

/**
 * Restarts the killed server after a short pause and counts the records that survived the kill: what the agents
 * had written before it, as MongoDB acknowledged it.
 */
async function countWhenBack(stack: Stack, world: ReturnType<typeof createWorld>): Promise<number> {
  // Down long enough that the driver's own one retry of the batch in flight fails too, so the
  // agent's writer sees the failure and retries the batch itself.
  await sleep(SECOND_OUTAGE_MS);
  await stack.mongo.restart();
  return world.db.collection('log').countDocuments();
}
