import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  MongoBulkWriteError,
  MongoNetworkError,
  type BulkWriteResult,
  type WriteError as DriverWriteError,
} from 'mongodb';

/** The fields of the driver's WriteError that matter here (the class is not exported). */
interface WriteError {
  readonly code: number;
  readonly index: number;
  readonly errmsg: string;
}
import { recordsAlreadyWritten } from '../../agent/run-log-writer.ts';
import type { RunRecord } from '../../core/run-log.ts';

function record(runId: string): RunRecord {
  return {
    runId,
    jobName: 'job',
    command: 'true',
    err: '',
    output: '',
    outputTruncated: false,
    planTime: 1,
    scheduleTime: 1,
    startTime: 1,
    endTime: 2,
    agentId: 'a',
    host: 'h',
    status: 'succeeded',
    exitCode: 0,
    signal: null,
    attempt: 1,
    trigger: 'schedule',
    triggeredBy: null,
    skip: null,
  };
}

/**
 * A bulk error as the driver builds one. BulkWriteResult is not exported as a value; the error
 * reads only its counts, so a result carrying the inserted count stands in for it.
 */
function bulkError(
  insertedCount: number,
  writeErrors: WriteError[],
  cause?: Error,
): MongoBulkWriteError {
  const result = { insertedCount } as unknown as BulkWriteResult;
  return new MongoBulkWriteError(
    cause ?? {
      message: 'E11000 duplicate key',
      code: 11000,
      // The driver reads only these fields of its WriteError (the class is not exported).
      writeErrors: writeErrors as unknown as DriverWriteError[],
    },
    result,
  );
}

describe('run-log writer: which failed inserts count as written', () => {
  const batch = [record('r1'), record('r2'), record('r3')];

  it('counts duplicates of earlier writes as written when every other record was inserted', () => {
    const duplicate = { code: 11000, index: 1, errmsg: 'E11000' };
    assert.deepEqual(recordsAlreadyWritten(bulkError(2, [duplicate]), batch), [batch[1]]);
  });

  it('sends the batch again when the connection was cut mid-batch (a bulk error without record errors)', () => {
    // This shape dropped records during a MongoDB restart before it was recognised.
    const cut = bulkError(0, [], new MongoNetworkError('connection reset'));
    assert.equal(recordsAlreadyWritten(cut, batch), null);
  });

  it('sends the batch again when any record failed for another reason', () => {
    const duplicate = { code: 11000, index: 0, errmsg: 'E11000' };
    const invalid = { code: 2, index: 2, errmsg: 'bad value' };
    assert.equal(recordsAlreadyWritten(bulkError(1, [duplicate, invalid]), batch), null);
  });

  it('sends the batch again for errors that are not bulk write errors', () => {
    assert.equal(recordsAlreadyWritten(new MongoNetworkError('down'), batch), null);
  });
});
