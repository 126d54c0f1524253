/**
 * Figure 6 — log ingest.
 *
 * Drain rate: the agent's own run-log writer (agent/run-log-writer.ts over
 * agent/spill-journal.ts), driven in this process with synthetic records shaped like a run of
 * `true` (each accepted record is appended to the spill journal first), fed for 20 s (--quick:
 * 4 s) so that one or two full batches always wait; rate = written / elapsed once the last
 * batch is written. Each batch is one unordered `insertMany`; the last-run summaries (one upsert
 * per distinct job) follow once per flush and at least every 5 s of a long one, so the rate is
 * measured for a fleet-like mix (200 jobs, as figure 1) and a narrow one (10 jobs), at the default batch size
 * (200) and the fleet's (500).
 *
 * Outage: a real agent running 100 jobs every second while the MongoDB-wire server is killed
 * for 30 s (--quick: 10 s) and restarted: its RSS (/proc/<pid>/status) and spill journal size
 * (<stateDir>/spill/) over the outage, how long the backlog takes to drain, and whether every
 * run it ended reached MongoDB.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MongoClient } from 'mongodb';
import { createRunLogWriter, ensureRunLogIndexes } from '../../agent/run-log-writer.ts';
import { openSpillJournal } from '../../agent/spill-journal.ts';
import type { RunRecord } from '../../core/run-log.ts';
import { createFixture } from '../../test/agent/fixture.ts';
import { uniqueDatabase, waitUntil } from '../../test/stack/index.ts';
import { startBenchAgent } from '../lib/agent.ts';
import type { BenchContext } from '../lib/context.ts';
import { deleteAllJobs, padded, putJobs } from '../lib/jobs.ts';
import { benchDb, seedLastRuns } from '../lib/bench-db.ts';
import { dirBytes, rssMiB } from '../lib/proc.ts';
import { judge, type Row } from '../lib/report.ts';
import { fmt, sleep } from '../lib/stats.ts';

export const id = 6;
export const title = 'Log ingest';

export const INGEST_TARGET_PER_SECOND = 5_000;

interface DrainCase {
  readonly batchSize: number;
  readonly jobs: number;
}

const CASES: readonly DrainCase[] = [
  { batchSize: 200, jobs: 200 },
  { batchSize: 500, jobs: 200 },
  { batchSize: 500, jobs: 10 },
];

function syntheticRecord(i: number, jobs: number, now: number): RunRecord {
  const planTime = now - 60_000 + Math.floor(i / jobs) * 1000;
  return {
    runId: randomUUID(),
    jobName: padded('ingest', i % jobs),
    command: 'true',
    err: '',
    output: '',
    outputTruncated: false,
    planTime,
    scheduleTime: planTime + 2,
    startTime: planTime + 3,
    endTime: planTime + 9,
    agentId: 'bench-ingest',
    host: 'bench',
    status: 'succeeded',
    exitCode: 0,
    signal: null,
    attempt: 1,
    trigger: 'schedule',
    triggeredBy: null,
    skip: null,
  };
}

interface DrainResult extends DrainCase {
  readonly records: number;
  readonly seconds: number;
  readonly perSecond: number;
  /** Share of the time spent inside insertMany (the rest: journal, upserts, bookkeeping). */
  readonly insertShare: number;
}

async function drainRate(
  context: BenchContext,
  c: DrainCase,
  records: number,
  limitSeconds: number,
): Promise<DrainResult> {
  const client = new MongoClient(context.stack.mongo.url);
  const db = client.db(uniqueDatabase());
  const dir = mkdtempSync(join(tmpdir(), 'cronplane-bench-journal-'));
  try {
    await ensureRunLogIndexes(db);
    await seedLastRuns(
      db,
      Array.from({ length: c.jobs }, (_, i) => padded('ingest', i)),
    );
    let insertSeconds = 0;
    const writer = createRunLogWriter(db, openSpillJournal(dir), {
      batchSize: c.batchSize,
      flushIntervalMs: 500,
      maxBufferedRecords: records,
      observeCallSeconds: (op, seconds) => {
        if (op === 'insert') insertSeconds += seconds;
      },
    });
    // Fed so that one to two full batches always wait: the writer sends full batches back to
    // back, and when time is up at most two batches remain to finish. (Stopping a writer with a
    // backlog of a batch or more spins: see the note in bench/README.md.)
    const now = Date.now();
    let accepted = 0;
    const started = performance.now();
    const feedUntil = started + limitSeconds * 1000;
    while (performance.now() < feedUntil && accepted < records) {
      if (accepted - writer.stats().written < 2 * c.batchSize) {
        for (let i = 0; i < c.batchSize; i++)
          writer.accept(syntheticRecord(accepted++, c.jobs, now));
      }
      await sleep(2);
    }
    // Bounded too: a server that stops answering leaves the writer waiting for ever.
    const drained = await Promise.race([
      writer.drained().then(() => true),
      sleep(60_000).then(() => false),
    ]);
    if (!drained) throw new Error('the writer did not drain within 60 s of the last record');
    const seconds = (performance.now() - started) / 1000;
    const written = writer.stats().written;
    await writer.stop(1_000);
    return {
      ...c,
      records: written,
      seconds,
      perSecond: written / seconds,
      insertShare: insertSeconds / seconds,
    };
  } finally {
    await client
      .db(db.databaseName)
      .dropDatabase()
      .catch(() => undefined);
    await client.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

interface OutageResult {
  readonly downSeconds: number;
  readonly rssBeforeMiB: number;
  readonly rssMaxMiB: number;
  readonly spillMaxBytes: number;
  readonly drainSeconds: number;
  readonly runsEnded: number;
  readonly recordsWritten: number;
}

async function outage(context: BenchContext): Promise<OutageResult> {
  const downSeconds = context.quick ? 10 : 30;
  const jobs = 100;
  context.log(`outage: 1 agent, ${jobs} jobs every second, MongoDB down for ${downSeconds} s`);
  await using world = createFixture(context.stack);
  const db = benchDb(context.stack, world.database);
  const agent = startBenchAgent({
    etcdEndpoints: context.stack.etcd.endpoints,
    mongoUrl: context.stack.mongo.url,
    database: world.database,
    prefix: world.prefix,
    agentId: 'outage',
  });
  try {
    await agent.waitForEvent('agent:ready', () => true, 60_000);
    const spillDir = join(agent.stateDir, 'spill');
    const names = Array.from({ length: jobs }, (_, i) => padded('outage', i));
    await seedLastRuns(db, names);
    await putJobs(
      world.etcd,
      world.keys,
      Array.from({ length: jobs }, (_, i) => ({
        name: padded('outage', i),
        cronExpr: '* * * * * *',
      })),
    );
    await sleep(3_000);
    const rssBeforeMiB = rssMiB(agent.pid);
    await context.stack.mongo.kill();
    let rssMaxMiB = rssBeforeMiB;
    let spillMaxBytes = 0;
    const downUntil = performance.now() + downSeconds * 1000;
    while (performance.now() < downUntil) {
      await sleep(500);
      rssMaxMiB = Math.max(rssMaxMiB, rssMiB(agent.pid));
      spillMaxBytes = Math.max(spillMaxBytes, dirBytes(spillDir));
    }
    await context.stack.mongo.restart();
    const restarted = performance.now();
    await deleteAllJobs(world.etcd, world.keys);
    // Drained when the journal is empty again: everything accepted has been written.
    await waitUntil(() => dirBytes(spillDir) === 0, {
      timeoutMs: 120_000,
      what: 'the spill journal to drain',
      intervalMs: 100,
    });
    const drainSeconds = (performance.now() - restarted) / 1000;
    await sleep(1_500);
    const runsEnded = agent.events.filter((e) => e.event === 'run:ended').length;
    const recordsWritten = await waitUntil(
      async () => {
        const n = await db.collection('log').countDocuments({ status: { $ne: 'skipped' } });
        return n >= runsEnded ? n : null;
      },
      { timeoutMs: 30_000, what: `${runsEnded} records` },
    ).catch(async () => db.collection('log').countDocuments({ status: { $ne: 'skipped' } }));
    return {
      downSeconds,
      rssBeforeMiB,
      rssMaxMiB,
      spillMaxBytes,
      drainSeconds,
      runsEnded,
      recordsWritten,
    };
  } finally {
    await agent.stop();
  }
}

export async function run(
  context: BenchContext,
): Promise<{ rows: Row[]; data: Record<string, unknown> }> {
  const records = context.quick ? 20_000 : 100_000;
  const limitSeconds = context.quick ? 4 : 20;
  const drains: DrainResult[] = [];
  for (const c of CASES) {
    context.log(
      `log drain: up to ${records} records or ${limitSeconds} s, batch ${c.batchSize}, ${c.jobs} jobs`,
    );
    drains.push(await drainRate(context, c, records, limitSeconds));
  }
  const rows: Row[] = drains.map((d) => ({
    measure: `writer drain, batch ${d.batchSize}, ${d.jobs} jobs (${d.records} written in ${fmt(d.seconds)} s)`,
    value: `${fmt(d.perSecond)} records/s`,
    target: `≥ ${INGEST_TARGET_PER_SECOND}`,
    verdict: judge(d.perSecond >= INGEST_TARGET_PER_SECOND),
    note: `insertMany ${Math.round(d.insertShare * 100)} % of the time; the rest is the journal and the last-run upserts (one per job, every 5 s while a backlog drains)`,
  }));
  if (context.stack.mongo.kind === 'external') {
    rows.push({
      measure: 'agent during a MongoDB outage',
      value: 'n/a',
      target: '—',
      verdict: 'n/a',
      note: 'MONGO_URL points at an external server, which the benchmark cannot stop',
    });
    return { rows, data: { drains } };
  }
  const o = await outage(context);
  rows.push(
    {
      measure: `agent, 100 runs/s, MongoDB down ${o.downSeconds} s: RSS before → max`,
      value: `${fmt(o.rssBeforeMiB)} → ${fmt(o.rssMaxMiB)} MiB`,
      target: '—',
      verdict: 'info',
    },
    {
      measure: 'same: spill journal max / drain after restart',
      value: `${fmt(o.spillMaxBytes / 2 ** 20)} MiB / ${fmt(o.drainSeconds)} s`,
      target: '—',
      verdict: 'info',
    },
    {
      measure: 'same: runs ended / records in MongoDB',
      value: `${o.runsEnded} / ${o.recordsWritten}`,
      target: 'none lost',
      verdict: judge(o.recordsWritten >= o.runsEnded),
    },
  );
  return { rows, data: { drains, outage: o } };
}
