/** Builders for what agents write: jobs, run records, summaries, registrations, running entries. */
import type { RunningEntry, WorkerRegistration } from '../../core/coordination.ts';
import type { Job } from '../../core/job.ts';
import { JOB_DEFAULTS } from '../../core/job.ts';
import type { LastRunSummary, RunRecord } from '../../core/run-log.ts';
import { summarizeRun } from '../../core/run-log.ts';

export function job(name: string, overrides: Partial<Job> = {}): Job {
  return {
    ...JOB_DEFAULTS,
    labels: {},
    name,
    command: `echo ${name}`,
    cronExpr: '*/5 * * * *',
    ...overrides,
  };
}

export function runRecord(jobName: string, planTime: number, overrides: Partial<RunRecord> = {}) {
  const record: RunRecord = {
    runId: `${jobName}-${planTime}`,
    jobName,
    command: `echo ${jobName}`,
    err: '',
    output: `output of ${jobName} at ${planTime}\n`,
    outputTruncated: false,
    planTime,
    scheduleTime: planTime + 5,
    startTime: planTime + 10,
    endTime: planTime + 100,
    agentId: 'agent-1',
    host: 'host-1',
    status: 'succeeded',
    exitCode: 0,
    signal: null,
    attempt: 1,
    trigger: 'schedule',
    triggeredBy: null,
    skip: null,
    ...overrides,
  };
  return record;
}

export function lastRunOf(record: RunRecord): LastRunSummary {
  return summarizeRun(record);
}

export function worker(agentId: string): WorkerRegistration {
  return {
    agentId,
    host: `${agentId}.example`,
    ip: '10.0.0.1',
    pid: 4242,
    version: '0.1.0',
    labels: { zone: 'a' },
    startedAt: 1_700_000_000_000,
  };
}

export function running(jobName: string, runId: string): RunningEntry {
  return {
    runId,
    jobName,
    agentId: 'agent-1',
    host: 'host-1',
    pid: 999,
    planTime: 1_700_000_000_000,
    startTime: 1_700_000_000_010,
    command: `echo ${jobName}`,
  };
}
