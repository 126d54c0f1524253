/**
 * The bench's own MongoDB access: bounded clients, seeding and resetting last-run summaries,
 * restarting a wedged MongoDB-wire server, and waiting for the agents' writers to drain.
 */
import { join } from 'node:path';
import { MongoClient, type Db } from 'mongodb';
import { byLastRunCollection, lastRunCollections } from '../../core/run-log.ts';
import { waitUntil, type Stack } from '../../test/stack/index.ts';
import type { Fleet } from './fleet.ts';
import { dirBytes } from './proc.ts';

const benchClients = new Map<string, MongoClient>();

/**
 * The bench's own reads, each bounded (client-side timeout): a server that hangs must not hang
 * the benchmark. Closed by closeBenchClients().
 */
export function benchDb(stack: Stack, database: string): Db {
  let client = benchClients.get(stack.mongo.url);
  if (!client) {
    // socketTimeoutMS: the driver's per-operation timeout (timeoutMS) is not in effect in 7.x.
    client = new MongoClient(stack.mongo.url, {
      socketTimeoutMS: 15_000,
      serverSelectionTimeoutMS: 10_000,
    });
    benchClients.set(stack.mongo.url, client);
  }
  return client.db(database);
}

export async function closeBenchClients(): Promise<void> {
  const clients = [...benchClients.values()];
  benchClients.clear();
  await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
}

/**
 * One last-run summary per job, older than any run: the steady state of a fleet whose jobs have
 * all run before, so the agents' summary upserts update a document rather than insert the first
 * one. (It was added while FerretDB 1.24 kept wedging; the cause turned out to be update commands
 * with 100 or more matching statements, which the agent no longer sends — see
 * LAST_RUN_UPSERTS_PER_COMMAND in agent/run-log-writer.ts.) On MongoDB this changes nothing.
 */
export async function seedLastRuns(db: Db, jobNames: readonly string[]): Promise<void> {
  const docs = jobNames.map((jobName) => ({
    jobName,
    runId: `${jobName}-seed`,
    status: 'succeeded',
    planTime: 0,
    startTime: 0,
    endTime: 0,
    exitCode: 0,
    agentId: 'bench-seed',
  }));
  for (const [collection, inIt] of byLastRunCollection(docs, (doc) => doc.jobName)) {
    await db
      .collection(collection)
      .insertMany(inIt, { ordered: false })
      .catch(() => undefined); // a summary that already exists is as good
  }
}

/**
 * True when the database takes a write (within the client's socket timeout). A read is not
 * enough: with FerretDB wedged, reads still answer while every write waits.
 */
export async function writable(db: Db): Promise<boolean> {
  try {
    await db
      .collection('bench_probe')
      .updateOne({ _id: 'probe' as never }, { $set: { at: Date.now() } }, { upsert: true });
    return true;
  } catch {
    return false;
  }
}

/** Restarts the MongoDB-wire server if a write to a scratch database hangs; true if it did. */
export async function ensureMongoWritable(
  stack: Stack,
  log: (message: string) => void,
): Promise<boolean> {
  if (stack.mongo.kind === 'external') return false;
  if (await writable(benchDb(stack, 'cronplane_bench_probe'))) return false;
  log('the MongoDB-wire server does not take writes: restarting it');
  await stack.mongo.restart();
  return true;
}

/**
 * Forgets the last-run summaries of jobs gone: FerretDB scans a whole collection for each
 * upsert, so summaries left by earlier figures (10,000 after figure 1's burst) would make the
 * next figure's writes slower than its own jobs make them.
 */
export async function resetLastRuns(stack: Stack, fleet: Fleet): Promise<void> {
  const db = benchDb(stack, fleet.world.database);
  await Promise.all(
    lastRunCollections().map((name) =>
      db
        .collection(name)
        .deleteMany({})
        .catch(() => undefined),
    ),
  );
}

/**
 * Waits (at most `timeoutMs`) until every agent's spill journal is empty: its writer has put
 * every record it accepted into MongoDB. True if they all did.
 */
export async function waitForWriters(fleet: Fleet, timeoutMs: number): Promise<boolean> {
  return waitUntil(
    () => fleet.agents.every((agent) => dirBytes(join(agent.stateDir, 'spill')) === 0),
    { timeoutMs, what: "the agents' writers to drain", intervalMs: 200 },
  ).then(
    () => true,
    () => false,
  );
}
