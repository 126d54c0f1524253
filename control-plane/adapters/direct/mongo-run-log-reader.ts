/**
 * Run logs from MongoDB (collection `log`, and the last-run shards `last_run_NN`). Only equality filters, `$in`, `$or`
 * of range comparisons, sort and limit: all of it works on FerretDB 1.24 as on MongoDB. Indexes
 * are the agent's to create; these queries are correct without them, only slower.
 */
import type { Db, Filter, Document } from 'mongodb';
import type { RunCursor } from '../../../core/api.ts';
import { encodeRunCursor, previewRun, toLastRunSummary, toRunRecord } from '../../../core/api.ts';
import { isValidRunId } from '../../../core/names.ts';
import type { LastRunSummary } from '../../../core/run-log.ts';
import {
  byLastRunCollection,
  LEGACY_LAST_RUN_COLLECTION,
  RUN_LOG_COLLECTION,
} from '../../../core/run-log.ts';
import { isCount } from '../../../core/wire.ts';
import type { RunLogReader } from '../../ports.ts';
import { orUnavailable } from './unavailable.ts';

/** The history order, newest first; runId breaks ties so a cursor position is unique. */
const NEWEST_FIRST = { planTime: -1, startTime: -1, runId: -1 } as const;

function olderThan(cursor: RunCursor): Filter<Document> {
  const { planTime, startTime, runId } = cursor;
  return {
    $or: [
      { planTime: { $lt: planTime } },
      { planTime, startTime: { $lt: startTime } },
      { planTime, startTime, runId: { $lt: runId } },
    ],
  };
}

/** The cursor of a stored document, even one the reader skips for failing validation. */
function cursorOf(doc: Record<string, unknown>): RunCursor | null {
  const { planTime, startTime, runId } = doc;
  return isCount(planTime) && isCount(startTime) && isValidRunId(runId)
    ? { planTime, startTime, runId }
    : null;
}

export function createMongoRunLogReader(db: Db): RunLogReader {
  const log = db.collection(RUN_LOG_COLLECTION);

  /** The summaries of `names` in one collection, as stored (validated by the caller). */
  async function summariesIn(collection: string, names: readonly string[]): Promise<Document[]> {
    return db
      .collection(collection)
      .find({ jobName: { $in: [...names] } })
      .toArray();
  }
  const mongo = <T>(operation: () => Promise<T>) => orUnavailable('MongoDB', operation);

  return {
    runsOfJob: (name, { limit, before }) =>
      mongo(async () => {
        const filter: Filter<Document> = before
          ? { jobName: name, ...olderThan(before) }
          : { jobName: name };
        // One extra document says whether an older page exists without a count query.
        const docs = await log.find(filter, { sort: NEWEST_FIRST, limit: limit + 1 }).toArray();
        const page = docs.slice(0, limit);
        const runs = page.flatMap((doc) => {
          const record = toRunRecord(doc);
          return record && record.jobName === name ? [previewRun(record)] : [];
        });
        const next = docs.length > limit ? page.map(cursorOf).findLast((c) => c !== null) : null;
        return { runs, nextCursor: next ? encodeRunCursor(next) : null };
      }),

    run: (runId) =>
      mongo(async () => {
        const doc = await log.findOne({ runId });
        return doc ? toRunRecord(doc) : null;
      }),

    lastRuns: (names) =>
      mongo(async () => {
        if (names.length === 0) return [];
        const sharded = await Promise.all(
          [...byLastRunCollection(names, (name) => name)].map(([collection, inIt]) =>
            summariesIn(collection, inIt),
          ),
        );
        const docs = sharded.flat();
        const found = new Set<unknown>(docs.map((doc): unknown => doc.jobName));
        const unseen = names.filter((name) => !found.has(name));
        if (unseen.length > 0)
          docs.push(...(await summariesIn(LEGACY_LAST_RUN_COLLECTION, unseen)));
        // One summary per job is the agent's rule; should two exist, the newer tick wins.
        const byName = new Map<string, LastRunSummary>();
        for (const doc of docs) {
          const summary = toLastRunSummary(doc);
          const known = summary && byName.get(summary.jobName);
          if (summary && (!known || known.planTime < summary.planTime)) {
            byName.set(summary.jobName, summary);
          }
        }
        return [...byName.values()];
      }),
  };
}
