/** `/healthz`: the one unauthenticated route; 503 when a dependency is unreachable. */
import { Hono } from 'hono';
import type { AppEnv } from '../auth.ts';
import type { HealthProbe } from '../ports.ts';

export function healthRoutes(health: HealthProbe): Hono<AppEnv> {
  return new Hono<AppEnv>().get('/healthz', async (c) => {
    const report = await health.check();
    return c.json(report, report.ok ? 200 : 503);
  });
}
