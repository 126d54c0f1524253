/** Last-run summaries as stored: each in its job's shard (core/run-log.ts lastRunCollection). */
import type { Db, Document, Filter } from 'mongodb';
import { byLastRunCollection, lastRunCollections } from '../../core/run-log.ts';

/** Stores summaries (or anything with a jobName) where the agent's writer would. */
export async function storeLastRuns(
  db: Db,
  summaries: readonly { readonly jobName: string }[],
): Promise<void> {
  for (const [collection, docs] of byLastRunCollection(summaries, (s) => s.jobName)) {
    await db.collection(collection).insertMany(docs.map((doc) => ({ ...doc })));
  }
}

/** Every stored summary matching `filter`, from all shards. */
export async function findLastRuns(db: Db, filter: Filter<Document> = {}): Promise<Document[]> {
  const found = await Promise.all(
    lastRunCollections().map((name) => db.collection(name).find(filter).toArray()),
  );
  return found.flat();
}
