/**
 * The console's client of the public API: the bearer token on every call, JSON in and out,
 * answers checked by the readers in wire.ts, and failures rebuilt as CronplaneError from the
 * API's `{error, code, details}` so views can branch on `code` and show `details` per field.
 */
import { CronplaneError, fromErrorBody } from '../../core/errors.ts';
import type { WorkerView } from '../../core/api.ts';
import type { RunningEntry } from '../../core/coordination.ts';
import type { Job } from '../../core/job.ts';
import type { JobRow, Principal, RunPageView, RunView } from './wire.ts';
import {
  readCronNext,
  readJobList,
  readJobRow,
  readPrincipal,
  readRunResponse,
  readRunPage,
  readRunning,
  readWorkers,
} from './wire.ts';

/** What a client may write: every job field but the one the server stamps. */
export type JobInput = Omit<Job, 'updatedAt'>;
/** A job as a form sends it: fields left out take the server's defaults. */
export type JobDraft = Partial<JobInput> & Pick<JobInput, 'name'>;

export interface Api {
  whoami(): Promise<Principal>;
  listJobs(): Promise<JobRow[]>;
  getJob(name: string): Promise<JobRow>;
  /** Creates or replaces; with `ifMatch`, only if the job is still at that revision. */
  putJob(job: JobDraft, ifMatch?: string): Promise<void>;
  deleteJob(name: string): Promise<void>;
  /** Kills every run of the job, or only `runId`. */
  killJob(name: string, runId?: string): Promise<void>;
  runJobNow(name: string): Promise<void>;
  runsOfJob(name: string, options: { limit: number; before?: string }): Promise<RunPageView>;
  run(runId: string): Promise<RunView>;
  running(): Promise<RunningEntry[]>;
  workers(): Promise<WorkerView[]>;
  /** The next `count` fire times of a schedule, as epoch ms. */
  cronNext(expr: string, timezone: string, count: number): Promise<number[]>;
}

export interface ApiOptions {
  readonly token: string;
  /** Called when the API no longer accepts the token, so the session can end. */
  readonly onUnauthorized?: () => void;
}

const path = (...segments: string[]): string =>
  segments.map((segment) => encodeURIComponent(segment)).join('/');

export function createApi({ token, onUnauthorized }: ApiOptions): Api {
  async function call(
    method: string,
    url: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<unknown> {
    let response: Response;
    try {
      response = await fetch(url, {
        method,
        headers: {
          authorization: `Bearer ${token}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          ...headers,
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
    } catch {
      throw new CronplaneError('unavailable', 'cannot reach the control plane');
    }
    const text = await response.text();
    let parsed: unknown;
    try {
      parsed = text === '' ? undefined : JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    if (response.ok) return parsed;
    const error = fromErrorBody(parsed, `${method} ${url} answered ${response.status}`);
    if (error.code === 'unauthorized') onUnauthorized?.();
    throw error;
  }

  async function get<T>(url: string, read: (value: unknown) => T | null): Promise<T> {
    const value = read(await call('GET', url));
    if (value === null) throw new CronplaneError('internal', `unexpected answer from GET ${url}`);
    return value;
  }

  return {
    whoami: () => get('/v1/whoami', readPrincipal),
    listJobs: () => get('/v1/jobs', readJobList),
    getJob: (name) => get(`/v1/jobs/${path(name)}`, readJobRow),
    async putJob(job, ifMatch) {
      await call(
        'PUT',
        `/v1/jobs/${path(job.name)}`,
        job,
        ifMatch === undefined ? {} : { 'if-match': `"${ifMatch}"` },
      );
    },
    async deleteJob(name) {
      await call('DELETE', `/v1/jobs/${path(name)}`);
    },
    async killJob(name, runId) {
      await call('POST', `/v1/jobs/${path(name)}/kill`, runId === undefined ? {} : { runId });
    },
    async runJobNow(name) {
      await call('POST', `/v1/jobs/${path(name)}/run`, {});
    },
    runsOfJob(name, { limit, before }) {
      const query = new URLSearchParams({ limit: String(limit) });
      if (before !== undefined) query.set('before', before);
      return get(`/v1/jobs/${path(name)}/runs?${query}`, readRunPage);
    },
    run: (runId) => get(`/v1/runs/${path(runId)}`, readRunResponse),
    running: () => get('/v1/running', readRunning),
    workers: () => get('/v1/workers', readWorkers),
    async cronNext(expr, timezone, count) {
      const query = new URLSearchParams({ expr, tz: timezone, count: String(count) });
      const next = await get(`/v1/cron/next?${query}`, readCronNext);
      return next.map((iso) => Date.parse(iso));
    },
  };
}
