/**
 * The run-log writer's spill journal in the state dir. Every accepted record is appended here
 * before it is sent, so neither a MongoDB outage nor an agent crash loses it:
 *
 *   journal.jsonl        records accepted since the last time everything was written
 *   replay-<n>.jsonl     frozen journals waiting to be re-sent (after an overflow or a restart)
 *
 * Re-sending is idempotent because `runId` is unique in MongoDB. Appends are synchronous: a few
 * hundred bytes per run, and it keeps "appended" and "accepted" the same instant.
 */
import {
  truncateSync,
  closeSync,
  existsSync,
  fstatSync,
  ftruncateSync,
  mkdirSync,
  openSync,
  readdirSync,
  renameSync,
  statSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { createReadStream } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

export interface SpillJournal {
  /** False when the state dir cannot be written (the record then lives in memory only). */
  append(line: string): boolean;
  /** Empties the journal: everything in it has been written. */
  clear(): void;
  /** Freezes the journal into a replay file and starts a new one. */
  freeze(): void;
  replayFiles(): string[];
  readBatches(file: string, batchSize: number): AsyncGenerator<string[]>;
  remove(file: string): void;
  sizeBytes(): number;
  readonly lastError: string | null;
  close(): void;
}

export function openSpillJournal(dir: string): SpillJournal {
  const journalPath = join(dir, 'journal.jsonl');
  let fd: number | null = null;
  let lastError: string | null = null;
  let sequence = Date.now();

  const fail = (error: unknown): void => {
    lastError = error instanceof Error ? error.message : String(error);
    if (fd !== null) {
      try {
        closeSync(fd);
      } catch {
        // already unusable
      }
    }
    fd = null;
  };

  const ensureOpen = (): number | null => {
    if (fd !== null) return fd;
    try {
      mkdirSync(dir, { recursive: true });
      fd = openSync(journalPath, 'a');
      lastError = null;
    } catch (error) {
      fail(error);
    }
    return fd;
  };

  const freeze = (): void => {
    try {
      if (fd !== null) {
        closeSync(fd);
        fd = null;
      }
      if (existsSync(journalPath) && statSync(journalPath).size > 0) {
        renameSync(journalPath, join(dir, `replay-${String(sequence++).padStart(16, '0')}.jsonl`));
      }
    } catch (error) {
      fail(error);
    }
  };

  // A journal left by a previous process holds records that may never have been written.
  freeze();

  return {
    append(line) {
      const handle = ensureOpen();
      if (handle === null) return false;
      const bytes = Buffer.from(`${line}\n`);
      let sizeBefore = 0;
      try {
        sizeBefore = fstatSync(handle).size;
        const written = writeSync(handle, bytes);
        // A nearly full disk takes part of a write without an error: a cut line would count
        // as journaled but never replay. Undo it, so the record stays in memory instead.
        if (written !== bytes.length)
          throw new Error(
            `short write to the spill journal (${written} of ${bytes.length} bytes): disk full`,
          );
        return true;
      } catch (error) {
        try {
          ftruncateSync(handle, sizeBefore);
        } catch {
          // the journal is unusable either way; fail() below reports it
        }
        fail(error);
        return false;
      }
    },
    clear() {
      try {
        // By path when the handle was closed by a failure (e.g. the disk filled up): emptying
        // the journal is what frees the space, so it must not depend on the failed handle.
        if (fd !== null) {
          if (fstatSync(fd).size > 0) ftruncateSync(fd, 0);
        } else if (existsSync(journalPath)) {
          truncateSync(journalPath, 0);
          lastError = null;
        }
      } catch (error) {
        fail(error);
      }
    },
    freeze,
    replayFiles() {
      try {
        return readdirSync(dir)
          .filter((f) => /^replay-\d+\.jsonl$/.test(f))
          .sort()
          .map((f) => join(dir, f));
      } catch {
        return [];
      }
    },
    async *readBatches(file, batchSize) {
      const lines = createInterface({ input: createReadStream(file, 'utf8'), crlfDelay: Infinity });
      let batch: string[] = [];
      for await (const line of lines) {
        if (line.length === 0) continue;
        batch.push(line);
        if (batch.length >= batchSize) {
          yield batch;
          batch = [];
        }
      }
      if (batch.length > 0) yield batch;
    },
    remove(file) {
      try {
        unlinkSync(file);
      } catch (error) {
        fail(error);
      }
    },
    sizeBytes() {
      let total = 0;
      try {
        for (const f of readdirSync(dir)) {
          if (f === 'journal.jsonl' || /^replay-\d+\.jsonl$/.test(f))
            total += statSync(join(dir, f)).size;
        }
      } catch {
        return total;
      }
      return total;
    },
    get lastError() {
      return lastError;
    },
    close() {
      if (fd !== null) closeSync(fd);
      fd = null;
    },
  };
}
