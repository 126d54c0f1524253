/**
 * The relay's operations: one signed `POST /relay/v1/<operation>` per port method, each with a
 * strict request parser (the relay refuses anything else with 400) and a response reader (the
 * relay client refuses a malformed answer). Narrow on purpose: there is no raw key/value access.
 */
import type {
  KillRequest,
  ManualTrigger,
  RunningEntry,
  WorkerRegistration,
} from './coordination.ts';
import { toManualTrigger, toRunningEntry, toWorkerRegistration } from './coordination.ts';
import { ValidationError } from './errors.ts';
import type { Job } from './job.ts';
import { validateJob } from './job.ts';
import { isValidName, isValidRunId } from './names.ts';
import type { LastRunSummary, RunRecord } from './run-log.ts';
import type { HealthReport, RunCursor, RunPage, VersionedJob } from './api.ts';
import {
  MAX_RUNS_PAGE_SIZE,
  decodeRunCursor,
  isRevision,
  toListOf,
  toHealthReport,
  toLastRunSummary,
  toRunPage,
  toRunRecord,
  toVersionedJob,
} from './api.ts';
import { expectRecord, invalidField, isCount, isRecord, isString } from './wire.ts';

export const RELAY_PATH_PREFIX = '/relay/v1/';

/** The most job names one `runs.last` request may carry; clients split longer lists. */
export const MAX_NAMES_PER_RELAY_REQUEST = 1000;

type Empty = Record<string, never>;

export interface RelayOperations {
  'jobs.list': { request: Empty; response: { jobs: VersionedJob[] } };
  'jobs.get': { request: { name: string }; response: { job: VersionedJob | null } };
  'jobs.put': {
    request: { job: Job; ifMatch?: string };
    response: { job: VersionedJob; created: boolean };
  };
  'jobs.delete': { request: { name: string }; response: Empty };
  'jobs.kill': { request: { name: string; request: KillRequest }; response: Empty };
  'jobs.run': { request: { name: string; trigger: ManualTrigger }; response: Empty };
  'running.list': { request: Empty; response: { running: RunningEntry[] } };
  'workers.list': { request: Empty; response: { workers: WorkerRegistration[] } };
  'runs.ofJob': {
    /** `before` travels as the opaque cursor string and is decoded by the parser. */
    request: { name: string; limit: number; before?: string };
    parsed: { name: string; limit: number; before?: RunCursor };
    response: RunPage;
  };
  'runs.get': { request: { runId: string }; response: { run: RunRecord | null } };
  'runs.last': { request: { names: string[] }; response: { lastRuns: LastRunSummary[] } };
  /** Signed, unlike the relay's `GET /healthz`, so it also proves the shared secret works. */
  health: { request: Empty; response: HealthReport };
}

export type RelayOperation = keyof RelayOperations;
export type RelayRequest<Op extends RelayOperation> = RelayOperations[Op]['request'];
export type RelayResponse<Op extends RelayOperation> = RelayOperations[Op]['response'];
/** What the relay's parser returns: the request itself, except where a field is decoded. */
export type RelayParsedRequest<Op extends RelayOperation> = RelayOperations[Op] extends {
  parsed: infer Parsed;
}
  ? Parsed
  : RelayRequest<Op>;

interface OperationCodec<Op extends RelayOperation> {
  /** Throws a ValidationError listing what is wrong. */
  readonly parseRequest: (body: unknown) => RelayParsedRequest<Op>;
  /** Null when the relay's answer does not have the documented shape. */
  readonly readResponse: (body: unknown) => RelayResponse<Op> | null;
}

const emptyRequest = (body: unknown): Empty => {
  expectRecord(body, '', []);
  return {};
};

const emptyResponse = (body: unknown): Empty | null =>
  isRecord(body) && Object.keys(body).length === 0 ? {} : null;

function expectName(value: unknown, field: string): string {
  if (!isValidName(value)) throw invalidField(field, 'must match [A-Za-z0-9._-]{1,64}');
  return value;
}

function parseJobField(value: unknown): Job {
  const result = validateJob(value);
  if (result.ok) return result.job;
  throw new ValidationError(
    'invalid job',
    result.errors.map((e) => ({ field: e.field ? `job.${e.field}` : 'job', message: e.message })),
  );
}

function parseKillRequest(value: unknown): KillRequest {
  const o = expectRecord(value, 'request', ['requestedAt', 'runId', 'requestedBy']);
  if (!isCount(o.requestedAt)) throw invalidField('request.requestedAt', 'must be epoch ms');
  if (o.runId !== undefined && !isValidRunId(o.runId)) {
    throw invalidField('request.runId', 'must be a run id');
  }
  if (o.requestedBy !== undefined && !isString(o.requestedBy)) {
    throw invalidField('request.requestedBy', 'must be a string');
  }
  return {
    requestedAt: o.requestedAt,
    ...(o.runId !== undefined ? { runId: o.runId } : {}),
    ...(o.requestedBy !== undefined ? { requestedBy: o.requestedBy } : {}),
  };
}

function readField<T>(body: unknown, field: string, read: (value: unknown) => T | null): T | null {
  return isRecord(body) ? read(body[field]) : null;
}

function readList<T>(body: unknown, field: string, read: (value: unknown) => T | null): T[] | null {
  return readField(body, field, (value) => toListOf(value, read));
}

export const relayWire: { readonly [Op in RelayOperation]: OperationCodec<Op> } = {
  'jobs.list': {
    parseRequest: emptyRequest,
    readResponse: (body) => {
      const jobs = readList(body, 'jobs', toVersionedJob);
      return jobs && { jobs };
    },
  },
  'jobs.get': {
    parseRequest: (body) => ({ name: expectName(expectRecord(body, '', ['name']).name, 'name') }),
    readResponse: (body) => {
      if (!isRecord(body)) return null;
      if (body.job === null) return { job: null };
      const job = toVersionedJob(body.job);
      return job && { job };
    },
  },
  'jobs.put': {
    parseRequest: (body) => {
      const o = expectRecord(body, '', ['job', 'ifMatch']);
      if (o.ifMatch !== undefined && !isRevision(o.ifMatch)) {
        throw invalidField('ifMatch', 'must be an etcd revision (a positive decimal integer)');
      }
      const job = parseJobField(o.job);
      return o.ifMatch === undefined ? { job } : { job, ifMatch: o.ifMatch };
    },
    readResponse: (body) => {
      const job = readField(body, 'job', toVersionedJob);
      const created = readField(body, 'created', (v) => (typeof v === 'boolean' ? v : null));
      return job && created !== null ? { job, created } : null;
    },
  },
  'jobs.delete': {
    parseRequest: (body) => ({ name: expectName(expectRecord(body, '', ['name']).name, 'name') }),
    readResponse: emptyResponse,
  },
  'jobs.kill': {
    parseRequest: (body) => {
      const o = expectRecord(body, '', ['name', 'request']);
      return { name: expectName(o.name, 'name'), request: parseKillRequest(o.request) };
    },
    readResponse: emptyResponse,
  },
  'jobs.run': {
    parseRequest: (body) => {
      const o = expectRecord(body, '', ['name', 'trigger']);
      const trigger = toManualTrigger(o.trigger);
      if (!trigger)
        throw new ValidationError('invalid run-now request', [
          { field: 'trigger', message: 'must be {runId, requestedAt, requestedBy}' },
        ]);
      return { name: expectName(o.name, 'name'), trigger };
    },
    readResponse: emptyResponse,
  },
  'running.list': {
    parseRequest: emptyRequest,
    readResponse: (body) => {
      const running = readList(body, 'running', toRunningEntry);
      return running && { running };
    },
  },
  'workers.list': {
    parseRequest: emptyRequest,
    readResponse: (body) => {
      const workers = readList(body, 'workers', toWorkerRegistration);
      return workers && { workers };
    },
  },
  'runs.ofJob': {
    parseRequest: (body) => {
      const o = expectRecord(body, '', ['name', 'limit', 'before']);
      const name = expectName(o.name, 'name');
      if (!isCount(o.limit) || o.limit < 1 || o.limit > MAX_RUNS_PAGE_SIZE) {
        throw invalidField('limit', `must be an integer from 1 to ${MAX_RUNS_PAGE_SIZE}`);
      }
      if (o.before === undefined) return { name, limit: o.limit };
      const before = isString(o.before) ? decodeRunCursor(o.before) : null;
      if (!before) throw invalidField('before', 'must be a cursor returned by a previous page');
      return { name, limit: o.limit, before };
    },
    readResponse: toRunPage,
  },
  'runs.get': {
    parseRequest: (body) => {
      const { runId } = expectRecord(body, '', ['runId']);
      if (!isValidRunId(runId)) throw invalidField('runId', 'must match [A-Za-z0-9._-]{1,128}');
      return { runId };
    },
    readResponse: (body) => {
      if (!isRecord(body)) return null;
      if (body.run === null) return { run: null };
      const run = toRunRecord(body.run);
      return run && { run };
    },
  },
  'runs.last': {
    parseRequest: (body) => {
      const { names } = expectRecord(body, '', ['names']);
      if (!Array.isArray(names) || names.length > MAX_NAMES_PER_RELAY_REQUEST) {
        throw invalidField('names', `must be an array of at most ${MAX_NAMES_PER_RELAY_REQUEST}`);
      }
      return { names: names.map((name, i) => expectName(name, `names.${i}`)) };
    },
    readResponse: (body) => {
      const lastRuns = readList(body, 'lastRuns', toLastRunSummary);
      return lastRuns && { lastRuns };
    },
  },
  health: { parseRequest: emptyRequest, readResponse: toHealthReport },
};

export function isRelayOperation(value: string): value is RelayOperation {
  return Object.hasOwn(relayWire, value);
}
