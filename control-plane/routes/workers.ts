/** `/v1/workers`: the agents registered in etcd, merged with their live health. */
import { Hono } from 'hono';
import type { WorkerView, WorkersResponse } from '../../core/api.ts';
import type { WorkerRegistration } from '../../core/coordination.ts';
import type { AgentHealthView } from '../../core/health.ts';
import type { AppEnv } from '../auth.ts';
import type { HealthHub, WorkerDirectory } from '../ports.ts';

/** Registered agents with their health, then agents only the hub knows; by agentId. */
export function mergeWorkers(
  registrations: readonly WorkerRegistration[],
  health: readonly AgentHealthView[],
): WorkerView[] {
  const healthById = new Map(health.map((view) => [view.agentId, view]));
  const registered: WorkerView[] = registrations.map((registration) => ({
    ...registration,
    registered: true,
    health: healthById.get(registration.agentId) ?? null,
  }));
  const registeredIds = new Set(registrations.map((registration) => registration.agentId));
  const hubOnly: WorkerView[] = health
    .filter((view) => !registeredIds.has(view.agentId))
    .map((view) => ({
      agentId: view.agentId,
      host: view.host,
      ip: null,
      pid: null,
      version: view.version,
      labels: view.labels,
      startedAt: view.startedAt,
      registered: false,
      health: view,
    }));
  return [...registered, ...hubOnly].sort((a, b) =>
    a.agentId < b.agentId ? -1 : a.agentId > b.agentId ? 1 : 0,
  );
}

export function workerRoutes(workers: WorkerDirectory, hub: HealthHub): Hono<AppEnv> {
  return new Hono<AppEnv>().get('/workers', async (c) => {
    const [registrations, health] = await Promise.all([workers.list(), hub.list()]);
    return c.json({ workers: mergeWorkers(registrations, health) } satisfies WorkersResponse);
  });
}
