/** The RunLogReader contract: history pages, one run, last-run summaries. */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { RUN_OUTPUT_PREVIEW_CHARS, decodeRunCursor } from '../../core/api.ts';
import type { RunListItem } from '../../core/api.ts';
import { LEGACY_LAST_RUN_COLLECTION, RUN_LOG_COLLECTION } from '../../core/run-log.ts';
import { storeLastRuns } from './last-runs.ts';
import type { DataWorld } from './data-world.ts';
import { inWorld } from './data-world.ts';
import { lastRunOf, runRecord } from './records.ts';

const T0 = 1_700_000_000_000;

async function allPages(world: DataWorld, name: string, limit: number): Promise<RunListItem[]> {
  const runs: RunListItem[] = [];
  let page = await world.ports.runLogs.runsOfJob(name, { limit });
  runs.push(...page.runs);
  while (page.nextCursor !== null) {
    const before = decodeRunCursor(page.nextCursor);
    assert.ok(before, `unreadable cursor ${page.nextCursor}`);
    page = await world.ports.runLogs.runsOfJob(name, { limit, before });
    runs.push(...page.runs);
  }
  return runs;
}

export function runLogReaderContract(open: () => Promise<DataWorld>): void {
  it('pages through a job’s runs newest first, each run exactly once', () =>
    inWorld(open, async (world) => {
      const records = [
        ...Array.from({ length: 7 }, (_, i) => runRecord('backup', T0 + i * 60_000)),
        // Same tick twice (a retry after a lost run): the later start comes first.
        runRecord('backup', T0 + 3 * 60_000, { runId: 'backup-retry', startTime: T0 + 999_999 }),
        runRecord('other', T0 + 10 * 60_000),
      ];
      await world.db.collection(RUN_LOG_COLLECTION).insertMany(records.map((r) => ({ ...r })));
      const runs = await allPages(world, 'backup', 3);
      assert.deepEqual(
        runs.map((r) => r.runId),
        [
          'backup-1700000360000',
          'backup-1700000300000',
          'backup-1700000240000',
          'backup-retry',
          'backup-1700000180000',
          'backup-1700000120000',
          'backup-1700000060000',
          'backup-1700000000000',
        ],
      );
    }));

  it('answers an empty last page without a cursor', () =>
    inWorld(open, async ({ ports }) => {
      assert.deepEqual(await ports.runLogs.runsOfJob('backup', { limit: 5 }), {
        runs: [],
        nextCursor: null,
      });
    }));

  it('clips output in the list and returns all of it for one run', () =>
    inWorld(open, async ({ ports, db }) => {
      const output = 'x'.repeat(RUN_OUTPUT_PREVIEW_CHARS + 10);
      await db.collection(RUN_LOG_COLLECTION).insertOne({ ...runRecord('noisy', T0, { output }) });
      const { runs } = await ports.runLogs.runsOfJob('noisy', { limit: 5 });
      assert.equal(runs[0]?.output.length, RUN_OUTPUT_PREVIEW_CHARS);
      assert.equal(runs[0]?.outputClipped, true);
      const run = await ports.runLogs.run('noisy-1700000000000');
      assert.equal(run?.output, output);
    }));

  it('answers null for a run that does not exist', () =>
    inWorld(open, async ({ ports }) => {
      assert.equal(await ports.runLogs.run('nope'), null);
    }));

  it('skips stored run documents that fail validation', () =>
    inWorld(open, async ({ ports, db }) => {
      await db
        .collection(RUN_LOG_COLLECTION)
        .insertMany([
          { ...runRecord('backup', T0) },
          { runId: 'half', jobName: 'backup', planTime: T0 + 1, startTime: T0 + 1 },
        ]);
      const { runs } = await ports.runLogs.runsOfJob('backup', { limit: 5 });
      assert.deepEqual(
        runs.map((r) => r.runId),
        ['backup-1700000000000'],
      );
      assert.equal(await ports.runLogs.run('half'), null);
    }));

  it('returns the last-run summaries of the named jobs only', () =>
    inWorld(open, async ({ ports, db }) => {
      const a = lastRunOf(runRecord('a', T0));
      const b = lastRunOf(runRecord('b', T0, { status: 'failed', exitCode: 1 }));
      const c = lastRunOf(runRecord('c', T0));
      await storeLastRuns(db, [a, b, c]);
      const summaries = await ports.runLogs.lastRuns(['a', 'b', 'missing']);
      assert.deepEqual(
        summaries.sort((x, y) => x.jobName.localeCompare(y.jobName)),
        [a, b],
      );
      assert.deepEqual(await ports.runLogs.lastRuns([]), []);
    }));

  it('still finds a summary written before summaries were sharded, until the job runs again', () =>
    inWorld(open, async ({ ports, db }) => {
      const before = lastRunOf(runRecord('yearly', T0));
      const since = lastRunOf(runRecord('hourly', T0 + 3_600_000));
      await db
        .collection(LEGACY_LAST_RUN_COLLECTION)
        .insertMany([before, lastRunOf(runRecord('hourly', T0))].map((s) => ({ ...s })));
      await storeLastRuns(db, [since]);
      const summaries = await ports.runLogs.lastRuns(['yearly', 'hourly']);
      assert.deepEqual(
        summaries.sort((x, y) => x.jobName.localeCompare(y.jobName)),
        [since, before],
      );
    }));
}
