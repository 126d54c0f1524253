/**
 * The local stack answers as the rest of the system needs: etcd through the `etcd3` client and
 * the MongoDB-wire server (FerretDB 1.24 here, mongod or MONGO_URL elsewhere) through the
 * `mongodb` driver.
 *
 * FerretDB 1.24 findings (SQLite backend, driver 7.8), checked by the tests below unless noted:
 * - supported: unique indexes (duplicates fail with code 11000), `insertMany` ordered and
 *   unordered with per-document write errors, `find` with equality + `$lt` filters, `sort`,
 *   `limit`, projection, `countDocuments`, `deleteMany`, `updateOne` upserts with `$set`,
 *   `$setOnInsert` and `$max`, `bulkWrite` of `updateOne` upserts, `findOneAndUpdate` upserts;
 * - `bulkWrite`/`update` upserts report the wrong operation index: `upserted[].index` counts
 *   upserts (0, 1, …) instead of naming the operation, so `BulkWriteResult.upsertedIds` has
 *   the right ids under the wrong keys. Counts are right. Do not map upsertedIds to operations;
 * - a duplicate key error carries `code: 11000` only: no `keyPattern`/`keyValue`, and its
 *   message names the collection but not the index or the key. Recognise duplicates by code;
 * - not implemented (checked by hand, not asserted, as MongoDB has them): `$group` with
 *   `$first` ("$group accumulator "$first" is not implemented yet"), TTL indexes
 *   (`expireAfterSeconds`), change streams (`$changeStream`). DESIGN.md already avoids all three.
 * - `buildInfo` reports version 7.0.42 (the MongoDB version FerretDB emulates), not 1.24.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Etcd3 } from 'etcd3';
import { MongoBulkWriteError, MongoClient, MongoServerError, type Db } from 'mongodb';
import {
  ServerError,
  startServerProcess,
  startStack,
  uniqueDatabase,
  uniquePrefix,
  waitUntil,
  type Stack,
} from '../stack/index.ts';

const EVENT_TIMEOUT_MS = 5000;

// node:test's describe/it return promises that the runner itself awaits; `void` tells the
// no-floating-promises rule so.
let stack: Stack;
let etcd: Etcd3;
let mongo: MongoClient;
const databases: string[] = [];

/** A database of the test's own, dropped after the file (MONGO_URL may be a shared server). */
function freshDb(): Db {
  const name = uniqueDatabase();
  databases.push(name);
  return mongo.db(name);
}

before(async () => {
  stack = await startStack();
  etcd = new Etcd3({ hosts: stack.etcd.endpoints });
  mongo = new MongoClient(stack.mongo.url);
});

after(async () => {
  etcd?.close();
  if (mongo !== undefined) {
    await Promise.allSettled(databases.map((name) => mongo.db(name).dropDatabase()));
    await mongo.close();
  }
  await stack?.stop();
});

void describe('etcd', () => {
  void it('stores a key and returns it', async () => {
    const key = `${uniquePrefix()}jobs/backup`;
    await etcd.put(key).value('{"name":"backup"}');
    assert.equal(await etcd.get(key).string(), '{"name":"backup"}');
  });

  void it('delivers a put made after a watch started to that watch', async () => {
    const key = `${uniquePrefix()}jobs/report`;
    // create() resolves once etcd has acknowledged the watch, so the put below is after it.
    const watcher = await etcd.watch().key(key).create();
    try {
      const put = once(watcher, 'put', { signal: AbortSignal.timeout(EVENT_TIMEOUT_MS) });
      await etcd.put(key).value('v1');
      const [kv] = (await put) as [{ key: Buffer; value: Buffer }];
      assert.equal(kv.key.toString(), key);
      assert.equal(kv.value.toString(), 'v1');
    } finally {
      await watcher.cancel();
    }
  });

  void it('serves Prometheus metrics and reports a leader', async () => {
    const metrics = await (await fetch(stack.etcd.metricsUrl)).text();
    assert.match(metrics, /^etcd_server_has_leader 1$/m);
  });

  void it('keeps its data across a crash and a restart on the same ports', async () => {
    const key = `${uniquePrefix()}ticks/backup`;
    await etcd.put(key).value('1700000000000');
    const pidBefore = stack.etcd.pid;
    await stack.etcd.kill('SIGKILL');
    await stack.etcd.restart();
    assert.notEqual(stack.etcd.pid, pidBefore);
    // A fresh client: the shared one's circuit breaker may still count the outage.
    const client = new Etcd3({ hosts: stack.etcd.endpoints });
    try {
      assert.equal(await client.get(key).string(), '1700000000000');
    } finally {
      client.close();
    }
  });
});

void describe(`MongoDB-wire server`, () => {
  void it('inserts many documents and finds them', async () => {
    const log = freshDb().collection('log');
    const inserted = await log.insertMany([
      { runId: 'r1', jobName: 'backup', status: 'succeeded' },
      { runId: 'r2', jobName: 'backup', status: 'failed' },
      { runId: 'r3', jobName: 'report', status: 'succeeded' },
    ]);
    assert.equal(inserted.insertedCount, 3);
    const found = await log
      .find({ jobName: 'backup' }, { projection: { _id: 0, runId: 1, status: 1 } })
      .sort({ runId: 1 })
      .toArray();
    assert.deepEqual(found, [
      { runId: 'r1', status: 'succeeded' },
      { runId: 'r2', status: 'failed' },
    ]);
  });

  void it('rejects a second run with the same runId once runId has a unique index', async () => {
    const log = freshDb().collection('log');
    assert.equal(await log.createIndex({ runId: 1 }, { unique: true }), 'runId_1');
    // The run-log writer creates its indexes at every start: a repeat must be a no-op.
    assert.equal(await log.createIndex({ runId: 1 }, { unique: true }), 'runId_1');
    await log.insertOne({ runId: 'r1', jobName: 'backup' });
    await assert.rejects(log.insertOne({ runId: 'r1', jobName: 'backup' }), (error) => {
      assert.ok(error instanceof MongoServerError);
      assert.equal(error.code, 11000);
      return true;
    });
    assert.equal(await log.countDocuments({ runId: 'r1' }), 1);
  });

  void it('inserts the other documents of an unordered insertMany and reports each duplicate', async () => {
    const log = freshDb().collection('log');
    await log.createIndex({ runId: 1 }, { unique: true });
    await log.insertOne({ runId: 'r1' });
    const batch = [
      { runId: 'r2' },
      { runId: 'r1' },
      { runId: 'r3' },
      { runId: 'r2' },
      { runId: 'r4' },
    ];
    // The replay of a spilled batch relies on this shape: MongoBulkWriteError whose
    // writeErrors (typed OneOrMore, an array in practice) give each rejected index.
    const error = await log.insertMany(batch, { ordered: false }).then(
      () => assert.fail('insertMany should have reported the duplicates'),
      (caught: unknown) => caught,
    );
    assert.ok(error instanceof MongoBulkWriteError, `got ${String(error)}`);
    assert.equal(error.code, 11000);
    assert.equal(error.insertedCount, 3);
    const writeErrors = [error.writeErrors].flat();
    assert.deepEqual(
      writeErrors.map((w) => [w.index, w.code]),
      [
        [1, 11000],
        [3, 11000],
      ],
    );
    const runIds = await log.distinct('runId');
    assert.deepEqual(runIds.sort(), ['r1', 'r2', 'r3', 'r4']);
  });

  void it('stops an ordered insertMany at the first duplicate', async () => {
    const log = freshDb().collection('log');
    await log.createIndex({ runId: 1 }, { unique: true });
    await log.insertOne({ runId: 'r1' });
    await assert.rejects(
      log.insertMany([{ runId: 'r2' }, { runId: 'r1' }, { runId: 'r3' }], { ordered: true }),
      (error) => error instanceof MongoBulkWriteError && error.insertedCount === 1,
    );
    assert.equal(await log.countDocuments({ runId: 'r3' }), 0);
  });

  void it("finds a job's latest runs before a time, newest first", async () => {
    const log = freshDb().collection<{ runId: string; jobName: string; planTime: number }>('log');
    await log.createIndex({ jobName: 1, planTime: -1 });
    const base = 1_700_000_000_000; // epoch ms are beyond int32: stored as doubles
    await log.insertMany([
      ...[0, 1, 2, 3, 4].map((i) => ({
        runId: `b${i}`,
        jobName: 'backup',
        planTime: base + i * 1000,
      })),
      { runId: 'x', jobName: 'report', planTime: base + 2500 },
    ]);
    const page = await log
      .find({ jobName: 'backup', planTime: { $lt: base + 4000 } })
      .sort({ planTime: -1 })
      .limit(2)
      .toArray();
    assert.deepEqual(
      page.map((run) => run.runId),
      ['b3', 'b2'],
    );
    assert.equal(await log.countDocuments({ jobName: 'backup' }), 5);
    assert.equal(
      await log.countDocuments({ jobName: 'backup', planTime: { $lt: base + 2000 } }),
      2,
    );
  });

  void it('deletes runs older than a cutoff with deleteMany', async () => {
    const log = freshDb().collection('log');
    await log.insertMany([1, 2, 3, 4].map((endTime) => ({ runId: `r${endTime}`, endTime })));
    const deleted = await log.deleteMany({ endTime: { $lt: 3 } });
    assert.equal(deleted.deletedCount, 2);
    assert.deepEqual((await log.distinct('endTime')).sort(), [3, 4]);
  });

  void it('upserts a per-job summary with updateOne, then updates it in place', async () => {
    const summaries = freshDb().collection<{ _id: string; lastRunId?: string; firstSeen?: number }>(
      'summary',
    );
    const first = await summaries.updateOne(
      { _id: 'backup' },
      { $set: { lastRunId: 'r1' }, $setOnInsert: { firstSeen: 1 } },
      { upsert: true },
    );
    assert.equal(first.upsertedCount, 1);
    assert.equal(first.upsertedId, 'backup');
    const second = await summaries.updateOne(
      { _id: 'backup' },
      { $set: { lastRunId: 'r2' }, $setOnInsert: { firstSeen: 2 } },
      { upsert: true },
    );
    assert.equal(second.matchedCount, 1);
    assert.equal(second.upsertedCount, 0);
    assert.deepEqual(await summaries.findOne({ _id: 'backup' }), {
      _id: 'backup',
      lastRunId: 'r2',
      firstSeen: 1,
    });
  });

  void it('applies a bulkWrite of updateOne upserts, inserting new and updating existing', async () => {
    const summaries = freshDb().collection<{ _id: string; planTime: number }>('summary');
    await summaries.insertOne({ _id: 'backup', planTime: 1 });
    const result = await summaries.bulkWrite(
      ['backup', 'report', 'cleanup'].map((name) => ({
        updateOne: { filter: { _id: name }, update: { $max: { planTime: 5 } }, upsert: true },
      })),
      { ordered: false },
    );
    assert.equal(result.matchedCount, 1);
    assert.equal(result.upsertedCount, 2);
    // MongoDB keys upsertedIds by operation index ({1: 'report', 2: 'cleanup'}); FerretDB 1.24
    // numbers the upserts instead ({0: 'report', 1: 'cleanup'}): its `update` reply gives
    // `upserted[].index` as a count of upserts. Use the ids, never the keys.
    assert.deepEqual(Object.values(result.upsertedIds).sort(), ['cleanup', 'report']);
    const all = await summaries.find().sort({ _id: 1 }).toArray();
    assert.deepEqual(all, [
      { _id: 'backup', planTime: 5 },
      { _id: 'cleanup', planTime: 5 },
      { _id: 'report', planTime: 5 },
    ]);
  });

  void it('keeps its data across a crash and a restart on the same port', async (t) => {
    if (stack.mongo.kind === 'external') {
      t.skip('MONGO_URL points at a server this test does not own');
      return;
    }
    const log = freshDb().collection<{ runId: string }>('log');
    await log.insertOne({ runId: 'before-restart' });
    await stack.mongo.kill('SIGKILL');
    await stack.mongo.restart();
    // The shared client reconnects on its own; wait for it rather than for a fixed time.
    const found = await waitUntil(() => log.findOne({ runId: 'before-restart' }), {
      timeoutMs: 10_000,
      what: 'the run written before the restart to be readable again',
    });
    assert.equal(found.runId, 'before-restart');
  });
});

void describe('stack helpers', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cronplane-helpers-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  void it('gives every test its own key prefix and database name', () => {
    const prefix = uniquePrefix();
    assert.match(prefix, /^\/cron-test-[0-9a-f]{12}\/$/);
    assert.notEqual(uniquePrefix(), prefix);
    assert.match(uniqueDatabase(), /^cron_test_[0-9a-f]{12}$/);
  });

  void it('says what it waited for when a wait times out', async () => {
    await assert.rejects(
      waitUntil(() => false, { timeoutMs: 50, what: 'the answer' }),
      {
        name: 'WaitTimeoutError',
        message: 'timed out after 50ms waiting for the answer',
      },
    );
  });

  void it('fails at once with the exit status and log tail of a server that dies while starting', async () => {
    const server = await startServerProcess({
      name: 'doomed',
      command: 'bash',
      args: ['-c', 'echo "fatal: cannot open data dir" >&2; exit 3'],
      logFile: join(dir, 'doomed.log'),
    });
    const startedAt = performance.now();
    await assert.rejects(
      server.waitFor(() => false, 30_000, 'it to answer'),
      (error) => {
        assert.ok(error instanceof ServerError);
        assert.equal(error.code, 'server_exited');
        assert.match(error.message, /exited with code 3 while waiting for it to answer/);
        assert.match(error.message, /fatal: cannot open data dir/);
        return true;
      },
    );
    assert.ok(performance.now() - startedAt < 5000, 'did not wait out the timeout');
  });

  void it('kills a server that ignores SIGTERM once the grace period is over', async () => {
    const server = await startServerProcess({
      name: 'stubborn',
      command: 'bash',
      args: ['-c', 'trap "" TERM; echo ready; while :; do sleep 0.05; done'],
      logFile: join(dir, 'stubborn.log'),
    });
    // A line of its own: the tail's first line, the command, contains the word too.
    await server.waitFor(
      () => server.logTail().split('\n').includes('ready'),
      5000,
      'the trap to be set',
    );
    await server.stop(200);
    assert.equal(server.exitStatus()?.signal, 'SIGKILL');
    assert.match(server.logTail(), /still running 200ms after SIGTERM; sending SIGKILL/);
  });
});
