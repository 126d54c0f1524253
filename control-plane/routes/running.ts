/** `/v1/running`: runs in flight now, as agents record them in etcd. */
import { Hono } from 'hono';
import type { RunningResponse } from '../../core/api.ts';
import type { AppEnv } from '../auth.ts';
import type { JobStore } from '../ports.ts';

export function runningRoutes(jobs: JobStore): Hono<AppEnv> {
  return new Hono<AppEnv>().get('/running', async (c) =>
    c.json({ running: await jobs.listRunning() } satisfies RunningResponse),
  );
}
