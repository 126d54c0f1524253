/**
 * Batches run records into MongoDB (`insertMany`, unordered) by size or interval, whichever
 * comes first, and never loses one it accepted (guarantee 4):
 *
 *   accept → append to the spill journal → keep in memory (bounded) → insert
 *          → upsert each job's last-run summary (once per flush) → clear journal
 *
 * While MongoDB is down, inserts retry with capped backoff; past `maxBufferedRecords` new
 * records wait only in the journal, which is frozen and replayed once memory has drained. On
 * start, journals left by a previous process are replayed. `runId` is unique, so a replay never
 * duplicates a record; a real outcome arriving after another agent recorded the run `lost`
 * replaces that `lost` record.
 *
 * States: running → stopping → stopped.
 */
import { MongoBulkWriteError, type Collection, type Db } from 'mongodb';
import { backoffDelayMs } from '../core/backoff.ts';
import {
  byLastRunCollection,
  lastRunCollections,
  RUN_LOG_COLLECTION,
  readRunRecord,
  summarizeRun,
  type LastRunSummary,
  type RunRecord,
} from '../core/run-log.ts';
import type { SpillJournal } from './spill-journal.ts';

export type RunLogWriterState = 'running' | 'stopping' | 'stopped';

export interface RunLogWriterOptions {
  readonly batchSize: number;
  readonly flushIntervalMs: number;
  readonly maxBufferedRecords: number;
  /** Observes each MongoDB write's duration, by operation. */
  readonly observeCallSeconds?: (op: 'insert' | 'upsert', seconds: number) => void;
  readonly onEvent?: (event: string, detail: Record<string, unknown>) => void;
}

export interface RunLogWriterStats {
  /** Records accepted and not yet known to be written. */
  readonly backlog: number;
  readonly spillBytes: number;
  readonly written: number;
  readonly lastError: string | null;
  readonly spillError: string | null;
}

export interface RunLogWriter {
  readonly state: RunLogWriterState;
  accept(record: RunRecord): void;
  stats(): RunLogWriterStats;
  /** Resolves when everything accepted so far has been written (for tests and shutdown). */
  drained(): Promise<void>;
  /** Flushes for up to `timeoutMs`; what remains stays in the journal for the next start. */
  stop(timeoutMs: number): Promise<void>;
}

const DUPLICATE_KEY = 11000;

/**
 * Statements per last-run update command. FerretDB 1.24 (SQLite backend) keeps the query of
 * every statement that matched a document open until the whole command ends, one pooled SQLite
 * connection each, from a pool of 100: a command updating 100 summaries, or a few large ones
 * from several agents at once, waits for a connection forever and wedges the server for every
 * client. Ten per command keeps a fleet's concurrent flushes far below that; MongoDB pays only a
 * few more round trips.
 */
export const LAST_RUN_UPSERTS_PER_COMMAND = 10;

/**
 * How long a long flush (a backlog) may go without writing last-run summaries: they are written
 * at the end of every flush, and at least this often while one drains.
 */
const LAST_RUN_MAX_DELAY_MS = 5_000;

export async function ensureRunLogIndexes(db: Db): Promise<void> {
  const log = db.collection(RUN_LOG_COLLECTION);
  await log.createIndex({ runId: 1 }, { unique: true, name: 'runId_unique' });
  await log.createIndex({ jobName: 1, planTime: -1 }, { name: 'jobName_planTime' });
  await log.createIndex({ endTime: 1 }, { name: 'endTime' });
  for (const name of lastRunCollections()) {
    await db.collection(name).createIndex({ jobName: 1 }, { unique: true, name: 'jobName_unique' });
  }
}

/**
 * The records of a failed `insertMany` that are nonetheless in the collection (duplicates of an
 * earlier write), or null when the batch must be sent again. Written means every record is
 * accounted for, inserted now or already there; a bulk error without per-record errors (the
 * driver's wrapping of a connection cut mid-batch) accounts for nothing.
 */
export function recordsAlreadyWritten(
  error: unknown,
  batch: readonly RunRecord[],
): RunRecord[] | null {
  if (!(error instanceof MongoBulkWriteError)) return null;
  // The driver types this as one error or many; read it defensively either way.
  const raw: unknown = error.writeErrors;
  const writeErrors = (raw === undefined ? [] : Array.isArray(raw) ? raw : [raw]) as {
    code?: unknown;
    index?: unknown;
  }[];
  const duplicates = writeErrors
    .map((e) =>
      e.code === DUPLICATE_KEY && typeof e.index === 'number' ? batch[e.index] : undefined,
    )
    .filter((r): r is RunRecord => r !== undefined);
  const accountedFor =
    duplicates.length === writeErrors.length &&
    error.insertedCount + duplicates.length === batch.length;
  return accountedFor ? duplicates : null;
}

/** True for a bulk error whose every failure is a duplicate key (and a connection cut is not). */
function onlyDuplicateKeys(error: unknown): boolean {
  if (!(error instanceof MongoBulkWriteError)) return false;
  const raw: unknown = error.writeErrors;
  const writeErrors = (raw === undefined ? [] : Array.isArray(raw) ? raw : [raw]) as {
    code?: unknown;
  }[];
  return writeErrors.length > 0 && writeErrors.every((e) => e.code === DUPLICATE_KEY);
}

export function createRunLogWriter(
  db: Db,
  journal: SpillJournal,
  options: RunLogWriterOptions,
): RunLogWriter {
  const emit = options.onEvent ?? (() => undefined);
  const log: Collection<RunRecord> = db.collection<RunRecord>(RUN_LOG_COLLECTION);
  let state: RunLogWriterState = 'running';
  let memory: RunRecord[] = [];
  /** Records that live only in the journal because memory was full. */
  let diskOnly = 0;
  let written = 0;
  let lastError: string | null = null;
  let flushing: Promise<void> | null = null;
  let timer: NodeJS.Timeout | undefined;
  let attempt = 0;
  let waiters: (() => void)[] = [];
  let spillHealthy = true;
  /** Each job's newest run written to the log whose summary is not written yet. */
  const newestRuns = new Map<string, RunRecord>();
  let summariesWrittenAt = performance.now();

  async function insertBatch(batch: readonly RunRecord[]): Promise<void> {
    let duplicates: RunRecord[] = [];
    const startedAt = performance.now();
    try {
      await log.insertMany(
        batch.map((r) => ({ ...r })),
        { ordered: false },
      );
    } catch (error) {
      const written = recordsAlreadyWritten(error, batch);
      if (written === null) throw error;
      duplicates = written;
    }
    options.observeCallSeconds?.('insert', (performance.now() - startedAt) / 1000);
    for (const record of duplicates) {
      if (record.status !== 'lost')
        await log.replaceOne({ runId: record.runId, status: 'lost' }, { ...record });
    }
    noteLastRuns(batch);
    written += batch.length - duplicates.length;
  }

  /** Keeps each job's newest run of a written batch until the summaries are written. */
  function noteLastRuns(batch: readonly RunRecord[]): void {
    for (const record of batch) {
      // A skip is not a run: the job list's "last run" stays the last real one.
      if (record.status === 'skipped') continue;
      const seen = newestRuns.get(record.jobName);
      if (!seen || record.startTime > seen.startTime) newestRuns.set(record.jobName, record);
    }
  }

  /**
   * Upserts the summaries of the runs noted since the last call: once per flush (and every
   * LAST_RUN_MAX_DELAY_MS of a long one), however many batches it wrote (a backlog of 10,000
   * records of 200 jobs costs 200 upserts, not 200 per batch), and always before the journal is
   * cleared, so a crash before then replays the records and so the summaries too.
   */
  async function upsertLastRuns(): Promise<void> {
    if (newestRuns.size === 0) return;
    // A few round trips per flush (one upsert per job each was the writer's bottleneck), but
    // never one big command: see LAST_RUN_UPSERTS_PER_COMMAND. Each upsert matches only an
    // older summary; when a newer one exists its insert hits the unique jobName index and is
    // refused, which is exactly "keep the newest". A command holds one shard's summaries.
    const startedAt = performance.now();
    const byCollection = byLastRunCollection(newestRuns.values(), (record) => record.jobName);
    for (const [collection, records] of byCollection) {
      const shard = db.collection<LastRunSummary>(collection);
      const upserts = records.map((record) => ({
        updateOne: {
          filter: { jobName: record.jobName, startTime: { $lt: record.startTime } },
          update: { $set: summarizeRun(record) },
          upsert: true,
        },
      }));
      for (let i = 0; i < upserts.length; i += LAST_RUN_UPSERTS_PER_COMMAND) {
        try {
          await shard.bulkWrite(upserts.slice(i, i + LAST_RUN_UPSERTS_PER_COMMAND), {
            ordered: false,
          });
        } catch (error) {
          if (!onlyDuplicateKeys(error)) throw error;
        }
      }
    }
    options.observeCallSeconds?.('upsert', (performance.now() - startedAt) / 1000);
    newestRuns.clear();
    summariesWrittenAt = performance.now();
  }

  /** Runs `write` until it succeeds or the writer stops; false if it stopped first. */
  async function withRetry(write: () => Promise<void>, records: number): Promise<boolean> {
    while (state !== 'stopped') {
      try {
        await write();
        if (attempt > 0) emit('log:recovered', { afterAttempts: attempt });
        attempt = 0;
        lastError = null;
        return true;
      } catch (error) {
        lastError = error instanceof Error ? error.message : String(error);
        const delayMs = backoffDelayMs(attempt++, { initialDelayMs: 100, maxDelayMs: 5_000 });
        emit('log:insertFailed', { error: lastError, retryInMs: delayMs, batch: records });
        await new Promise((resolve) => setTimeout(resolve, delayMs));
      }
    }
    return false;
  }

  async function flushAll(): Promise<void> {
    while (memory.length > 0) {
      const batch = memory.slice(0, options.batchSize);
      if (!(await withRetry(() => insertBatch(batch), batch.length))) return;
      memory = memory.slice(batch.length);
      if (performance.now() - summariesWrittenAt >= LAST_RUN_MAX_DELAY_MS) {
        if (!(await withRetry(upsertLastRuns, newestRuns.size))) return;
      }
    }
    if (!(await withRetry(upsertLastRuns, newestRuns.size))) return;
    // Everything held in memory is written; the journal holds nothing else unless we overflowed.
    if (diskOnly > 0) {
      journal.freeze();
      diskOnly = 0;
    } else {
      journal.clear();
    }
    for (const file of journal.replayFiles()) {
      for await (const lines of journal.readBatches(file, options.batchSize)) {
        const records = lines.map(readRunRecord).filter((r): r is RunRecord => r !== null);
        if (records.length > 0 && !(await withRetry(() => insertBatch(records), records.length)))
          return;
      }
      if (!(await withRetry(upsertLastRuns, newestRuns.size))) return;
      journal.remove(file);
      emit('log:replayed', { file });
    }
  }

  function flushSoon(immediate: boolean): void {
    if (flushing) return;
    if (!immediate) {
      timer ??= setTimeout(() => {
        timer = undefined;
        flushSoon(true);
      }, options.flushIntervalMs);
      return;
    }
    clearTimeout(timer);
    timer = undefined;
    flushing = flushAll()
      .catch((error: unknown) => emit('log:flushFailed', { error: String(error) }))
      .finally(() => {
        flushing = null;
        if (memory.length > 0 || diskOnly > 0) flushSoon(memory.length >= options.batchSize);
        else {
          const done = waiters;
          waiters = [];
          for (const resolve of done) resolve();
        }
      });
  }

  if (journal.replayFiles().length > 0) flushSoon(true);

  return {
    get state() {
      return state;
    },
    accept(record) {
      if (state === 'stopped')
        throw new Error(`run-log writer is ${state}; cannot accept ${record.runId}`);
      const journaled = journal.append(JSON.stringify(record));
      if (journaled !== spillHealthy) {
        spillHealthy = journaled;
        emit(journaled ? 'log:spillRecovered' : 'log:spillFailed', { error: journal.lastError });
      }
      if (memory.length < options.maxBufferedRecords || !journaled) memory.push(record);
      else diskOnly++;
      flushSoon(memory.length >= options.batchSize);
    },
    stats() {
      return {
        backlog: memory.length + diskOnly,
        spillBytes: journal.sizeBytes(),
        written,
        lastError,
        spillError: journal.lastError,
      };
    },
    drained() {
      if (!flushing && memory.length === 0 && diskOnly === 0 && journal.replayFiles().length === 0)
        return Promise.resolve();
      return new Promise((resolve) => {
        waiters.push(resolve);
        flushSoon(true);
      });
    },
    async stop(timeoutMs) {
      if (state !== 'running') throw new Error(`run-log writer is already ${state}`);
      state = 'stopping';
      flushSoon(true);
      let deadline: NodeJS.Timeout | undefined;
      await Promise.race([
        new Promise<void>((resolve) => {
          if (memory.length === 0 && diskOnly === 0 && !flushing) resolve();
          else waiters.push(resolve);
        }),
        new Promise<void>((resolve) => {
          deadline = setTimeout(resolve, timeoutMs);
        }),
      ]);
      clearTimeout(deadline);
      clearTimeout(timer);
      state = 'stopped';
      journal.close();
    },
  };
}
