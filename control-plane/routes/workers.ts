/** `/v1/workers`: the registered agents. */
import { Hono } from 'hono';
import type { WorkersResponse } from '../../core/api.ts';
import type { AppEnv } from '../auth.ts';
import type { WorkerDirectory } from '../ports.ts';

export function workerRoutes(workers: WorkerDirectory): Hono<AppEnv> {
  return new Hono<AppEnv>().get('/workers', async (c) =>
    c.json({ workers: await workers.list() } satisfies WorkersResponse),
  );
}
