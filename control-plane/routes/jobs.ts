/** `/v1/jobs`: list, read, create or replace, delete, kill, run now. */
import { Hono } from 'hono';
import type { JobListResponse, JobView } from '../../core/api.ts';
import type { KillRequest, ManualTrigger } from '../../core/coordination.ts';
import type { FieldError } from '../../core/errors.ts';
import { CronplaneError, ValidationError } from '../../core/errors.ts';
import { validateJob } from '../../core/job.ts';
import { isValidRunId } from '../../core/names.ts';
import { expectRecord, invalidField, isRecord } from '../../core/wire.ts';
import type { AppEnv } from '../auth.ts';
import type { ControlPlanePorts } from '../ports.ts';
import { etag, ifMatchHeader, jobNameParam, readJsonBody } from '../request.ts';

export interface JobRoutesDeps {
  readonly ports: ControlPlanePorts;
  readonly now: () => number;
}

export function jobRoutes({ ports, now }: JobRoutesDeps): Hono<AppEnv> {
  const routes = new Hono<AppEnv>();

  routes.get('/jobs', async (c) => {
    const stored = await ports.jobs.list();
    const lastRuns = await ports.runLogs.lastRuns(stored.map((s) => s.job.name));
    const lastRunByName = new Map(lastRuns.map((run) => [run.jobName, run]));
    const jobs: JobView[] = stored.map((s) => ({
      ...s,
      lastRun: lastRunByName.get(s.job.name) ?? null,
    }));
    return c.json({ jobs } satisfies JobListResponse);
  });

  routes.get('/jobs/:name', async (c) => {
    const name = jobNameParam(c);
    const stored = await ports.jobs.get(name);
    if (!stored) throw new CronplaneError('not_found', `job "${name}" does not exist`);
    const [lastRun] = await ports.runLogs.lastRuns([name]);
    c.header('ETag', etag(stored.revision));
    return c.json({ ...stored, lastRun: lastRun ?? null } satisfies JobView);
  });

  routes.put('/jobs/:name', async (c) => {
    const name = jobNameParam(c);
    const ifMatch = ifMatchHeader(c);
    const body = await readJsonBody(c);
    const errors: FieldError[] = [];
    if (isRecord(body) && body.name !== undefined && body.name !== name) {
      errors.push({ field: 'name', message: `must equal the name in the URL ("${name}")` });
    }
    const result = validateJob(isRecord(body) ? { ...body, name } : body);
    if (!result.ok) errors.push(...result.errors);
    if (!result.ok || errors.length > 0) throw new ValidationError('invalid job', errors);
    const job = { ...result.job, updatedAt: now() };
    const { job: stored, created } = await ports.jobs.put(
      job,
      ifMatch === undefined ? {} : { ifMatch },
    );
    c.header('ETag', etag(stored.revision));
    return c.json(stored, created ? 201 : 200);
  });

  routes.delete('/jobs/:name', async (c) => {
    await ports.jobs.delete(jobNameParam(c));
    return c.body(null, 204);
  });

  routes.post('/jobs/:name/kill', async (c) => {
    const name = jobNameParam(c);
    const { runId } = expectRecord(await readJsonBody(c, {}), '', ['runId']);
    if (runId !== undefined && !isValidRunId(runId)) {
      throw invalidField('runId', 'must be the id of a run of this job');
    }
    const request: KillRequest = {
      requestedAt: now(),
      requestedBy: c.get('principal').name,
      ...(runId !== undefined ? { runId } : {}),
    };
    await ports.jobs.kill(name, request);
    return c.json({ job: name, request }, 202);
  });

  // Answers once an agent has claimed the run (202 with its runId), so a caller learns at once
  // when nobody could: 503, and the request is withdrawn rather than left to fire later.
  routes.post('/jobs/:name/run', async (c) => {
    const name = jobNameParam(c);
    expectRecord(await readJsonBody(c, {}), '', []);
    const trigger: ManualTrigger = {
      runId: crypto.randomUUID(),
      requestedAt: now(),
      requestedBy: c.get('principal').name,
    };
    await ports.jobs.runNow(name, trigger);
    return c.json({ job: name, runId: trigger.runId, requestedBy: trigger.requestedBy }, 202);
  });

  return routes;
}
