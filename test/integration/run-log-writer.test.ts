import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { MongoClient, type Db } from 'mongodb';
import { createRunLogWriter, ensureRunLogIndexes } from '../../agent/run-log-writer.ts';
import { openSpillJournal } from '../../agent/spill-journal.ts';
import { findLastRuns } from '../contract/last-runs.ts';
import type { RunRecord } from '../../core/run-log.ts';
import { startStack, uniqueDatabase, type Stack } from '../stack/index.ts';

function record(
  jobName: string,
  runId: string,
  startTime: number,
  status: RunRecord['status'] = 'succeeded',
): RunRecord {
  return {
    runId,
    jobName,
    command: 'true',
    err: '',
    output: '',
    outputTruncated: false,
    planTime: startTime,
    scheduleTime: startTime,
    startTime,
    endTime: startTime + 5,
    agentId: 'a',
    host: 'h',
    status,
    exitCode: status === 'succeeded' ? 0 : 1,
    signal: null,
    attempt: 1,
    trigger: 'schedule',
    triggeredBy: null,
    skip: null,
  };
}

describe('run-log writer against the MongoDB-wire server', () => {
  let stack: Stack;
  let mongo: MongoClient;
  let db: Db;
  before(async () => {
    stack = await startStack();
    mongo = new MongoClient(stack.mongo.url);
    db = mongo.db(uniqueDatabase());
    await ensureRunLogIndexes(db);
  });
  after(async () => {
    await mongo.close();
    await stack.stop();
  });

  it("keeps the newest run as each job's last run, whatever order batches arrive in, in one batch for many jobs", async () => {
    const writer = createRunLogWriter(
      db,
      openSpillJournal(mkdtempSync(join(tmpdir(), 'cronplane-writer-'))),
      {
        batchSize: 500,
        flushIntervalMs: 10,
        maxBufferedRecords: 1_000,
      },
    );
    for (let job = 0; job < 50; job++)
      writer.accept(record(`job-${job}`, `new-${job}`, 2_000, 'failed'));
    await writer.drained();
    for (let job = 0; job < 50; job++) writer.accept(record(`job-${job}`, `old-${job}`, 1_000));
    await writer.drained();
    await writer.stop(1_000);
    const summaries = await findLastRuns(db);
    assert.equal(summaries.length, 50);
    assert.ok(
      summaries.every((s) => String(s.runId).startsWith('new-') && s.status === 'failed'),
      'an older run never replaces a newer summary',
    );
    assert.equal(await db.collection('log').countDocuments(), 100);
  });

  it('updates the last runs of 250 jobs from one batch (one big update command wedges FerretDB 1.24)', async () => {
    const writer = createRunLogWriter(
      db,
      openSpillJournal(mkdtempSync(join(tmpdir(), 'cronplane-writer-'))),
      { batchSize: 500, flushIntervalMs: 10, maxBufferedRecords: 1_000 },
    );
    const within30s = (): Promise<boolean> =>
      Promise.race([
        writer.drained().then(() => true),
        new Promise<false>((resolve) => setTimeout(() => resolve(false), 30_000).unref()),
      ]);
    // First runs create the summaries; the second batch's upserts all match one.
    for (let job = 0; job < 250; job++)
      writer.accept(record(`wide-${job}`, `wide-first-${job}`, 3_000));
    const created = await within30s();
    for (let job = 0; job < 250; job++)
      writer.accept(record(`wide-${job}`, `wide-second-${job}`, 4_000));
    const updated = created && (await within30s());
    await writer.stop(1_000);
    assert.ok(created && updated, 'both batches were written within 30 s each');
    const summaries = await findLastRuns(db, { jobName: { $regex: '^wide-' } });
    assert.equal(summaries.length, 250);
    assert.ok(summaries.every((s) => String(s.runId).startsWith('wide-second-')));
  });

  it('writes the last runs of a backlog once per job, not once per batch, and the newest of each', async () => {
    let upserts = 0;
    const writer = createRunLogWriter(
      db,
      openSpillJournal(mkdtempSync(join(tmpdir(), 'cronplane-writer-'))),
      {
        batchSize: 100,
        flushIntervalMs: 10,
        maxBufferedRecords: 2_000,
        observeCallSeconds: (op) => {
          if (op === 'upsert') upserts++;
        },
      },
    );
    // 1,000 records of 50 jobs, accepted at once: ten batches drained in one flush.
    for (let i = 0; i < 1_000; i++)
      writer.accept(record(`backlog-${i % 50}`, `backlog-run-${i}`, 10_000 + i));
    await writer.drained();
    await writer.stop(1_000);
    assert.equal(upserts, 1, 'one round of summary upserts for the whole backlog');
    const summaries = await findLastRuns(db, { jobName: { $regex: '^backlog-' } });
    assert.equal(summaries.length, 50);
    for (const summary of summaries) {
      const job = Number(String(summary.jobName).slice('backlog-'.length));
      assert.equal(summary.runId, `backlog-run-${950 + job}`, 'the newest run of each job');
    }
    assert.equal(await db.collection('log').countDocuments({ jobName: /^backlog-/ }), 1_000);
  });
});
