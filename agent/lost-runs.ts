/**
 * Records a run whose runner died as `lost`. Every live agent that sees the loss writes the same
 * record; the unique `runId` in MongoDB keeps exactly one, and a real outcome that arrives later
 * (the runner was only cut off) replaces it.
 */
import type { RunningEntry } from '../core/coordination.ts';
import type { RunRecord } from '../core/run-log.ts';

export function lostRunRecord(entry: RunningEntry, nowMs: number, observerId: string): RunRecord {
  return {
    runId: entry.runId,
    jobName: entry.jobName,
    command: entry.command,
    err: `agent ${entry.agentId} lost its session while the run was in flight (seen by ${observerId})`,
    output: '',
    outputTruncated: false,
    planTime: entry.planTime,
    scheduleTime: entry.startTime,
    startTime: entry.startTime,
    endTime: nowMs,
    agentId: entry.agentId,
    host: entry.host,
    status: 'lost',
    exitCode: null,
    signal: null,
    attempt: 1,
    trigger: 'schedule',
    triggeredBy: null,
    skip: null,
  };
}
