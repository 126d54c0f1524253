/** Run logs: `/v1/jobs/:name/runs` (pages, newest first) and `/v1/runs/:runId` (full output). */
import { Hono } from 'hono';
import type { RunResponse } from '../../core/api.ts';
import { DEFAULT_RUNS_PAGE_SIZE, MAX_RUNS_PAGE_SIZE, decodeRunCursor } from '../../core/api.ts';
import { CronplaneError } from '../../core/errors.ts';
import { invalidField } from '../../core/wire.ts';
import type { AppEnv } from '../auth.ts';
import type { RunLogReader } from '../ports.ts';
import { integerQuery, jobNameParam, runIdParam } from '../request.ts';

export function runRoutes(runLogs: RunLogReader): Hono<AppEnv> {
  const routes = new Hono<AppEnv>();

  routes.get('/jobs/:name/runs', async (c) => {
    const name = jobNameParam(c);
    const limit = integerQuery(c, 'limit', {
      min: 1,
      max: MAX_RUNS_PAGE_SIZE,
      fallback: DEFAULT_RUNS_PAGE_SIZE,
    });
    const beforeText = c.req.query('before');
    if (beforeText === undefined) return c.json(await runLogs.runsOfJob(name, { limit }));
    const before = decodeRunCursor(beforeText);
    if (!before) throw invalidField('before', 'must be the nextCursor of a previous page');
    return c.json(await runLogs.runsOfJob(name, { limit, before }));
  });

  routes.get('/runs/:runId', async (c) => {
    const runId = runIdParam(c);
    const run = await runLogs.run(runId);
    if (!run) throw new CronplaneError('not_found', `run "${runId}" does not exist`);
    return c.json({ run } satisfies RunResponse);
  });

  return routes;
}
